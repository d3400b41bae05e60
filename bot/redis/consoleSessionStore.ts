/**
 * Console sign-ins in Redis, so a counsellor signed in through one instance is signed in on all
 * of them (behind a balancer without sticky sessions): each session under the SHA-256 of its
 * token, never the token itself, expiring when idle; and the failed sign-ins per name (also
 * hashed) that lock a name against password guessing on every instance at once.
 */
import type { Redis } from 'ioredis';

export interface StoredSession {
  readonly name: string;
  readonly role: 'counsellor' | 'supervisor';
  readonly csrfToken: string;
  readonly startedAt: number;
  readonly lastSeenAt: number;
}

export interface ConsoleSessionStore {
  get(id: string): Promise<StoredSession | undefined>;
  /** Writes the session; Redis forgets it after `idleMs` unless written again. */
  put(id: string, session: StoredSession, idleMs: number): Promise<void>;
  /** True when there was such a session. */
  remove(id: string): Promise<boolean>;
  /** Ids of every session (some may have expired meanwhile). */
  ids(): Promise<string[]>;
  /** How long the name is still locked, in ms (0: not locked). */
  lockedFor(nameId: string): Promise<number>;
  /** Counts one failure at `at`, and returns the failures within the window before it (itself excluded). */
  addFailure(nameId: string, at: number, windowMs: number): Promise<number>;
  lock(nameId: string, forMs: number): Promise<void>;
  clearFailures(nameId: string): Promise<void>;
}

export function createConsoleSessionStore(redis: Redis, prefix: string): ConsoleSessionStore {
  const p = `${prefix}console:`;
  const sessionKey = (id: string) => `${p}session:${id}`;
  const allKey = `${p}sessions`;
  const attemptsKey = (nameId: string) => `${p}attempts:${nameId}`;
  const lockKey = (nameId: string) => `${p}locked:${nameId}`;

  return {
    async get(id) {
      const value = await redis.get(sessionKey(id));
      if (!value) {
        await redis.srem(allKey, id);
        return undefined;
      }
      return JSON.parse(value) as StoredSession;
    },
    async put(id, session, idleMs) {
      await redis.multi().set(sessionKey(id), JSON.stringify(session), 'PX', Math.max(1, Math.round(idleMs))).sadd(allKey, id).exec();
    },
    async remove(id) {
      const replies = await redis.multi().del(sessionKey(id)).srem(allKey, id).exec();
      return replies?.[0]?.[1] === 1;
    },
    ids: () => redis.smembers(allKey),
    async lockedFor(nameId) {
      return Math.max(0, await redis.pttl(lockKey(nameId)));
    },
    async addFailure(nameId, at, windowMs) {
      const key = attemptsKey(nameId);
      const replies = await redis
        .multi()
        .zremrangebyscore(key, '-inf', String(at - windowMs))
        .zcard(key)
        .zadd(key, at, `${at}-${Math.random().toString(36).slice(2)}`)
        .pexpire(key, windowMs)
        .exec();
      return Number(replies?.[1]?.[1] ?? 0);
    },
    async lock(nameId, forMs) {
      await redis.multi().set(lockKey(nameId), '1', 'PX', Math.max(1, Math.round(forMs))).del(attemptsKey(nameId)).exec();
    },
    async clearFailures(nameId) {
      await redis.del(attemptsKey(nameId));
    },
  };
}
