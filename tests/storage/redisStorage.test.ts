/**
 * The Redis backend against a real redis-server on a loopback port: the same contract as lowdb
 * (with expiry instead of a sweep), eTags held between two connections, hashed key names, and
 * what happens while Redis is down and after it comes back.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { connectRedis } from '../../bot/redis/redisConnection.js';
import { createRedisStorage } from '../../bot/storage/redisStorage.js';
import type { WaypointStorage } from '../../bot/storage/waypointStorage.js';
import { captureLog } from '../support/capturedLog.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer.js';
import { runStorageContract } from './storageContract.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const RETENTION_DAYS = 30;
/** The connection's command timeout (bot/redis/redisConnection.ts) plus room for a busy machine. */
const FAIL_FAST_MS = 3000;

let prefixes = 0;
const freshPrefix = (): string => `test${++prefixes}-${process.pid}:`;
const redisKeyOf = (prefix: string, key: string): string => `${prefix}state:${createHash('sha256').update(key).digest('hex')}`;

async function keysUnder(admin: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown }).code;
}

describeWithRedis('Redis storage', () => {
  let server: RedisServer;
  let admin: Redis;
  const { log } = captureLog();

  beforeAll(async () => {
    server = await startRedisServer();
    admin = connectRedis(server.url, { log, name: 'test-admin' });
  });

  afterAll(async () => {
    await admin.quit();
    await server.stop();
  });

  function open(prefix: string, retentionDays = RETENTION_DAYS): WaypointStorage {
    return createRedisStorage({ url: server.url, prefix, retentionDays, log });
  }

  runStorageContract(
    'redis',
    async () => {
      const prefix = freshPrefix();
      const storage = open(prefix);
      return {
        storage,
        reopen: async () => open(prefix),
        cleanup: async () => {
          await storage.close();
          const keys = await keysUnder(admin, prefix);
          if (keys.length > 0) await admin.del(...keys);
        },
        expiry: {
          retentionMs: RETENTION_DAYS * DAY_MS,
          async remainingMs(key) {
            const ttl = await admin.pttl(redisKeyOf(prefix, key));
            if (ttl === -2) throw new Error('no such key in Redis');
            return ttl === -1 ? undefined : ttl;
          },
        },
      };
    },
    { retention: 'expiry' },
  );

  describe('in Redis', () => {
    let prefix: string;
    let storage: WaypointStorage;

    beforeEach(() => {
      prefix = freshPrefix();
      storage = open(prefix);
    });

    afterEach(async () => {
      await storage.close();
    });

    it('lets exactly one of two connections win each conflicting write', async () => {
      const other = open(prefix);
      try {
        await storage.write({ 'webchat/users/a': { writer: 'none', round: 0 } });
        for (let round = 1; round <= 20; round++) {
          const base = (await storage.read(['webchat/users/a']))['webchat/users/a'];
          const outcomes = await Promise.allSettled([
            storage.write({ 'webchat/users/a': { ...base, writer: 'first', round } }),
            other.write({ 'webchat/users/a': { ...base, writer: 'second', round } }),
          ]);

          const won = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [i === 0 ? 'first' : 'second'] : []));
          const lost = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [codeOf(outcome.reason)] : []));
          expect(won).toHaveLength(1);
          expect(lost).toEqual(['STORAGE_ETAG_CONFLICT']);
          expect((await other.read(['webchat/users/a']))['webchat/users/a']).toMatchObject({ writer: won[0], round });
        }
      } finally {
        await other.close();
      }
    });

    it('names every Redis key <prefix>state:<sha-256>, with no key text in it', async () => {
      const canary = 'CANARY-5d1f-private';
      await storage.write({ [`telegram/users/${canary}`]: { n: 1 }, [`${canary}/conversations/x`]: { n: 2 }, 'aggregates/2030-01-01': { counts: {} } });

      const names = await keysUnder(admin, prefix);

      expect(names).toHaveLength(3);
      for (const name of names) {
        expect(name).toMatch(new RegExp(`^${prefix}state:[0-9a-f]{64}$`));
        expect(name).not.toContain(canary);
      }
    });

    it('keeps key, eTag and value in each Redis value', async () => {
      await storage.write({ 'telegram/users/a': { locale: 'en' } });

      const stored = JSON.parse((await admin.get(redisKeyOf(prefix, 'telegram/users/a')))!) as unknown;

      expect(stored).toEqual({ key: 'telegram/users/a', eTag: expect.any(String), value: { locale: 'en' } });
    });

    it('reads a value that is not one of its records as missing, and lets a write replace it', async () => {
      await storage.write({ 'telegram/users/a': { n: 1 } });
      await admin.set(redisKeyOf(prefix, 'telegram/users/a'), '{"key": "telegram/users/a", "eTag": "1", "val');

      await expect(storage.read(['telegram/users/a'])).resolves.toEqual({});

      await storage.write({ 'telegram/users/a': { n: 2, eTag: 'whatever-the-caller-last-saw' } });
      await expect(storage.read(['telegram/users/a'])).resolves.toEqual({ 'telegram/users/a': { n: 2, eTag: expect.any(String) } });
    });

    it('does not serve a value that belongs to another key', async () => {
      await storage.write({ 'telegram/users/a': { owner: 'a' }, 'telegram/users/b': { owner: 'b' } });
      await admin.set(redisKeyOf(prefix, 'telegram/users/b'), (await admin.get(redisKeyOf(prefix, 'telegram/users/a')))!);

      await expect(storage.read(['telegram/users/b'])).resolves.toEqual({});
    });

    it('lets Redis delete an item nobody wrote to for the retention period, and keeps aggregates', async () => {
      const shortLived = open(prefix, 400 / DAY_MS);
      try {
        await shortLived.write({ 'telegram/users/idle': { n: 1 }, 'telegram/users/busy': { n: 1 }, 'aggregates/2030-01-01': { counts: { a: 1 } } });
        await new Promise((resolve) => setTimeout(resolve, 250));
        await shortLived.write({ 'telegram/users/busy': { n: 2 } });
        await new Promise((resolve) => setTimeout(resolve, 250));

        const items = await shortLived.read(['telegram/users/idle', 'telegram/users/busy', 'aggregates/2030-01-01']);

        expect(Object.keys(items).sort()).toEqual(['aggregates/2030-01-01', 'telegram/users/busy']);
      } finally {
        await shortLived.close();
      }
    });
  });
});

describeWithRedis('Redis storage while Redis is down', () => {
  let server: RedisServer;
  let storage: WaypointStorage;
  const { log, text: logText } = captureLog();

  beforeAll(async () => {
    server = await startRedisServer();
    storage = createRedisStorage({ url: server.url, prefix: 'outage:', retentionDays: RETENTION_DAYS, log });
  });

  afterAll(async () => {
    await storage.close();
    await server.stop();
  });

  async function failure(call: () => Promise<unknown>): Promise<{ error: Error & { code?: string }; ms: number }> {
    const started = Date.now();
    const error = await call().then(
      () => {
        throw new Error('expected the call to fail while Redis is down');
      },
      (err: unknown) => err as Error & { code?: string },
    );
    return { error, ms: Date.now() - started };
  }

  it('rejects every call quickly with STORAGE_UNAVAILABLE and no key text, then works again once Redis is back', async () => {
    const canary = 'CANARY-0a7c-private';
    const key = `telegram/users/${canary}`;
    await storage.write({ [key]: { n: 1 } });
    const before = (await storage.read([key]))[key];

    await server.kill();

    const calls: (() => Promise<unknown>)[] = [
      () => storage.read([key]),
      () => storage.write({ [key]: { ...before, n: 2 } }),
      () => storage.write({ [key]: { n: 3 } }),
      () => storage.delete([key]),
      () => storage.ping(),
    ];
    // Expiry does retention, so the sweep has nothing to do and no reason to fail.
    await expect(storage.deleteIdleSince(new Date())).resolves.toBe(0);
    for (const call of calls) {
      const { error, ms } = await failure(call);
      expect(error.code).toBe('STORAGE_UNAVAILABLE');
      expect(`${error.message} ${error.stack} ${JSON.stringify(error)}`).not.toContain(canary);
      expect(ms).toBeLessThan(FAIL_FAST_MS);
    }

    await server.start();
    const deadline = Date.now() + 10_000;
    while (await storage.ping().then(() => false, () => Date.now() < deadline)) await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(storage.ping()).resolves.toBeUndefined();

    // Persistence is off: the restarted Redis is empty, and the eTag script is loaded again.
    await expect(storage.read([key])).resolves.toEqual({});
    await storage.write({ [key]: { n: 4 } });
    const after = (await storage.read([key]))[key];
    await storage.write({ [key]: { ...after, n: 5 } });
    await expect(storage.write({ [key]: { ...after, n: 6 } })).rejects.toMatchObject({ code: 'STORAGE_ETAG_CONFLICT' });
    expect((await storage.read([key]))[key]).toMatchObject({ n: 5 });

    expect(logText()).not.toContain(canary);
  }, 30_000);

  it('closes without waiting for a Redis that is down', async () => {
    const other = createRedisStorage({ url: server.url, prefix: 'outage:', retentionDays: RETENTION_DAYS, log });
    await other.ping();
    await server.kill();
    try {
      const pending = other.write({ 'telegram/users/x': { n: 1 } }).catch((error: unknown) => error);
      const started = Date.now();

      await other.close();

      expect(Date.now() - started).toBeLessThan(FAIL_FAST_MS);
      expect(codeOf(await pending)).toBe('STORAGE_UNAVAILABLE');
      await expect(other.read(['telegram/users/x'])).rejects.toMatchObject({ code: 'STORAGE_CLOSED' });
    } finally {
      await server.start();
    }
  }, 30_000);
});
