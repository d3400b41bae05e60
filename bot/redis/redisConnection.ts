/**
 * One way to open a Redis connection, for every part of Waypoint that uses Redis (storage, the
 * handover desk, Direct Line, Telegram's polling lease). The connection retries with back-off
 * for ever; a command issued while Redis is down waits for one reconnection attempt at most and
 * then fails, so a turn fails fast and says live chat is unavailable rather than hang. Errors are logged by code only; Redis error messages
 * can quote a command, and a command can carry a key.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../privacy/logger.js';

export interface RedisConnectionOptions {
  readonly log: Logger;
  /** Shown in logs and in `CLIENT LIST`, e.g. "storage" or "bus". */
  readonly name: string;
}

/** Longest wait between reconnection attempts. */
const MAX_RETRY_DELAY_MS = 2000;
/** A command gets this long before it fails, so a stalled Redis cannot hold a turn. */
const COMMAND_TIMEOUT_MS = 2000;

export function connectRedis(url: string, { log, name }: RedisConnectionOptions): Redis {
  const redis = new Redis(url, {
    connectionName: `waypoint-${name}`,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), MAX_RETRY_DELAY_MS),
  });
  let down = false;
  let everReady = false;
  const wentDown = (code: string) => {
    if (down) return;
    down = true;
    log.warn({ event: 'redis.unavailable', connection: name, code });
  };
  redis.on('error', (error: NodeJS.ErrnoException) => wentDown(error.code ?? 'UNKNOWN'));
  // A connection lost without an error (a quick restart) is still an outage; a deliberate quit
  // does not reconnect, so it is not logged as one.
  redis.on('reconnecting', () => {
    if (everReady) wentDown('CONNECTION_LOST');
  });
  redis.on('ready', () => {
    everReady = true;
    if (!down) return;
    down = false;
    log.info({ event: 'redis.recovered', connection: name });
  });
  return redis;
}
