/**
 * Files that never change while the server runs, served from memory, compressed once with
 * brotli and gzip and sent in whichever encoding the browser accepts. Compressing per request
 * would cost a busy server far more than the bytes it saves, above all for Web Chat's 3.9 MB
 * bundle.
 */
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { RequestHandler } from 'express';

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

/**
 * A file is compressed once per process even when several servers start (as tests do): it
 * belongs to an installed package, so its bytes cannot differ between them.
 */
const filesCompressed = new Map<string, Promise<Encodings>>();

/** Reads and compresses `file` now, so a missing file stops start-up. */
export async function precompressedFile(file: string, options: AssetOptions): Promise<RequestHandler> {
  let pending = filesCompressed.get(file);
  if (!pending) {
    pending = readFile(file).then(compress);
    filesCompressed.set(file, pending);
    // The failure is reported to this caller; the next start tries again.
    pending.catch(() => filesCompressed.delete(file));
  }
  return serve(await pending, options);
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

async function compress(identity: Buffer): Promise<Encodings> {
  const [br, gz] = await Promise.all([
    brotli(identity, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: identity.length,
      },
    }),
    gzip(identity, { level: zlib.constants.Z_BEST_COMPRESSION }),
  ]);
  return { identity, br, gzip: gz };
}
