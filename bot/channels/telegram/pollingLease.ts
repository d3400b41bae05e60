/**
 * With several instances in polling mode, only one may ask Telegram for updates: two pollers
 * make Telegram answer 409 and each confirms (and so loses) updates the other took in. A lease
 * in Redis says which instance polls: taken with SET NX PX, renewed by its holder, given back
 * when it stops; the others try now and then, and at once when told it was given back. A holder
 * that finds its lease gone (it lapsed while Redis was away and another took it) stops polling.
 * The key holds an instance id, nothing else.
 */
import type { Logger } from '../../privacy/logger.js';
import type { InstanceBus } from '../../redis/instanceBus.js';

const RENEW = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RELEASED_TOPIC = 'tg:lease:released';

export interface PollingLeaseOptions {
  readonly bus: InstanceBus;
  readonly keyPrefix: string;
  /** One lease per bot: its numeric id (public: it starts the token, and getMe says it). */
  readonly botId: number;
  readonly log: Logger;
  /** This instance holds the lease now: start polling. */
  readonly onTaken: () => void;
  /** It lost the lease: stop polling. */
  readonly onLost: () => Promise<void>;
  /** How long the lease lasts unrenewed: how long updates wait when a holder crashes. */
  readonly ttlMs?: number;
  /** How often an instance without the lease tries to take it. */
  readonly retryMs?: number;
}

export interface PollingLease {
  /** Whether this instance polls now. */
  readonly held: boolean;
  /** Stops taking and renewing the lease; a lease held stays held until `release`. */
  pause(): Promise<void>;
  /** Gives the lease back if held (once polling has stopped), and tells the other instances at once. */
  release(): Promise<void>;
}

export function startPollingLease(options: PollingLeaseOptions): PollingLease {
  const { bus, log, ttlMs = 30_000, retryMs = 5_000 } = options;
  const { redis, instanceId } = bus;
  const key = `${options.keyPrefix}tg:poller:${options.botId}`;
  let held = false;
  let paused = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopListening: (() => void) | undefined;

  async function attempt(): Promise<void> {
    if (paused) return;
    try {
      if (!held) {
        if ((await redis.set(key, instanceId, 'PX', ttlMs, 'NX')) !== 'OK') return;
        held = true;
        log.info({ event: 'telegram.leaseTaken' });
        options.onTaken();
      } else if ((await redis.eval(RENEW, 1, key, instanceId, ttlMs)) !== 1) {
        held = false;
        log.warn({ event: 'telegram.leaseLost' });
        await options.onLost();
      }
    } catch {
      // Redis is away (connectRedis says so once): a holder keeps polling, Telegram itself allows one poller.
    } finally {
      schedule();
    }
  }

  function schedule(delayMs = held ? ttlMs / 3 : retryMs): void {
    clearTimeout(timer);
    if (paused) return;
    timer = setTimeout(() => (running = attempt()), delayMs);
    timer.unref();
  }

  bus
    .subscribe(RELEASED_TOPIC, () => {
      if (!held && !paused) schedule(0);
    })
    .then(
      (stop) => (paused ? stop() : (stopListening = stop)),
      () => undefined,
    );
  running = attempt();

  return {
    get held() {
      return held;
    },
    async pause() {
      paused = true;
      clearTimeout(timer);
      stopListening?.();
      await running;
    },
    async release() {
      if (!held) return;
      held = false;
      try {
        if ((await redis.eval(RELEASE, 1, key, instanceId)) === 1) await bus.publish(RELEASED_TOPIC, {});
        log.info({ event: 'telegram.leaseReleased' });
      } catch {
        // It lapses by itself within ttlMs.
      }
    },
  };
}
