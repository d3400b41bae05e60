import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createLowdbStorage } from '../../bot/storage/lowdbStorage.js';
import type { WaypointStorage } from '../../bot/storage/waypointStorage.js';
import { runStorageContract } from './storageContract.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WRITE_LOOP = fileURLToPath(new URL('./fixtures/writeLoop.ts', import.meta.url));
const DAY_MS = 24 * 60 * 60 * 1000;

function freshDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'waypoint-lowdb-'));
}

/** Every file under `dir`, as paths relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/** The one data file a fresh directory holds after writing a single key. */
async function onlyDataFile(dir: string): Promise<string> {
  const files = (await listFiles(dir)).filter((file) => file.endsWith('.json'));
  expect(files).toHaveLength(1);
  return join(dir, files[0]!);
}

runStorageContract('lowdb', async () => {
  const dir = await freshDir();
  const storage = await createLowdbStorage({ dir });
  return {
    storage,
    reopen: () => createLowdbStorage({ dir }),
    cleanup: async () => {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('lowdb storage on disk', () => {
  let dir: string;
  let storage: WaypointStorage;

  beforeEach(async () => {
    dir = await freshDir();
    storage = await createLowdbStorage({ dir });
  });

  afterEach(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps one file per key under state/<first two hex>/<sha-256>.json', async () => {
    await storage.write({ 'telegram/users/a': { n: 1 }, 'telegram/users/b': { n: 2 } });

    const files = (await listFiles(dir)).filter((file) => file.endsWith('.json'));

    expect(files).toHaveLength(2);
    for (const file of files) {
      const [root, shard, name] = file.split(sep);
      expect(root).toBe('state');
      expect(name).toMatch(/^[0-9a-f]{64}\.json$/);
      expect(name!.slice(0, 2)).toBe(shard);
    }
  });

  it('stores key, savedAt, eTag and value in each file', async () => {
    const savedAt = new Date('2030-01-02T03:04:05.000Z');
    await storage.close(); // one open instance per directory
    const clocked = await createLowdbStorage({ dir, now: () => savedAt });
    await clocked.write({ 'telegram/users/a': { locale: 'en' } });
    await clocked.close();

    const record = JSON.parse(await readFile(await onlyDataFile(dir), 'utf8')) as unknown;

    expect(record).toEqual({
      key: 'telegram/users/a',
      savedAt: savedAt.toISOString(),
      eTag: expect.any(String),
      value: { locale: 'en' },
    });
  });

  it('never puts key text in a file or directory name', async () => {
    const canary = 'CANARY-7f3e-private';
    await storage.write({ [`telegram/users/${canary}`]: { n: 1 }, [`${canary}/conversations/x`]: { n: 2 } });

    const names = await listFiles(dir);

    expect(names.length).toBeGreaterThanOrEqual(2);
    for (const name of names) expect(name).not.toContain(canary);
  });

  it('deletes only items idle longer than the retention period (injected clock)', async () => {
    let now = new Date('2030-01-01T00:00:00.000Z');
    await storage.close(); // one open instance per directory
    const clocked = await createLowdbStorage({ dir, now: () => now });
    await clocked.write({ 'telegram/users/left': { n: 1 }, 'telegram/users/stays': { n: 2 } });
    now = new Date(now.getTime() + 20 * DAY_MS);
    await clocked.write({ 'telegram/users/stays': { n: 3 } });
    now = new Date(now.getTime() + 15 * DAY_MS);

    const deleted = await clocked.deleteIdleSince(new Date(now.getTime() - 30 * DAY_MS));

    expect(deleted).toBe(1);
    expect(Object.keys(await clocked.read(['telegram/users/left', 'telegram/users/stays']))).toEqual([
      'telegram/users/stays',
    ]);
    await clocked.close();
  });

  // Files that exist but cannot be read as a record: tests/storage/corruptFile.test.ts.
  describe('broken files', () => {
    it('ignores a leftover temp file on read and removes it during retention', async () => {
      await storage.write({ 'telegram/users/a': { n: 1 } });
      const file = await onlyDataFile(dir);
      const tempFile = join(file, '..', `.${file.split(sep).pop()!}.tmp`);
      await writeFile(tempFile, '{"half a wr');

      await expect(storage.read(['telegram/users/a'])).resolves.toMatchObject({ 'telegram/users/a': { n: 1 } });

      await expect(storage.deleteIdleSince(new Date(Date.now() - 60_000))).resolves.toBe(0);
      expect(await listFiles(dir)).toEqual([relative(dir, file)]);
    });
  });

  it('leaves only whole files behind when the process is killed mid-write', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITE_LOOP, dir], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      child.on('exit', () => reject(new Error(`write loop exited early: ${stderr}`)));
    });

    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const files = await listFiles(dir);
    const dataFiles = files.filter((file) => file.endsWith('.json') && !file.split(sep).pop()!.startsWith('.'));
    expect(dataFiles).toHaveLength(50);
    for (const file of dataFiles) {
      const text = await readFile(join(dir, file), 'utf8');
      expect(() => JSON.parse(text)).not.toThrow();
    }
    const keys = Array.from({ length: 50 }, (_, i) => `crash/users/${i}`);
    const items = await storage.read(keys);
    for (const key of keys) expect(items[key]).toMatchObject({ key, round: expect.any(Number) });

    await storage.deleteIdleSince(new Date(0));
    expect((await listFiles(dir)).filter((file) => file.endsWith('.tmp'))).toEqual([]);
  }, 30_000);
});
