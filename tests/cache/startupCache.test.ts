/** What start-up keeps between starts: given back only whole and unchanged, and never in the way. */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cacheKey, openStartupCache } from '../../bot/cache/startupCache.js';

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-cache-'));
  temps.push(dir);
  return dir;
}

const bytes = Buffer.from('{"model":[1,2,3]}');

describe('the start-up cache', () => {
  it('gives back what was kept under the same name and key, and nothing for another key', async () => {
    const cache = openStartupCache(path.join(await tempDir(), 'made-on-first-write'));
    const key = cacheKey('risk', Buffer.from('lexicon v1'));
    expect(await cache.read('riskScreen', key)).toBeUndefined();
    await cache.write('riskScreen', key, bytes);
    expect(await cache.read('riskScreen', key)).toEqual(bytes);
    expect(await cache.read('riskScreen', cacheKey('risk', Buffer.from('lexicon v2')))).toBeUndefined();
    expect(await cache.read('compressed', key)).toBeUndefined();
  });

  it('keys by every part, in order and with its length', () => {
    expect(cacheKey('ab', 'c')).not.toBe(cacheKey('a', 'bc'));
    expect(cacheKey('a', 'b')).not.toBe(cacheKey('b', 'a'));
    expect(cacheKey('a', Buffer.from('b'))).toBe(cacheKey('a', 'b'));
  });

  it('treats a damaged or cut-off entry as no entry', async () => {
    const dir = await tempDir();
    const cache = openStartupCache(dir);
    const key = cacheKey('x');
    await cache.write('riskScreen', key, bytes);
    const [file] = await readdir(dir);
    const stored = await readFile(path.join(dir, file!));

    const flipped = Buffer.from(stored);
    flipped[flipped.length - 2]! ^= 0x01;
    await writeFile(path.join(dir, file!), flipped);
    expect(await cache.read('riskScreen', key)).toBeUndefined();

    await writeFile(path.join(dir, file!), stored.subarray(0, stored.length - 5));
    expect(await cache.read('riskScreen', key)).toBeUndefined();
    await writeFile(path.join(dir, file!), stored.subarray(0, 10));
    expect(await cache.read('riskScreen', key)).toBeUndefined();
  });

  it('ignores a folder it cannot write to', async () => {
    const blocker = path.join(await tempDir(), 'a-file');
    await writeFile(blocker, 'not a folder');
    const cache = openStartupCache(path.join(blocker, 'cache'));
    await expect(cache.write('riskScreen', cacheKey('x'), bytes)).resolves.toBeUndefined();
    expect(await cache.read('riskScreen', cacheKey('x'))).toBeUndefined();
  });

  it('keeps the newest entries of a name and clears temporary files a crash left behind', async () => {
    const dir = await tempDir();
    const cache = openStartupCache(dir);
    for (let i = 0; i < 10; i++) {
      await cache.write('riskScreen', cacheKey(String(i)), bytes);
      // Distinct modification times, oldest first, whatever the file system's resolution.
      const when = new Date(Date.UTC(2026, 0, 1, 0, 0, i));
      await utimes(path.join(dir, `riskScreen-${cacheKey(String(i))}.bin`), when, when);
    }
    const leftover = path.join(dir, `riskScreen-${cacheKey('crashed')}.bin.123.abcd.tmp`);
    await writeFile(leftover, 'half');
    const longAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(leftover, longAgo, longAgo);
    await cache.write('compressed', cacheKey('other'), bytes);
    await cache.write('riskScreen', cacheKey('newest'), bytes);

    const files = await readdir(dir);
    expect(files.filter((f) => f.startsWith('riskScreen-'))).toHaveLength(8);
    expect(await cache.read('riskScreen', cacheKey('newest'))).toEqual(bytes);
    expect(await cache.read('riskScreen', cacheKey('0'))).toBeUndefined();
    expect(await cache.read('riskScreen', cacheKey('9'))).toEqual(bytes);
    expect(await cache.read('compressed', cacheKey('other'))).toEqual(bytes);
    expect(files.some((f) => f.endsWith('.tmp'))).toBe(false);
  });
});
