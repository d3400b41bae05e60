import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startWaypoint, type RunningWaypoint } from '../../bot/index.js';
import { createServer } from '../../bot/server.js';
import { createReadiness, type ReadinessOptions } from '../../bot/metrics/readiness.js';
import { testConfig } from '../support/testConfig.js';
import { captureLog } from '../support/capturedLog.js';

interface Probe {
  readonly status: number;
  readonly body: unknown;
}

async function probe(url: string, address = '/readyz'): Promise<Probe> {
  const res = await fetch(`${url}${address}`);
  return { status: res.status, body: await res.json() };
}

const READY: Probe = { status: 200, body: { status: 'ready' } };
const notReady = (reason: string): Probe => ({ status: 503, body: { status: 'not ready', reason } });
const ALIVE: Probe = { status: 200, body: { status: 'ok' } };

describe('GET /readyz on a whole Waypoint', () => {
  let running: RunningWaypoint | undefined;
  let dataDir: string;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start() {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-ready-'));
    const captured = captureLog();
    running = await startWaypoint(testConfig(dataDir), captured.log);
    return { url: running.url, logText: captured.text };
  }

  it('is ready once content is loaded and storage answers, and not ready while the storage folder is gone, while /healthz stays alive', async () => {
    const { url, logText } = await start();
    expect(await probe(url)).toEqual(READY);

    // A file where the folder was: works as root too, where taking away permissions would not.
    const stateDir = path.join(dataDir, 'state');
    await rm(stateDir, { recursive: true, force: true });
    await writeFile(stateDir, 'not a folder');
    expect(await probe(url)).toEqual(notReady('STORAGE_UNREACHABLE'));
    expect(await probe(url)).toEqual(notReady('STORAGE_UNREACHABLE'));
    expect(await probe(url, '/healthz')).toEqual(ALIVE);

    await rm(stateDir);
    await mkdir(stateDir);
    expect(await probe(url)).toEqual(READY);

    // One line when readiness is lost and one when it comes back, however often the probe asks.
    const log = logText();
    expect(log.match(/"readiness\.lost"/g)).toHaveLength(1);
    expect(log.match(/"readiness\.regained"/g)).toHaveLength(1);
    expect(log).toContain('"reason":"STORAGE_UNREACHABLE"');
  });

  it('is not ready once its storage is closed', async () => {
    const { url } = await start();
    await running!.runtime.storage.close();
    expect(await probe(url)).toEqual(notReady('STORAGE_UNREACHABLE'));
    expect(await probe(url, '/healthz')).toEqual(ALIVE);
  });
});

describe('readiness checks', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (!server) return;
    const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    server = undefined;
  });

  async function serve(options: Omit<ReadinessOptions, 'log'>) {
    const readiness = createReadiness({ ...options, log: captureLog().log });
    const app = createServer({ botFrameworkMessages: (_req, res) => void res.status(404).end(), readiness: readiness.route }, captureLog().log);
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { readiness, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it('says the storage timed out when its ping hangs, without waiting for it', async () => {
    const { url } = await serve({ storage: { ping: () => new Promise<void>(() => {}) }, contentLoaded: () => true, timeoutMs: 100 });
    const started = performance.now();
    expect(await probe(url)).toEqual(notReady('STORAGE_TIMEOUT'));
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('is not ready without content', async () => {
    const { url } = await serve({ storage: { ping: async () => {} }, contentLoaded: () => false });
    expect(await probe(url)).toEqual(notReady('CONTENT_NOT_LOADED'));
  });

  it('is not ready once shutdown has begun, so traffic drains first', async () => {
    const { url, readiness } = await serve({ storage: { ping: async () => {} }, contentLoaded: () => true });
    expect(await probe(url)).toEqual(READY);
    readiness.stopping();
    expect(await probe(url)).toEqual(notReady('STOPPING'));
  });

  it('never shows the storage error, and asks storage once for probes that arrive together', async () => {
    let pings = 0;
    let fail = (_error: Error) => {};
    const storage = {
      ping: () => {
        pings += 1;
        return new Promise<void>((_resolve, reject) => {
          fail = reject;
        });
      },
    };
    const { url } = await serve({ storage, contentLoaded: () => true });
    let arrived = 0;
    server!.on('request', () => (arrived += 1));
    const probes = Promise.all([probe(url), probe(url), probe(url)]);
    while (arrived < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    // Each reached the route (and the first one's ping) before storage answers.
    await new Promise((resolve) => setTimeout(resolve, 50));
    fail(Object.assign(new Error('EACCES: permission denied, access /srv/waypoint/data/state'), { code: 'EACCES' }));
    expect(await probes).toEqual([notReady('STORAGE_UNREACHABLE'), notReady('STORAGE_UNREACHABLE'), notReady('STORAGE_UNREACHABLE')]);
    expect(pings).toBe(1);
  });
});
