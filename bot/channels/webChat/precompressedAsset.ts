/**
 * Files that never change while the server runs, served from memory, compressed once with
 * brotli and gzip and sent in whichever encoding the browser accepts. Compressing per request
 * would cost a busy server far more than the bytes it saves, above all for Web Chat's 3.9 MB
 * bundle, which is also kept compressed between starts (startupCache.ts): compressing it took
 * about half a second of every start.
 */
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { RequestHandler } from 'express';
import { cacheKey, openStartupCache, type StartupCache } from '../../cache/startupCache.js';

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

export interface AssetOptions {
  readonly contentType: string;
  readonly cacheControl: string;
  /** Sent as they are, e.g. Cross-Origin-Resource-Policy. */
  readonly headers?: Readonly<Record<string, string>>;
}

interface Encodings {
  readonly identity: Buffer;
  readonly br: Buffer;
  readonly gzip: Buffer;
}

/**
 * Brotli quality 9 takes about 0.4 s for the bundle and gives 0.71 MB; quality 11 gives 0.64 MB
 * but takes over 6 s, which every start of the server (and of every test server) would pay.
 */
const BROTLI_QUALITY = 9;
const GZIP_LEVEL = zlib.constants.Z_BEST_COMPRESSION;
/** Part of the key of a kept file: other settings give other bytes. */
const COMPRESSION = `br${BROTLI_QUALITY}+gzip${GZIP_LEVEL}`;
const CACHE_NAME = 'compressed';
/** Bytes of the brotli part's length at the start of a kept entry. */
const LENGTH_BYTES = 4;

/**
 * A file is compressed once per process even when several servers start (as tests do): it
 * belongs to an installed package, so its bytes cannot differ between them.
 */
const filesCompressed = new Map<string, Promise<Encodings>>();

/**
 * Reads `file` now, so a missing file stops start-up. Its compressed forms come from the cache
 * when it holds them for these exact bytes; otherwise they are made after start-up has moved
 * on, and a request that comes before they are ready waits for them.
 */
export async function precompressedFile(file: string, options: AssetOptions, cache: StartupCache = openStartupCache()): Promise<RequestHandler> {
  let pending = filesCompressed.get(file);
  if (!pending) {
    const reading = readFile(file);
    pending = reading.then((identity) => keptOrCompressed(identity, cache));
    filesCompressed.set(file, pending);
    // The failure is reported to this caller; the next start tries again.
    pending.catch(() => filesCompressed.delete(file));
    await reading;
  }
  const encodings = pending;
  return async (req, res, next) => serve(await encodings, options)(req, res, next);
}

/** A text filled in at start-up (a script with its settings, a stylesheet). */
export async function precompressedText(text: string, options: AssetOptions): Promise<RequestHandler> {
  return serve(await compress(Buffer.from(text, 'utf8')), options);
}

function serve(encodings: Encodings, { contentType, cacheControl, headers = {} }: AssetOptions): RequestHandler {
  return (req, res) => {
    // Our preference, not the order of the header: browsers list gzip before br.
    const encoding = (['br', 'gzip'] as const).find((name) => req.acceptsEncodings(name) === name);
    const body = encoding ? encodings[encoding] : encodings.identity;
    res.set({
      ...headers,
      'Content-Type': contentType,
      'Cache-Control': cacheControl,
      Vary: 'Accept-Encoding',
      'Content-Length': String(body.length),
    });
    if (encoding) res.set('Content-Encoding', encoding);
    res.status(200).end(req.method === 'HEAD' ? undefined : body);
  };
}

async function keptOrCompressed(identity: Buffer, cache: StartupCache): Promise<Encodings> {
  const key = cacheKey(COMPRESSION, identity);
  const kept = await cache.read(CACHE_NAME, key);
  if (kept && kept.length >= LENGTH_BYTES) {
    const brLength = kept.readUInt32BE(0);
    if (LENGTH_BYTES + brLength <= kept.length) {
      return { identity, br: kept.subarray(LENGTH_BYTES, LENGTH_BYTES + brLength), gzip: kept.subarray(LENGTH_BYTES + brLength) };
    }
  }
  const encodings = await compress(identity);
  const brLength = Buffer.alloc(LENGTH_BYTES);
  brLength.writeUInt32BE(encodings.br.length);
  await cache.write(CACHE_NAME, key, Buffer.concat([brLength, encodings.br, encodings.gzip]));
  return encodings;
}

async function compress(identity: Buffer): Promise<Encodings> {
  const [br, gz] = await Promise.all([
    brotli(identity, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: identity.length,
      },
    }),
    gzip(identity, { level: GZIP_LEVEL }),
  ]);
  return { identity, br, gzip: gz };
}
