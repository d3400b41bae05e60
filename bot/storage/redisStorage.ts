import { randomUUID } from 'node:crypto';
import type { StoreItems } from 'botbuilder';
import type { Redis } from 'ioredis';
import { connectRedis } from '../redis/redisConnection.js';
import type { Logger } from '../privacy/logger.js';
import { StorageError } from './storageError.js';
import { assertKey, assertKeys, eTagOf, hashedKey, isPlainObject, toJsonValue } from './storedItems.js';
import { LASTING_PREFIX, type WaypointStorage } from './waypointStorage.js';

export interface RedisStorageOptions {
  /** redis:// or rediss:// URL. Never logged: it can hold a password. */
  readonly url: string;
  /** Put before every key this store writes (`<prefix>state:<sha-256>`), e.g. "waypoint:". */
  readonly prefix: string;
  /** Every write sets this expiry; Redis deletes what nobody wrote to for this long. */
  readonly retentionDays: number;
  readonly log: Logger;
}

/** What one Redis value holds. The key is kept so a value can never answer for another key. */
interface StoredRecord {
  key: string;
  eTag: string;
  value: Record<string, unknown>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const WRITE_COMMAND = 'waypointWriteIfETag';

/**
 * The eTag check and the write in one step on the server, so two instances writing the same
 * key cannot both pass the check (MemoryStorage's rule: a missing item, no eTag or '*' always
 * writes). A value that is not one of our records for this key counts as missing, as in lowdb.
 * Plain SET without PX drops an earlier expiry, which is what a lasting key needs.
 *   KEYS[1] the Redis key; ARGV: expected eTag ('' for none), new record, expiry in ms ('0' for none), the item's key
 */
const WRITE_IF_ETAG_LUA = `
local expected = ARGV[1]
if expected ~= '' then
  local current = redis.call('GET', KEYS[1])
  if current then
    local ok, record = pcall(cjson.decode, current)
    if ok and type(record) == 'table' and record.key == ARGV[4] and record.eTag ~= expected then
      return 0
    end
  end
end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
`;

interface WithWriteCommand {
  [WRITE_COMMAND](redisKey: string, expectedETag: string, record: string, expiryMs: string, key: string): Promise<number>;
}

/**
 * The backend for several instances: state in Redis, eTags checked atomically on the server, and
 * retention done by Redis expiry (every write renews it; `aggregates/` keys never expire), so
 * there is nothing to sweep. Keys are hashed, as in lowdb, so no key text appears in `SCAN` or
 * `MONITOR` key names. Multi-key commands assume one Redis, not a cluster.
 *
 * While Redis is down every call rejects with `STORAGE_UNAVAILABLE`: at once between
 * reconnection attempts, otherwise within the connection's command timeout. The connection
 * keeps reconnecting with back-off, and calls work again as soon as it is back.
 */
export function createRedisStorage(options: RedisStorageOptions): WaypointStorage {
  const { prefix, log } = options;
  const expiryMs = Math.round(options.retentionDays * DAY_MS);
  if (!(expiryMs >= 1)) throw new RangeError('retentionDays must be a positive number');
  const redis: Redis = connectRedis(options.url, { log, name: 'storage' });
  redis.defineCommand(WRITE_COMMAND, { numberOfKeys: 1, lua: WRITE_IF_ETAG_LUA });
  const writeIfETag = (redis as unknown as WithWriteCommand)[WRITE_COMMAND].bind(redis);

  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  let closing: Promise<void> | undefined;

  const redisKeyOf = (key: string): string => `${prefix}state:${hashedKey(key)}`;

  /** Runs one call: refused after close, counted for close(), and Redis failures become STORAGE_UNAVAILABLE. */
  function operation<T>(run: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new StorageError('STORAGE_CLOSED', 'Storage: closed; no reads or writes after close().'));
    // Once a connection is lost, waiting for the next reconnection attempt (up to the command
    // timeout) would only make a person wait for the same answer.
    if (redis.status === 'reconnecting') return Promise.reject(unavailable());
    const running = run().catch((error: unknown) => {
      if (error instanceof StorageError) throw error;
      throw unavailable();
    });
    inFlight.add(running);
    void running.then(noop, noop).then(() => inFlight.delete(running));
    return running;
  }

  function read(keys: string[]): Promise<StoreItems> {
    return operation(async () => {
      assertKeys(keys);
      const items: StoreItems = {};
      if (keys.length === 0) return items;
      const values = await redis.mget(keys.map(redisKeyOf));
      keys.forEach((key, i) => {
        // A fresh parse per read is the deep copy: callers never share objects with each other.
        const record = parseRecord(values[i], key);
        if (record) items[key] = { ...record.value, eTag: record.eTag };
      });
      return items;
    });
  }

  function write(changes: StoreItems): Promise<void> {
    return operation(async () => {
      if (!changes || typeof changes !== 'object') {
        throw new StorageError('STORAGE_INVALID_CHANGES', 'Storage: changes are required when writing.');
      }
      // Validate every item before writing any, so a bad value never leaves a half-written batch.
      const prepared = Object.entries(changes).map(([key, item]) => {
        assertKey(key);
        const expected = eTagOf(item);
        const record: StoredRecord = { key, eTag: randomUUID(), value: toJsonValue(item) };
        return {
          key,
          expected: expected === undefined || expected === '*' ? '' : expected,
          record: JSON.stringify(record),
          expiry: key.startsWith(LASTING_PREFIX) ? '0' : String(expiryMs),
        };
      });
      const outcomes = await Promise.allSettled(
        prepared.map(async ({ key, expected, record, expiry }) => {
          const written = await writeIfETag(redisKeyOf(key), expected, record, expiry, key);
          if (written !== 1) {
            throw new StorageError('STORAGE_ETAG_CONFLICT', 'Storage: error writing a stored item due to eTag conflict.');
          }
        }),
      );
      // Like MemoryStorage, the other keys of a batch are still written when one conflicts.
      const failure = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failure) throw failure.reason;
    });
  }

  function deleteKeys(keys: string[]): Promise<void> {
    return operation(async () => {
      assertKeys(keys);
      if (keys.length > 0) await redis.del(...keys.map(redisKeyOf));
    });
  }

  // Redis expiry already removes what is idle longer than the retention period, so the sweep
  // has nothing to do and does not even need Redis (no alarm every hour during an outage).
  async function deleteIdleSince(cutoff: Date): Promise<number> {
    if (closed) throw new StorageError('STORAGE_CLOSED', 'Storage: closed; no reads or writes after close().');
    if (!(cutoff instanceof Date) || Number.isNaN(cutoff.getTime())) {
      throw new StorageError('STORAGE_INVALID_CUTOFF', 'Storage: deleteIdleSince needs a valid Date.');
    }
    return 0;
  }

  function ping(): Promise<void> {
    return operation(async () => {
      await redis.ping();
    });
  }

  function close(): Promise<void> {
    closed = true;
    closing ??= (async () => {
      await Promise.all([...inFlight].map((pending) => pending.then(noop, noop)));
      // quit() waits for Redis to answer; when it is down there is nothing left to say to it.
      if (redis.status === 'ready') await redis.quit().catch(noop);
      redis.disconnect();
    })();
    return closing;
  }

  return { read, write, delete: deleteKeys, deleteIdleSince, ping, close };
}

function unavailable(): StorageError {
  return new StorageError('STORAGE_UNAVAILABLE', 'Storage: Redis is unavailable; nothing was read or written.');
}

function parseRecord(text: string | null | undefined, expectedKey: string): StoredRecord | undefined {
  if (typeof text !== 'string') return undefined;
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(record) || typeof record.eTag !== 'string' || !isPlainObject(record.value)) return undefined;
  // Guards against a value copied by hand (or a hash collision) answering for another key.
  if (record.key !== expectedKey) return undefined;
  return record as unknown as StoredRecord;
}

function noop(): void {}
