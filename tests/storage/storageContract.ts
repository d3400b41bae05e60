import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { StoreItem } from 'botbuilder';
import { LASTING_PREFIX, type WaypointStorage } from '../../bot/storage/waypointStorage.js';

/** One storage under test, plus how to open it again on the same data and how to throw it away. */
export interface StorageFixture {
  storage: WaypointStorage;
  /** Opens a second instance on the same data; the contract closes what it opens. */
  reopen?: () => Promise<WaypointStorage>;
  /** Closes `storage` (it may already be closed) and removes its data. */
  cleanup: () => Promise<void>;
  /** Required for a backend whose store expires items itself (see ContractOptions.retention). */
  expiry?: {
    /** The retention period the storage was opened with. */
    retentionMs: number;
    /** How long `key` has left before the store deletes it; undefined when it never expires. */
    remainingMs: (key: string) => Promise<number | undefined>;
  };
}

export interface ContractOptions {
  /**
   * 'sweep' (default): deleteIdleSince deletes what is idle, as lowdb does. 'expiry': the store
   * expires every item by itself (Redis), so the contract checks expiries instead.
   */
  retention?: 'sweep' | 'expiry';
}

const USER_KEY = 'msteams/users/3f9a';
const CONVERSATION_KEY = 'msteams/conversations/c0de';
const AGGREGATE_KEY = `${LASTING_PREFIX}2030-01-02`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The behaviour every backend owes the bot: botbuilder's MemoryStorage rules for reads, writes,
 * eTags and copies, plus retention and shutdown. Each backend's test file calls this once.
 */
export function runStorageContract(name: string, makeStorage: () => Promise<StorageFixture>, { retention = 'sweep' }: ContractOptions = {}): void {
  describe(`${name} storage contract`, () => {
    let fixture: StorageFixture;
    let storage: WaypointStorage;

    beforeEach(async () => {
      fixture = await makeStorage();
      storage = fixture.storage;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    async function readOne(key: string, from: WaypointStorage = storage): Promise<StoreItem | undefined> {
      const items = await from.read([key]);
      return items[key] as StoreItem | undefined;
    }

    describe('round trip', () => {
      it('reads back what was written, with an eTag', async () => {
        await storage.write({ [USER_KEY]: { locale: 'en', progress: { module: 'gaps', stepId: 'intro' } } });

        const item = await readOne(USER_KEY);

        expect(item).toEqual({ locale: 'en', progress: { module: 'gaps', stepId: 'intro' }, eTag: expect.any(String) });
        expect(item?.eTag).not.toBe('');
      });

      it('writes and reads several keys in one call', async () => {
        await storage.write({ [USER_KEY]: { locale: 'de' }, [CONVERSATION_KEY]: { dialogStack: [] } });

        const items = await storage.read([USER_KEY, CONVERSATION_KEY]);

        expect(Object.keys(items).sort()).toEqual([CONVERSATION_KEY, USER_KEY].sort());
        expect(items[USER_KEY]).toMatchObject({ locale: 'de' });
        expect(items[CONVERSATION_KEY]).toMatchObject({ dialogStack: [] });
      });

      it('returns only the keys it found', async () => {
        await storage.write({ [USER_KEY]: { locale: 'en' } });

        const items = await storage.read([USER_KEY, 'msteams/users/never-written']);

        expect(Object.keys(items)).toEqual([USER_KEY]);
      });

      it('returns an empty result for keys that were never written', async () => {
        await expect(storage.read(['msteams/users/never-written'])).resolves.toEqual({});
      });

      it('forgets deleted keys and leaves the others alone', async () => {
        await storage.write({ [USER_KEY]: { locale: 'en' }, [CONVERSATION_KEY]: { dialogStack: [] } });

        await storage.delete([USER_KEY]);

        const items = await storage.read([USER_KEY, CONVERSATION_KEY]);
        expect(Object.keys(items)).toEqual([CONVERSATION_KEY]);
      });

      it('accepts deleting keys that do not exist', async () => {
        await expect(storage.delete(['msteams/users/never-written'])).resolves.toBeUndefined();
      });

      it('treats keys with unusual characters as ordinary keys', async () => {
        const keys = ['a/../../b', 'ünïcödé/🙂', ' ', 'x'.repeat(1000), 'CON', '.hidden'];
        await storage.write(Object.fromEntries(keys.map((key, i) => [key, { i }])));

        const items = await storage.read(keys);

        keys.forEach((key, i) => expect(items[key]).toMatchObject({ i }));
      });
    });

    describe('eTags', () => {
      it('gives every successful write a new eTag', async () => {
        await storage.write({ [USER_KEY]: { visits: 1 } });
        const first = await readOne(USER_KEY);
        await storage.write({ [USER_KEY]: { ...first, visits: 2 } });
        const second = await readOne(USER_KEY);

        expect(second?.eTag).toEqual(expect.any(String));
        expect(second?.eTag).not.toBe(first?.eTag);
      });

      it('rejects a write with a stale eTag and keeps the stored value', async () => {
        await storage.write({ [USER_KEY]: { visits: 1 } });
        const stale = await readOne(USER_KEY);
        await storage.write({ [USER_KEY]: { ...stale, visits: 2 } });

        await expect(storage.write({ [USER_KEY]: { ...stale, visits: 99 } })).rejects.toThrow(/eTag conflict/);

        expect(await readOne(USER_KEY)).toMatchObject({ visits: 2 });
      });

      it('does not name the key in a conflict error', async () => {
        const key = 'msteams/users/canary-in-error-7c1e';
        await storage.write({ [key]: { visits: 1 } });

        const error = await storage.write({ [key]: { visits: 2, eTag: 'not-the-current-etag' } }).catch((err: unknown) => err);

        expect(error).toBeInstanceOf(Error);
        expect(String((error as Error).message)).not.toContain('canary');
      });

      it('accepts the current eTag', async () => {
        await storage.write({ [USER_KEY]: { visits: 1 } });
        const current = await readOne(USER_KEY);

        await storage.write({ [USER_KEY]: { ...current, visits: 2 } });

        expect(await readOne(USER_KEY)).toMatchObject({ visits: 2 });
      });

      it('overwrites unconditionally with eTag "*"', async () => {
        await storage.write({ [USER_KEY]: { visits: 1 } });
        await storage.write({ [USER_KEY]: { visits: 2 } });

        await storage.write({ [USER_KEY]: { visits: 3, eTag: '*' } });

        expect(await readOne(USER_KEY)).toMatchObject({ visits: 3 });
      });

      it('overwrites unconditionally without an eTag', async () => {
        await storage.write({ [USER_KEY]: { visits: 1 } });

        await storage.write({ [USER_KEY]: { visits: 2 } });

        expect(await readOne(USER_KEY)).toMatchObject({ visits: 2 });
      });

      // MemoryStorage's rule: an eTag only guards an item that exists.
      it('creates a missing item even when the write carries an eTag', async () => {
        await storage.write({ [USER_KEY]: { visits: 1, eTag: 'from-an-earlier-read' } });

        expect(await readOne(USER_KEY)).toMatchObject({ visits: 1 });
      });

      it('still writes the other keys of a batch when one key conflicts', async () => {
        await storage.write({ [USER_KEY]: { visits: 1 } });

        const batch = storage.write({
          [USER_KEY]: { visits: 2, eTag: 'stale' },
          [CONVERSATION_KEY]: { dialogStack: ['menu'] },
        });

        await expect(batch).rejects.toThrow(/eTag conflict/);
        expect(await readOne(USER_KEY)).toMatchObject({ visits: 1 });
        expect(await readOne(CONVERSATION_KEY)).toMatchObject({ dialogStack: ['menu'] });
      });

      it('lets exactly one of ten concurrent writers with the same eTag win', async () => {
        await storage.write({ [USER_KEY]: { writer: -1 } });
        const base = await readOne(USER_KEY);

        const outcomes = await Promise.allSettled(
          Array.from({ length: 10 }, (_, writer) => storage.write({ [USER_KEY]: { ...base, writer } })),
        );

        const winners = outcomes.flatMap((outcome, writer) => (outcome.status === 'fulfilled' ? [writer] : []));
        expect(winners).toHaveLength(1);
        expect(await readOne(USER_KEY)).toMatchObject({ writer: winners[0] });
      });

      it('completes concurrent writes to different keys', async () => {
        const keys = Array.from({ length: 50 }, (_, i) => `msteams/users/concurrent-${i}`);

        const outcomes = await Promise.allSettled(keys.map((key, i) => storage.write({ [key]: { i } })));

        expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
        const items = await storage.read(keys);
        keys.forEach((key, i) => expect(items[key]).toMatchObject({ i }));
      });
    });

    describe('copies', () => {
      it('is not changed by mutating an object after writing it', async () => {
        const written = { locale: 'en', answers: { worry: 3 } };
        await storage.write({ [USER_KEY]: written });

        written.locale = 'fr';
        written.answers.worry = 9;

        expect(await readOne(USER_KEY)).toMatchObject({ locale: 'en', answers: { worry: 3 } });
      });

      it('does not add an eTag to the object it was given', async () => {
        const written: StoreItem = { locale: 'en' };

        await storage.write({ [USER_KEY]: written });

        expect(written).toEqual({ locale: 'en' });
      });

      it('is not changed by mutating a read result', async () => {
        await storage.write({ [USER_KEY]: { locale: 'en', answers: { worry: 3 } } });
        const first = await readOne(USER_KEY);

        first!.locale = 'fr';
        (first!.answers as { worry: number }).worry = 9;

        expect(await readOne(USER_KEY)).toMatchObject({ locale: 'en', answers: { worry: 3 } });
      });

      it('gives two readers separate objects', async () => {
        await storage.write({ [USER_KEY]: { answers: { worry: 3 } } });

        const [a, b] = await Promise.all([readOne(USER_KEY), readOne(USER_KEY)]);

        expect(a).toEqual(b);
        expect(a).not.toBe(b);
        expect(a?.answers).not.toBe(b?.answers);
      });
    });

    describe('validation', () => {
      it('rejects an empty key on read, write and delete', async () => {
        await expect(storage.read([''])).rejects.toThrow(/key/);
        await expect(storage.write({ '': { a: 1 } })).rejects.toThrow(/key/);
        await expect(storage.delete([''])).rejects.toThrow(/key/);
      });

      it('rejects values that are not JSON and writes nothing from that batch', async () => {
        const circular: Record<string, unknown> = {};
        circular.self = circular;

        await expect(storage.write({ [USER_KEY]: { ok: true }, [CONVERSATION_KEY]: circular })).rejects.toThrow(/JSON/);
        await expect(storage.write({ [USER_KEY]: { big: BigInt(1) } })).rejects.toThrow(/JSON/);

        expect(await storage.read([USER_KEY, CONVERSATION_KEY])).toEqual({});
      });
    });

    if (retention === 'expiry') {
      describe('retention by expiry', () => {
        function expiryOf(key: string): Promise<number | undefined> {
          if (!fixture.expiry) throw new Error(`${name}: an expiry backend's fixture must say how to read expiries`);
          return fixture.expiry.remainingMs(key);
        }

        it('gives every written item an expiry of the retention period, renewed by each write', async () => {
          const { retentionMs } = fixture.expiry!;
          await storage.write({ [USER_KEY]: { visits: 1 } });
          const first = await readOne(USER_KEY);
          expect(await expiryOf(USER_KEY)).toBeGreaterThan(retentionMs - 5000);

          await storage.write({ [USER_KEY]: { ...first, visits: 2 } });
          await storage.write({ [USER_KEY]: { visits: 3, eTag: '*' } });

          const remaining = await expiryOf(USER_KEY);
          expect(remaining).toBeGreaterThan(retentionMs - 5000);
          expect(remaining).toBeLessThanOrEqual(retentionMs);
        });

        it(`never expires ${LASTING_PREFIX} items, even when written with an eTag`, async () => {
          await storage.write({ [AGGREGATE_KEY]: { counts: { a: 1 } } });
          const counts = await readOne(AGGREGATE_KEY);
          await storage.write({ [AGGREGATE_KEY]: { ...counts, counts: { a: 2 } } });

          expect(await expiryOf(AGGREGATE_KEY)).toBeUndefined();
          expect(await readOne(AGGREGATE_KEY)).toMatchObject({ counts: { a: 2 } });
        });

        it('leaves deleteIdleSince nothing to do', async () => {
          await storage.write({ [USER_KEY]: { a: 1 } });

          await expect(storage.deleteIdleSince(new Date(Date.now() + 60_000))).resolves.toBe(0);
          expect(await readOne(USER_KEY)).toMatchObject({ a: 1 });
        });
      });
    } else {
      describe('retention', () => {
        it('deletes items last written before the cutoff and keeps the rest', async () => {
          await storage.write({ 'msteams/users/idle-1': { a: 1 }, 'msteams/users/idle-2': { a: 2 } });
          await sleep(25);
          const cutoff = new Date();
          await sleep(25);
          await storage.write({ [USER_KEY]: { fresh: true } });

          await expect(storage.deleteIdleSince(cutoff)).resolves.toBe(2);

          const items = await storage.read(['msteams/users/idle-1', 'msteams/users/idle-2', USER_KEY]);
          expect(Object.keys(items)).toEqual([USER_KEY]);
        });

        it('keeps an item that was written again after the cutoff', async () => {
          await storage.write({ [USER_KEY]: { visits: 1 } });
          await sleep(25);
          const cutoff = new Date();
          await sleep(25);
          await storage.write({ [USER_KEY]: { visits: 2 } });

          await expect(storage.deleteIdleSince(cutoff)).resolves.toBe(0);
          expect(await readOne(USER_KEY)).toMatchObject({ visits: 2 });
        });

        it('deletes everything with a cutoff in the future, nothing with one in the past', async () => {
          await storage.write({ [USER_KEY]: { a: 1 }, [CONVERSATION_KEY]: { b: 2 } });

          await expect(storage.deleteIdleSince(new Date(Date.now() - 60_000))).resolves.toBe(0);
          await expect(storage.deleteIdleSince(new Date(Date.now() + 60_000))).resolves.toBe(2);
          await expect(storage.read([USER_KEY, CONVERSATION_KEY])).resolves.toEqual({});
        });

        it(`keeps ${LASTING_PREFIX} items whatever the cutoff`, async () => {
          await storage.write({ [AGGREGATE_KEY]: { counts: { a: 1 } }, [USER_KEY]: { a: 1 } });

          await expect(storage.deleteIdleSince(new Date(Date.now() + 60_000))).resolves.toBe(1);

          expect(Object.keys(await storage.read([AGGREGATE_KEY, USER_KEY]))).toEqual([AGGREGATE_KEY]);
        });
      });
    }

    describe('lifecycle', () => {
      it('keeps state across a restart, eTags included', async () => {
        if (!fixture.reopen) return;
        await storage.write({ [USER_KEY]: { locale: 'en', answers: { worry: 3 } } });
        const before = await readOne(USER_KEY);
        await storage.close();

        const reopened = await fixture.reopen();
        try {
          const after = await readOne(USER_KEY, reopened);
          expect(after).toEqual(before);
          await expect(reopened.write({ [USER_KEY]: { ...after, locale: 'de' } })).resolves.toBeUndefined();
          await expect(reopened.write({ [USER_KEY]: { ...after, locale: 'fr' } })).rejects.toThrow(/eTag conflict/);
        } finally {
          await reopened.close();
        }
      });

      it('waits for writes in flight before close resolves', async () => {
        const keys = Array.from({ length: 20 }, (_, i) => `msteams/users/in-flight-${i}`);
        let settled = 0;
        const writes = keys.map((key, i) =>
          storage.write({ [key]: { i } }).then(() => {
            settled += 1;
          }),
        );

        await storage.close();

        expect(settled).toBe(keys.length);
        await Promise.all(writes);
        if (!fixture.reopen) return;
        const reopened = await fixture.reopen();
        try {
          expect(Object.keys(await reopened.read(keys))).toHaveLength(keys.length);
        } finally {
          await reopened.close();
        }
      });

      it('rejects every call after close, and closing twice is fine', async () => {
        await storage.close();
        await expect(storage.close()).resolves.toBeUndefined();

        await expect(storage.read([USER_KEY])).rejects.toThrow(/closed/);
        await expect(storage.write({ [USER_KEY]: { a: 1 } })).rejects.toThrow(/closed/);
        await expect(storage.delete([USER_KEY])).rejects.toThrow(/closed/);
        await expect(storage.deleteIdleSince(new Date())).rejects.toThrow(/closed/);
      });
    });
  });
}
