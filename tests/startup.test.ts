/** The process as an operator runs it: starts with defaults, refuses bad content, stops cleanly on SIGTERM. */
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './support/botHarness.js';

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-start-'));
  temps.push(dir);
  return dir;
}

function startProcess(env: Record<string, string>): { child: ChildProcessWithoutNullStreams; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bot/index.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  return { child, output: () => output };
}

function exitOf(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function waitForText(output: () => string, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = output().match(pattern);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the bot process', () => {
  it('starts with the embedded store, creates its secret, and stops cleanly on SIGTERM', async () => {
    const dataDir = await tempDir();
    const { child, output } = startProcess({ DATA_DIR: dataDir });
    const exited = exitOf(child);
    const [, url] = await waitForText(output, /listening on (http:\/\/\S+)/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await readFile(path.join(dataDir, 'secret.key'), 'utf8')).length).toBeGreaterThanOrEqual(32);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output()).toContain('server.stopped');
  }, 30_000);

  it('refuses to start on invalid content and names the file and line', async () => {
    const contentDir = await tempDir();
    await cp(path.join(REPO_ROOT, 'resources/content'), contentDir, { recursive: true });
    const modulePath = path.join(contentDir, 'en/modules/urges.yaml');
    const broken = (await readFile(modulePath, 'utf8')).replace(/^(\s+)type: end$/m, '$1type: ending');
    await writeFile(modulePath, broken);
    const { child, output } = startProcess({ DATA_DIR: await tempDir(), CONTENT_DIR: contentDir });
    expect(await exitOf(child)).toBe(1);
    expect(output()).toMatch(/en\/modules\/urges\.yaml:\d+/);
    expect(output()).not.toContain('listening on');
  }, 30_000);

  it('refuses to start on an invalid setting and says which', async () => {
    const { child, output } = startProcess({ DATA_DIR: await tempDir(), RETENTION_DAYS: 'forever' });
    expect(await exitOf(child)).toBe(1);
    expect(output()).toContain('RETENTION_DAYS');
  }, 30_000);
});
