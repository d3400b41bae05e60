/**
 * What a turn can still read while the shared store is down. The store here is botbuilder's
 * MemoryStorage behind a switch that makes every call fail as Redis storage does when Redis is
 * unreachable (tests/storage/redisOutage.test.ts does the same with a real redis-server).
 */
import { beforeEach, describe, expect, it } from '@jest/globals';
import { keepLastKnownState } from '../../bot/storage/lastKnownState.js';
import { StorageError } from '../../bot/storage/storageError.js';
import type { WaypointStorage } from '../../bot/storage/waypointStorage.js';
import { memoryWaypointStorage } from '../privacy/memoryWaypointStorage.js';

const CONVERSATION = 'conversation/abc';
const USER = 'user/def';

function switchableStore(): { store: WaypointStorage; down(): void; up(): void } {
  const memory = memoryWaypointStorage();
  let available = true;
  const guarded = <T>(call: () => Promise<T>): Promise<T> =>
    available ? call() : Promise.reject(new StorageError('STORAGE_UNAVAILABLE', 'Storage: Redis is unavailable.'));
  return {
    store: {
      read: (keys) => guarded(() => memory.read(keys)),
      write: (changes) => guarded(() => memory.write(changes)),
      delete: (keys) => guarded(() => memory.delete(keys)),
      deleteIdleSince: (cutoff) => guarded(() => memory.deleteIdleSince(cutoff)),
      ping: () => guarded(() => memory.ping()),
      close: () => memory.close(),
    },
    down: () => (available = false),
    up: () => (available = true),
  };
}

describe('the last known state while the store is unavailable', () => {
  let backend: ReturnType<typeof switchableStore>;
  let clock: number;
  let storage: WaypointStorage;

  beforeEach(() => {
    backend = switchableStore();
    clock = 1_000_000;
    storage = keepLastKnownState(backend.store, { maxItems: 3, maxAgeMs: 60_000, now: () => clock });
  });

  it('answers a read from the state last read, without an eTag, and knows which keys did not exist', async () => {
    await storage.write({ [CONVERSATION]: { stack: ['module'] } });
    await storage.read([CONVERSATION, USER]);
    backend.down();

    await expect(storage.read([CONVERSATION, USER])).resolves.toEqual({ [CONVERSATION]: { stack: ['module'] } });
  });

  it('carries on from what a failed write meant to save', async () => {
    await storage.read([CONVERSATION]);
    backend.down();

    await expect(storage.write({ [CONVERSATION]: { stepId: 'second', eTag: '1' } })).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });

    await expect(storage.read([CONVERSATION])).resolves.toEqual({ [CONVERSATION]: { stepId: 'second' } });
  });

  it('gives out copies: changing what a read returned does not change what is remembered', async () => {
    await storage.write({ [CONVERSATION]: { stack: ['module'] } });
    backend.down();
    const first = await storage.read([CONVERSATION]);
    (first[CONVERSATION] as { stack: string[] }).stack.push('changed');

    await expect(storage.read([CONVERSATION])).resolves.toEqual({ [CONVERSATION]: { stack: ['module'] } });
  });

  it('still fails a read that asks for any key it has not seen', async () => {
    await storage.read([CONVERSATION]);
    backend.down();

    await expect(storage.read([CONVERSATION, USER])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });

  it('does not use a state older than its limit, nor more keys than its limit', async () => {
    await storage.read(['a', 'b', 'c', 'd']);
    clock += 30_000;
    await storage.read([CONVERSATION]);
    backend.down();

    await expect(storage.read(['a'])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(storage.read(['d'])).resolves.toEqual({});
    clock += 30_001;
    await expect(storage.read(['d'])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(storage.read([CONVERSATION])).resolves.toEqual({});
  });

  it('forgets a deleted key even when the store cannot be reached to delete it', async () => {
    await storage.write({ [USER]: { locale: 'en' } });
    backend.down();

    await expect(storage.delete([USER])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });

    await expect(storage.read([USER])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });

  it('never keeps aggregate counts', async () => {
    await storage.write({ 'aggregates/2030-01-01': { counts: { a: 1 } } });
    backend.down();

    await expect(storage.read(['aggregates/2030-01-01'])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });

  it('reads from the store again as soon as it is back', async () => {
    await storage.write({ [CONVERSATION]: { from: 'before' } });
    backend.down();
    await storage.write({ [CONVERSATION]: { from: 'outage' } }).catch(() => undefined);
    backend.up();
    await backend.store.write({ [CONVERSATION]: { from: 'another instance' } });

    await expect(storage.read([CONVERSATION])).resolves.toMatchObject({ [CONVERSATION]: { from: 'another instance' } });
  });

  it('passes other failures through without answering from memory', async () => {
    await storage.write({ [CONVERSATION]: { visits: 1 } });
    const stale = { visits: 2, eTag: 'not-the-current-one' };

    await expect(storage.write({ [CONVERSATION]: stale })).rejects.toThrow(/eTag/);
    backend.down();
    await expect(storage.read([CONVERSATION])).resolves.toEqual({ [CONVERSATION]: { visits: 1 } });
  });
});
