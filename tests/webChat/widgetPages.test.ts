/**
 * The web chat widget's pages over real HTTP: what a host site, its visitors' browsers and the
 * chat frame get from us, with which headers, and what stops the server from starting.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { parse } from 'yaml';
import { testConfig } from '../support/testConfig.js';
import { ContentError } from '../../bot/content/contentError.js';
import { startWaypoint, type RunningWaypoint } from '../../bot/index.js';
import { widgetPages } from '../../bot/channels/webChat/widgetPages.js';
import { REPO_ROOT } from '../support/botHarness.js';
import { brokenCopy, removeBrokenCopies } from '../support/brokenFile.js';
import { captureLog } from '../support/capturedLog.js';
import { lineOf, replace } from '../content/fixtureLibrary.js';

const LABELS_FILE = path.join(REPO_ROOT, 'resources/web/widget/labels.yaml');
const BUNDLE_FILE = path.join(REPO_ROOT, 'node_modules/botframework-webchat/dist/webchat.js');
const QUICK_EXIT_URL = 'https://neutral.example/weather';

interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** As sent, not decompressed. */
  readonly body: Buffer;
  text(): string;
}

/** node:http rather than fetch, which would decompress and hide what was sent. */
function get(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: () => body.toString('utf8') });
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** The JSON the server put into a script in place of its config slot. */
function injectedConfig(script: string): Record<string, unknown> {
  const match = /const CONFIG = (\{.*\});/.exec(script);
  if (!match?.[1]) throw new Error('no config in the script');
  return JSON.parse(match[1]) as Record<string, unknown>;
}

function policyOf(res: RawResponse): Map<string, string> {
  const header = String(res.headers['content-security-policy'] ?? '');
  return new Map(
    header.split(';').map((part) => {
      const [name = '', ...values] = part.trim().split(/\s+/);
      return [name, values.join(' ')];
    }),
  );
}

afterAll(removeBrokenCopies);

describe('the widget pages of a running Waypoint', () => {
  let running: RunningWaypoint;
  let dataDir: string;
  const responses: RawResponse[] = [];
  const fetchPage = async (route: string, headers?: Record<string, string>) => {
    const res = await get(`${running.url}${route}`, headers);
    responses.push(res);
    return res;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-widget-'));
    const config = testConfig(dataDir, {
      WIDGET_ALLOWED_ORIGINS: 'https://help.example.org https://partner.example.net:8443',
      QUICK_EXIT_URL,
    });
    running = await startWaypoint(config, captureLog().log);
  });
  afterAll(async () => {
    await running?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves a neutral demo page that embeds the widget the way any other site would', async () => {
    const res = await fetchPage('/');

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = res.text();
    expect(html).toContain('<title>Example help organisation</title>');
    expect(html).toContain('<script src="/widget.js" defer></script>');
    // Apostrophes in the labels arrive escaped, as all label text does.
    expect(html).toContain('You don&#39;t need to give your name');
    expect(policyOf(res).get('frame-src')).toBe("'self'");
    expect(policyOf(res).get('script-src')).toBe("'self'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('serves widget.js as plain JavaScript any site may load, with the settings and every label filled in', async () => {
    const res = await fetchPage('/widget.js');
    const labels = parse(await readFile(LABELS_FILE, 'utf8')) as { launcher: { label: string }; panel: Record<string, string> };

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    const script = res.text();
    expect(script).not.toContain('/*@server-config*/');
    expect(injectedConfig(script)).toEqual({
      quickExitUrl: QUICK_EXIT_URL,
      quickExitMessage: expect.any(String),
      shortcut: { presses: 3, withinMs: 1000 },
      labels: { launcher: labels.launcher.label, ...labels.panel },
    });
    // Nothing in the script may build markup from text, or load anything but our own files.
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|createElement\('style'\)/);
    expect(script).not.toMatch(/localStorage|sessionStorage|document\.cookie|indexedDB/);
  });

  it('serves widget.css across origins as a stylesheet', async () => {
    const res = await fetchPage('/widget.css');

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
  });

  it('lets only the configured sites frame the chat page, with a fresh style nonce for each response', async () => {
    const first = await fetchPage('/chat?locale=en-GB');
    const second = await fetchPage('/chat');

    expect(first.status).toBe(200);
    expect(first.headers['x-frame-options']).toBeUndefined();
    const policy = policyOf(first);
    expect(policy.get('frame-ancestors')).toBe("'self' https://help.example.org https://partner.example.net:8443");
    expect(policy.get('default-src')).toBe("'none'");
    expect(policy.get('script-src')).toBe("'self'");
    expect(policy.get('connect-src')).toBe(`'self' ws://127.0.0.1:${running.port} wss://127.0.0.1:${running.port}`);
    expect(policy.get('img-src')).toBe("'self' data: blob:");
    const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(policy.get('style-src') ?? '')?.[1];
    expect(nonce).toBeDefined();
    expect(policy.get('style-src')).not.toContain('unsafe-inline');
    expect(first.text()).toContain(`<script src="/chat.js" nonce="${nonce}" defer></script>`);
    expect(first.text()).toContain('<script src="/vendor/webchat.js" defer></script>');
    expect(policyOf(second).get('style-src')).not.toContain(nonce);
    expect(first.headers['cache-control']).toBe('no-store');
  });

  it('keeps a Host header that is not a plain host out of the chat page policy', async () => {
    const res = await fetchPage('/chat', { Host: "evil.example; script-src 'unsafe-inline'" });

    expect(policyOf(res).get('script-src')).toBe("'self'");
    expect(policyOf(res).get('connect-src')).toBe("'self' ws://localhost wss://localhost");
  });

  it('serves chat.js with its settings, and the chat page stylesheet and icon', async () => {
    const script = await fetchPage('/chat.js');
    const css = await fetchPage('/chat.css');
    const icon = await fetchPage('/icon.svg');

    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(injectedConfig(script.text())).toMatchObject({ quickExitUrl: QUICK_EXIT_URL, labels: { retry: 'Try again' } });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(icon.headers['content-type']).toBe('image/svg+xml');
  });

  it.each([
    ['br', zlib.brotliDecompressSync],
    ['gzip', zlib.gunzipSync],
  ] as const)('sends the Web Chat bundle %s-compressed to a browser that asks, the same bytes once decompressed', async (encoding, decompress) => {
    const original = await readFile(BUNDLE_FILE);
    const res = await fetchPage('/vendor/webchat.js', { 'Accept-Encoding': encoding });

    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe(encoding);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=604800');
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.body.length).toBeLessThan(original.length / 3);
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    expect(decompress(res.body).equals(original)).toBe(true);
  });

  it('sends the bundle as it is to a client that asks for no compression', async () => {
    const original = await readFile(BUNDLE_FILE);
    const plain = await fetchPage('/vendor/webchat.js');
    const identity = await fetchPage('/vendor/webchat.js', { 'Accept-Encoding': 'identity' });

    for (const res of [plain, identity]) {
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.body.equals(original)).toBe(true);
    }
  });

  it('prefers brotli when a browser accepts both', async () => {
    const res = await fetchPage('/vendor/webchat.js', { 'Accept-Encoding': 'gzip, deflate, br' });

    expect(res.headers['content-encoding']).toBe('br');
  });

  it.each(['/widget.jsx', '/vendor/other.js', '/chat/', '/labels.yaml', '/chat.html', '/../package.json'])('answers 404 for %s', async (route) => {
    const res = await fetchPage(route);

    expect(res.status).toBe(404);
  });

  it('never sets a cookie', () => {
    expect(responses.length).toBeGreaterThan(10);
    expect(responses.filter((res) => res.headers['set-cookie'] !== undefined)).toEqual([]);
  });
});

describe('starting the widget pages', () => {
  const options = { quickExitUrl: QUICK_EXIT_URL, allowedOrigins: ['*'] };

  async function startWith(labelsFile: string): Promise<{ url: string; close: () => Promise<void> }> {
    const app = express().use(await widgetPages({ ...options, labelsFile }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  async function failureOf(start: () => Promise<unknown>): Promise<Error> {
    try {
      await start();
    } catch (error) {
      return error as Error;
    }
    throw new Error('start-up did not fail');
  }

  it('stops with the file and line of a YAML mistake in the labels', async () => {
    // The classic slip: a colon inside unquoted text.
    const { file, text } = await brokenCopy(LABELS_FILE, replace('  title: Support chat', '  title: Support chat: open'));

    const error = await failureOf(() => widgetPages({ ...options, labelsFile: file }));

    expect(error).toBeInstanceOf(ContentError);
    expect(error.message).toContain(`labels.yaml:${lineOf(text, 'title: Support chat: open')}:`);
    expect((error as ContentError).problems[0]?.code).toBe('CONTENT_YAML_SYNTAX');
  });

  it('stops with the file, key and line of a missing or misspelt label', async () => {
    const { file, text } = await brokenCopy(LABELS_FILE, replace('  quickExit: Quick exit', '  quickExitt: Quick exit'));

    const error = await failureOf(() => widgetPages({ ...options, labelsFile: file }));

    expect(error).toBeInstanceOf(ContentError);
    expect(error.message).toContain(`labels.yaml:${lineOf(text, 'quickExitt:')} panel.quickExitt: unknown key "quickExitt"`);
    expect(error.message).toMatch(/labels\.yaml:\d+ panel\.quickExit: is required/);
  });

  it('refuses an allowed origin that would rewrite the chat page policy', async () => {
    const error = await failureOf(() => widgetPages({ ...options, allowedOrigins: ["https://ok.example; script-src 'unsafe-inline'"] }));

    expect(error.message).toContain('WIDGET_ALLOWED_ORIGINS');
  });

  it('puts labels into the pages as text, never as markup', async () => {
    const hostile = '<img src=x onerror=alert(1)> "quoted" {{nonce}}';
    const { file } = await brokenCopy(LABELS_FILE, (text) =>
      replace('  heading: Example help organisation', `  heading: '${hostile}'`)(replace('  title: Support chat', `  title: '${hostile}'`)(text)),
    );
    const server = await startWith(file);
    try {
      const demo = (await get(`${server.url}/`)).text();
      const chat = (await get(`${server.url}/chat`)).text();
      const widget = (await get(`${server.url}/widget.js`)).text();

      expect(demo).not.toContain('<img');
      expect(demo).toContain('&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; &#123;&#123;nonce&#125;&#125;');
      expect(chat).not.toContain('<img');
      expect(chat).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(widget).not.toContain('<img');
      expect((injectedConfig(widget).labels as Record<string, string>).title).toBe(hostile);
    } finally {
      await server.close();
    }
  });
});
