import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { access, constants, mkdir, opendir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoreItems } from 'botbuilder';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { LASTING_PREFIX, type WaypointStorage } from './waypointStorage.js';
import { StorageError } from './storageError.js';
import { assertKey, assertKeys, eTagOf, hashedKey, isPlainObject, toJsonValue } from './storedItems.js';
import { StorageCorruptError, isStorageCorrupt, type CorruptFile, type CorruptFileProblem } from './storageCorruptError.js';

/** Where and how the embedded store keeps its files. */
export interface LowdbStorageOptions {
  /** Data directory; items live under `<dir>/state/`. Created if missing. */
  dir: string;
  /** Clock for `savedAt`; tests inject one to exercise retention without waiting. */
  now?: () => Date;
}

/** What one file holds. `savedAt` (ISO) is what retention compares against. */
interface StoredRecord {
  key: string;
  savedAt: string;
  eTag: string;
  value: Record<string, unknown>;
}

/**
 * The eTags of recently used keys (null: known to be absent). One process owns the folder, so
 * they stay true; they spare the eTag check before every write a re-read of the file this
 * process just read or wrote (half of a turn's file operations). Reads still go to the file, so
 * a file broken on disk is seen as broken.
 */
const CACHED_ETAGS = 5000;

const SHARDS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const FILE_ID = /^[0-9a-f]{64}$/;
// steno (lowdb's writer) writes `.<name>.tmp` next to the file, then renames it over the file.
const TEMP_PREFIX = '.';
const TEMP_SUFFIX = '.json.tmp';

/**
 * The embedded default backend: one small lowdb JSON file per key, so a turn's cost does not grow
 * with the number of people stored (lowdb rewrites a whole file on every write). Keys are hashed
 * for file names so no key text reaches a directory listing.
 *
 * Only one process may open a directory: the per-key locks below live in this process's memory and
 * there is no cross-process locking. Run several bot instances on the Redis backend instead.
 */
export async function createLowdbStorage(options: LowdbStorageOptions): Promise<WaypointStorage> {
  const stateDir = join(options.dir, 'state');
  const now = options.now ?? (() => new Date());
  // Created once here so a write never pays for a mkdir and the sweep can walk a fixed list.
  await Promise.all(SHARDS.map((shard) => mkdir(join(stateDir, shard), { recursive: true })));
  checkEveryFile(stateDir);

  // Tail of each file's queue of operations; an entry exists only while something is queued.
  const queues = new Map<string, Promise<void>>();
  let closed = false;
  let closing: Promise<void> | undefined;
  const sweeps = new Set<Promise<unknown>>();

  const pathOf = (id: string): string => join(stateDir, id.slice(0, 2), `${id}.json`);

  const knownETags = new Map<string, string | null>();
  function remember(id: string, eTag: string | null): void {
    knownETags.delete(id);
    knownETags.set(id, eTag);
    if (knownETags.size > CACHED_ETAGS) knownETags.delete(knownETags.keys().next().value as string);
  }

  /** Reads `key`'s file (under its lock) and notes its eTag. */
  async function readAndRemember(id: string): Promise<StoredRecord | undefined> {
    const record = await readRecord(pathOf(id), id);
    remember(id, record?.eTag ?? null);
    return record;
  }

  /** The stored eTag of `key` (under its lock): known, or read from its file. */
  async function currentETag(id: string): Promise<string | null> {
    const known = knownETags.get(id);
    if (known !== undefined) return known;
    return (await readAndRemember(id))?.eTag ?? null;
  }

  // The eTag check and the write that follows must not interleave with another turn's on the same key.
  function withLock<T>(id: string, operation: () => Promise<T>): Promise<T> {
    const result = (queues.get(id) ?? Promise.resolve()).then(operation);
    const tail = result.then(noop, noop);
    queues.set(id, tail);
    void tail.then(() => {
      if (queues.get(id) === tail) queues.delete(id);
    });
    return result;
  }

  function assertOpen(): void {
    if (closed) throw new StorageError('STORAGE_CLOSED', 'Storage: closed; no reads or writes after close().');
  }

  async function read(keys: string[]): Promise<StoreItems> {
    assertOpen();
    assertKeys(keys);
    const found = await Promise.all(
      keys.map((key) => {
        const id = hashedKey(key);
        return withLock(id, () => readAndRemember(id));
      }),
    );
    const items: StoreItems = {};
    keys.forEach((key, i) => {
      const record = found[i];
      // A fresh parse per read is the deep copy: callers never share objects with each other.
      if (record) items[key] = { ...record.value, eTag: record.eTag };
    });
    return items;
  }

  async function write(changes: StoreItems): Promise<void> {
    assertOpen();
    if (!changes || typeof changes !== 'object') {
      throw new StorageError('STORAGE_INVALID_CHANGES', 'Storage: changes are required when writing.');
    }
    // Validate every item before touching disk, so a bad value never leaves a half-written batch.
    const prepared = Object.entries(changes).map(([key, item]) => {
      assertKey(key);
      return { key, expectedETag: eTagOf(item), value: toJsonValue(item) };
    });
    const outcomes = await Promise.allSettled(
      prepared.map(({ key, expectedETag, value }) => {
        const id = hashedKey(key);
        return withLock(id, async () => {
          const file = pathOf(id);
          // Read even when the eTag does not matter, if this process has not seen the file yet: a
          // file that cannot be read (StorageCorruptError) must never be replaced.
          const current = await currentETag(id);
          // Same rule as botbuilder's MemoryStorage: a missing item, no eTag or '*' always writes.
          if (expectedETag && expectedETag !== '*' && current !== null && current !== expectedETag) {
            throw new StorageError('STORAGE_ETAG_CONFLICT', 'Storage: error writing a stored item due to eTag conflict.');
          }
          const record: StoredRecord = { key, savedAt: savedAtOf(key, now()), eTag: randomUUID(), value };
          knownETags.delete(id);
          await new Low<StoredRecord>(new JSONFile<StoredRecord>(file), record).write();
          remember(id, record.eTag);
        });
      }),
    );
    // Like MemoryStorage, the other keys of a batch are still written when one conflicts.
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failure) throw failure.reason;
  }

  async function deleteKeys(keys: string[]): Promise<void> {
    assertOpen();
    assertKeys(keys);
    await Promise.all(
      keys.map((key) => {
        const id = hashedKey(key);
        return withLock(id, async () => {
          knownETags.delete(id);
          await removeFile(pathOf(id));
          remember(id, null);
        });
      }),
    );
  }

  async function deleteIdleSince(cutoff: Date): Promise<number> {
    assertOpen();
    if (!(cutoff instanceof Date) || Number.isNaN(cutoff.getTime())) {
      throw new StorageError('STORAGE_INVALID_CUTOFF', 'Storage: deleteIdleSince needs a valid Date.');
    }
    const running = sweep(cutoff);
    sweeps.add(running);
    try {
      return await running;
    } finally {
      sweeps.delete(running);
    }
  }

  // One file at a time, each under its key's lock: slow on purpose, so turns keep the event loop.
  async function sweep(cutoff: Date): Promise<number> {
    let deleted = 0;
    // Left in place (retention cannot tell whose or what they are) and reported once the sweep is done.
    const corrupt: CorruptFile[] = [];
    for (const shard of SHARDS) {
      const shardDir = join(stateDir, shard);
      const entries = await opendir(shardDir).catch(ignoreMissing);
      if (!entries) continue;
      for await (const entry of entries) {
        // close() should not wait for a full sweep of a large store; the next sweep picks up the rest.
        if (closed) return deleted;
        const name = entry.name;
        if (name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX)) {
          const id = name.slice(TEMP_PREFIX.length, -TEMP_SUFFIX.length);
          // Holding the lock means no write of ours is between steno's temp write and its rename.
          if (FILE_ID.test(id)) await withLock(id, () => removeFile(join(shardDir, name)));
          continue;
        }
        const id = name.endsWith('.json') ? name.slice(0, -'.json'.length) : '';
        if (!FILE_ID.test(id)) continue;
        const removed = await withLock(id, async () => {
          const gone = await removeIfIdle(join(shardDir, name), id, cutoff);
          if (gone) knownETags.delete(id);
          return gone;
        }).catch((err: unknown) => {
          if (!isStorageCorrupt(err)) throw err;
          corrupt.push(...err.files);
          return false;
        });
        if (removed) deleted += 1;
      }
    }
    if (corrupt.length > 0) throw new StorageCorruptError(corrupt);
    return deleted;
  }

  function close(): Promise<void> {
    closed = true;
    closing ??= (async () => {
      // A sweep can still queue one last file after `closed` is set, hence the loop.
      while (queues.size > 0 || sweeps.size > 0) {
        await Promise.all([...queues.values(), ...sweeps].map((pending) => pending.then(noop, noop)));
      }
    })();
    return closing;
  }

  async function ping(): Promise<void> {
    assertOpen();
    await access(stateDir, constants.R_OK | constants.W_OK);
    // access() alone passes for a file standing where the folder was, and for root passes whatever the mode.
    await (await opendir(stateDir)).close();
  }

  return { read, write, delete: deleteKeys, deleteIdleSince, ping, close };
}

/**
 * Reads file `id`: undefined when there is none. A file that is there but is not a record of the
 * key it is named after is refused, never taken for absent: the next write would replace it and
 * silently lose what it held (a person's progress, a lasting count).
 */
async function readRecord(file: string, id: string): Promise<StoredRecord | undefined> {
  const text = await readFile(file, 'utf8').catch(ignoreMissing);
  if (text === undefined) return undefined;
  const checked = checkRecord(text, id);
  if (typeof checked === 'string') throw new StorageCorruptError([{ file: relativeName(id), problem: checked }]);
  return checked;
}

function checkRecord(text: string, id: string): StoredRecord | CorruptFileProblem {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (!isStoredRecord(data)) return 'not a store record';
  // A file copied or renamed by hand (or a hash collision) must not answer for another key.
  if (hashedKey(data.key) !== id) return 'holds another key';
  return data;
}

/**
 * Runs once as the store opens, before anything reads or writes: every file must be a record, or
 * the store refuses to open (StorageCorruptError lists them all), so the bot does not start with
 * someone's data unreadable. It also removes steno temp files a crash left behind: a write that
 * never reached its rename was never acknowledged, and the file it was replacing is still whole.
 *
 * Synchronous on purpose: it runs before the server listens, so nothing waits on the event loop,
 * and a loop of sync reads costs about a sixth of the CPU of the same reads through libuv's pool
 * (100,000 people, 200,000 files: ~2 s; see tests/bench/storageOpenCheck.ts).
 */
function checkEveryFile(stateDir: string): void {
  const corrupt: CorruptFile[] = [];
  for (const shard of SHARDS) {
    const shardDir = join(stateDir, shard);
    for (const name of readdirSync(shardDir)) {
      if (isTempName(name)) {
        rmSync(join(shardDir, name), { force: true });
        continue;
      }
      const id = idOfName(name);
      if (id === undefined) continue;
      const checked = checkRecord(readFileSync(join(shardDir, name), 'utf8'), id);
      if (typeof checked === 'string') corrupt.push({ file: relativeName(id), problem: checked });
    }
  }
  if (corrupt.length > 0) throw new StorageCorruptError(corrupt.sort((a, b) => a.file.localeCompare(b.file)));
}

async function removeIfIdle(file: string, id: string, cutoff: Date): Promise<boolean> {
  const record = await readRecord(file, id);
  if (!record) return false;
  // Aggregate counts hold nobody's data and are what evaluation needs over months: kept.
  if (record.key.startsWith(LASTING_PREFIX)) return false;
  if (Date.parse(record.savedAt) >= cutoff.getTime()) return false;
  return removeFile(file);
}

/** Aggregate counts carry no time finer than their day, not even when they were last written. */
function savedAtOf(key: string, at: Date): string {
  return key.startsWith(LASTING_PREFIX) ? at.toISOString().slice(0, 10) : at.toISOString();
}

/** Where file `id` is, relative to DATA_DIR with `/`, for messages: a hash, never a key. */
function relativeName(id: string): string {
  return `state/${id.slice(0, 2)}/${id}.json`;
}

function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX) && FILE_ID.test(name.slice(TEMP_PREFIX.length, -TEMP_SUFFIX.length));
}

/** The id a data file's name carries, or undefined for anything else in a shard folder. */
function idOfName(name: string): string | undefined {
  const id = name.endsWith('.json') ? name.slice(0, -'.json'.length) : '';
  return FILE_ID.test(id) ? id : undefined;
}

async function removeFile(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

function isStoredRecord(data: unknown): data is StoredRecord {
  if (!isPlainObject(data)) return false;
  return (
    typeof data.key === 'string' &&
    typeof data.eTag === 'string' &&
    typeof data.savedAt === 'string' &&
    !Number.isNaN(Date.parse(data.savedAt)) &&
    isPlainObject(data.value)
  );
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function ignoreMissing(err: unknown): undefined {
  if (isMissing(err)) return undefined;
  throw err;
}

function noop(): void {}
