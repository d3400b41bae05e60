import { createHash, randomUUID } from 'node:crypto';
import { access, constants, mkdir, opendir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoreItem, StoreItems } from 'botbuilder';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import type { WaypointStorage } from './waypointStorage.js';

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
  async function readAndRemember(id: string, key: string): Promise<StoredRecord | undefined> {
    const record = await readRecord(pathOf(id), key);
    remember(id, record?.eTag ?? null);
    return record;
  }

  /** The stored eTag of `key` (under its lock): known, or read from its file. */
  async function currentETag(id: string, key: string): Promise<string | null> {
    const known = knownETags.get(id);
    if (known !== undefined) return known;
    return (await readAndRemember(id, key))?.eTag ?? null;
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
    if (closed) throw storageError('STORAGE_CLOSED', 'Storage: closed; no reads or writes after close().');
  }

  async function read(keys: string[]): Promise<StoreItems> {
    assertOpen();
    assertKeys(keys);
    const found = await Promise.all(
      keys.map((key) => {
        const id = fileIdOf(key);
        return withLock(id, () => readAndRemember(id, key));
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
      throw storageError('STORAGE_INVALID_CHANGES', 'Storage: changes are required when writing.');
    }
    // Validate every item before touching disk, so a bad value never leaves a half-written batch.
    const prepared = Object.entries(changes).map(([key, item]) => {
      assertKey(key);
      return { key, expectedETag: eTagOf(item), value: toJsonValue(item) };
    });
    const outcomes = await Promise.allSettled(
      prepared.map(({ key, expectedETag, value }) => {
        const id = fileIdOf(key);
        return withLock(id, async () => {
          const file = pathOf(id);
          // Same rule as botbuilder's MemoryStorage: a missing item, no eTag or '*' always writes.
          if (expectedETag && expectedETag !== '*') {
            const current = await currentETag(id, key);
            if (current !== null && current !== expectedETag) {
              throw storageError('STORAGE_ETAG_CONFLICT', 'Storage: error writing a stored item due to eTag conflict.');
            }
          }
          const record: StoredRecord = { key, savedAt: now().toISOString(), eTag: randomUUID(), value };
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
        const id = fileIdOf(key);
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
      throw storageError('STORAGE_INVALID_CUTOFF', 'Storage: deleteIdleSince needs a valid Date.');
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
          const gone = await removeIfIdle(join(shardDir, name), cutoff);
          if (gone) knownETags.delete(id);
          return gone;
        });
        if (removed) deleted += 1;
      }
    }
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
  }

  return { read, write, delete: deleteKeys, deleteIdleSince, ping, close };
}

/** Reads one file; anything unreadable as a record of `expectedKey` counts as absent. */
async function readRecord(file: string, expectedKey?: string): Promise<StoredRecord | undefined> {
  const db = new Low<unknown>(new JSONFile<unknown>(file), null);
  try {
    await db.read();
  } catch (err) {
    // A broken file (disk full, a manual edit) must not break a person's whole conversation;
    // the next write replaces it.
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
  const record = db.data;
  if (!isStoredRecord(record)) return undefined;
  // Guards against a file copied or renamed by hand (or a hash collision) answering for another key.
  if (expectedKey !== undefined && record.key !== expectedKey) return undefined;
  return record;
}

async function removeIfIdle(file: string, cutoff: Date): Promise<boolean> {
  const record = await readRecord(file);
  const lastWritten = record ? Date.parse(record.savedAt) : await fileModifiedAt(file);
  // A file we cannot read still holds someone's data, so it ages out by its modification time.
  if (lastWritten === undefined || lastWritten >= cutoff.getTime()) return false;
  return removeFile(file);
}

async function fileModifiedAt(file: string): Promise<number | undefined> {
  const info = await stat(file).catch(ignoreMissing);
  return info?.mtimeMs;
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

function fileIdOf(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function assertKeys(keys: string[]): void {
  if (!Array.isArray(keys)) throw storageError('STORAGE_INVALID_KEY', 'Storage: keys are required.');
  keys.forEach(assertKey);
}

// Messages never quote a key: keys are pseudonymous, but error text ends up in logs.
function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw storageError('STORAGE_INVALID_KEY', 'Storage: a key must be a non-empty string.');
  }
}

function eTagOf(item: StoreItem): string | undefined {
  return isPlainObject(item) && typeof item.eTag === 'string' ? item.eTag : undefined;
}

/** A detached JSON copy of the item without its eTag, so later changes by the caller do not leak in. */
function toJsonValue(item: unknown): Record<string, unknown> {
  let copy: unknown;
  try {
    const text = JSON.stringify(item);
    copy = text === undefined ? undefined : JSON.parse(text);
  } catch {
    copy = undefined;
  }
  if (!isPlainObject(copy)) {
    throw storageError('STORAGE_NOT_JSON', 'Storage: a stored item must be a JSON-serialisable object.');
  }
  delete copy.eTag;
  return copy;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function storageError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function ignoreMissing(err: unknown): undefined {
  if (isMissing(err)) return undefined;
  throw err;
}

function noop(): void {}
