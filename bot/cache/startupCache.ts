/**
 * Work that start-up would otherwise repeat on every start (the trained risk screen, the
 * compressed Web Chat bundle) kept on disk between starts, under a key that hashes everything it
 * was made from, so a changed input is simply a different key. Only ever content and installed
 * packages, never anything a person typed.
 *
 * The cache is an optimisation and never a source of truth: an entry that is missing, damaged
 * (its checksum is stored with it) or cannot be written is ignored without a word, and the
 * caller builds the value again from its inputs, with the same checks and error reports.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Beside the installed packages it is partly derived from, where build tools keep theirs. */
export const DEFAULT_CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/waypoint/', import.meta.url));

/** Entries kept per name: enough for the test suites' several risk folders without growing forever. */
const ENTRIES_PER_NAME = 8;
const CHECKSUM_BYTES = 32;
/** A write that crashed half-way leaves a temporary file; one this old is nobody's. */
const STALE_TEMPORARY_MS = 60 * 60 * 1000;

export interface StartupCache {
  /** The bytes kept for `name` under `key`; undefined when there are none or they are damaged. */
  read(name: string, key: string): Promise<Buffer | undefined>;
  /** Keeps `bytes` for `name` under `key`; a failure (a read-only disk) is ignored. */
  write(name: string, key: string, bytes: Buffer): Promise<void>;
}

/** Hex sha256 of the parts, each length-prefixed so ("ab", "c") and ("a", "bc") differ. */
export function cacheKey(...parts: readonly (string | Uint8Array)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    hash.update(`${bytes.length}:`).update(bytes);
  }
  return hash.digest('hex');
}

export function openStartupCache(dir: string = DEFAULT_CACHE_DIR): StartupCache {
  const fileOf = (name: string, key: string) => path.join(dir, `${name}-${key}.bin`);
  return {
    async read(name, key) {
      let stored: Buffer;
      try {
        stored = await readFile(fileOf(name, key));
      } catch {
        return undefined;
      }
      const bytes = stored.subarray(CHECKSUM_BYTES);
      const checksum = createHash('sha256').update(bytes).digest();
      return stored.length >= CHECKSUM_BYTES && checksum.equals(stored.subarray(0, CHECKSUM_BYTES)) ? bytes : undefined;
    },
    async write(name, key, bytes) {
      try {
        await mkdir(dir, { recursive: true });
        const file = fileOf(name, key);
        // Written aside and renamed into place: a reader (another process) sees all of it or none.
        const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
        await writeFile(temporary, Buffer.concat([createHash('sha256').update(bytes).digest(), bytes]));
        await rename(temporary, file).catch(async (error: unknown) => {
          await rm(temporary, { force: true });
          throw error;
        });
        await prune(dir, name);
      } catch {
        // The next start builds it again.
      }
    },
  };
}

/** Keeps the newest entries of `name` and clears temporary files a crash left behind. */
async function prune(dir: string, name: string): Promise<void> {
  const prefix = `${name}-`;
  const entries = await Promise.all(
    (await readdir(dir))
      .filter((file) => file.startsWith(prefix))
      .map(async (file) => ({ file, info: await stat(path.join(dir, file)).catch(() => undefined) })),
  );
  const now = Date.now();
  const stale = entries.filter(({ file, info }) => info && file.endsWith('.tmp') && now - info.mtimeMs > STALE_TEMPORARY_MS);
  const old = entries
    .filter(({ file, info }) => info && file.endsWith('.bin'))
    .sort((a, b) => (b.info?.mtimeMs ?? 0) - (a.info?.mtimeMs ?? 0))
    .slice(ENTRIES_PER_NAME);
  await Promise.all([...stale, ...old].map(({ file }) => rm(path.join(dir, file), { force: true })));
}
