/**
 * A large file served compressed: compressed once and kept between starts, always sent whole
 * and correct in the encoding asked for, whether it was compressed now, kept, or kept damaged.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { StartupCache } from '../../bot/cache/startupCache.js';
import { countingCache } from '../support/countingCache.js';
import { precompressedFile } from '../../bot/channels/webChat/precompressedAsset.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-precompressed-'));
  temps.push(dir);
  return dir;
}

/** Script-like text of some size, different for each seed. */
const bundle = (seed: string) => Buffer.from(Array.from({ length: 4000 }, (_, i) => `function f${i}(){return "${seed}-${(i * 7919) % 1000}";}\n`).join(''));

/** The same bytes at a new path: this process's memory of compressed files does not answer, the cache must. */
async function fileWith(bytes: Buffer): Promise<string> {
  const file = path.join(await tempDir(), 'webchat.js');
  await writeFile(file, bytes);
  return file;
}

/** Serves `file` on loopback and fetches it once in each encoding, decoded; closes the server again. */
async function servedBodies(file: string, cache: StartupCache): Promise<Record<string, Buffer>> {
  const app = express();
  app.get('/bundle.js', await precompressedFile(file, { contentType: 'text/javascript', cacheControl: 'no-store' }, cache));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const bodies: Record<string, Buffer> = {};
    for (const [encoding, decode] of [
      ['br', zlib.brotliDecompressSync],
      ['gzip', zlib.gunzipSync],
      ['identity', (b: Buffer) => b],
    ] as const) {
      const { headers, body } = await get(`http://127.0.0.1:${port}/bundle.js`, encoding);
      expect(headers['content-encoding']).toBe(encoding === 'identity' ? undefined : encoding);
      expect(Number(headers['content-length'])).toBe(body.length);
      bodies[encoding] = decode(body);
    }
    return bodies;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function get(url: string, encoding: string): Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { 'Accept-Encoding': encoding, Connection: 'close' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

const whole = (bytes: Buffer) => ({ br: bytes, gzip: bytes, identity: bytes });

describe('a precompressed file', () => {
  it('is compressed once, kept, and served the same from what was kept', async () => {
    const dir = await tempDir();
    const { cache, hits, writes } = countingCache(dir);
    const bytes = bundle('kept');
    expect(await servedBodies(await fileWith(bytes), cache)).toEqual(whole(bytes));
    expect([writes(), hits()]).toEqual([1, 0]);
    expect(await servedBodies(await fileWith(bytes), cache)).toEqual(whole(bytes));
    expect([writes(), hits()]).toEqual([1, 1]);

    // Other bytes are another entry, never the kept one.
    const changed = bundle('changed');
    expect(await servedBodies(await fileWith(changed), cache)).toEqual(whole(changed));
    expect(writes()).toBe(2);
  });

  it('is compressed again when what was kept is damaged', async () => {
    const dir = await tempDir();
    const { cache, writes } = countingCache(dir);
    const bytes = bundle('damaged');
    await servedBodies(await fileWith(bytes), cache);
    const [entry] = await readdir(dir);
    const stored = await readFile(path.join(dir, entry!));
    stored[100]! ^= 0xff;
    await writeFile(path.join(dir, entry!), stored);

    expect(await servedBodies(await fileWith(bytes), cache)).toEqual(whole(bytes));
    expect(writes()).toBe(2);
  });

  it('stops start-up when the file is missing', async () => {
    const { cache } = countingCache(await tempDir());
    await expect(precompressedFile(path.join(await tempDir(), 'missing.js'), { contentType: 'text/javascript', cacheControl: 'no-store' }, cache)).rejects.toThrow(
      /ENOENT/,
    );
  });
});
