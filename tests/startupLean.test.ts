/**
 * Start-up loads only what the settings use: an instance without TELEGRAM_BOT_TOKEN or REDIS_URL
 * never loads grammY or ioredis (each a noticeable part of the time to start). Run in a process of
 * its own, as an operator starts Waypoint, because this test process has loaded them already.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './support/botHarness.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Starts Waypoint with `env` in a new process and lists the packages it had loaded once listening. */
async function packagesLoaded(env: Record<string, string>): Promise<string[]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-lean-'));
  temps.push(dataDir);
  const script = `
    import { createRequire } from 'node:module';
    const { loadConfig } = await import('./bot/config.ts');
    const { createLogger } = await import('./bot/privacy/logger.ts');
    const { startWaypoint } = await import('./bot/index.ts');
    const running = await startWaypoint(loadConfig(process.env), createLogger({ level: 'silent' }));
    const names = Object.keys(createRequire(import.meta.url).cache).map((file) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(file)?.[1]);
    process.stdout.write(JSON.stringify([...new Set(names.filter(Boolean))]));
    await running.stop();
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the process exited with ${code}:\n${stderr}`);
  return JSON.parse(stdout) as string[];
}

describe('start-up without Telegram or Redis', () => {
  it('loads neither grammY nor ioredis, but does load the packages every instance uses', async () => {
    const loaded = await packagesLoaded({});
    expect(loaded).toEqual(expect.arrayContaining(['botbuilder', 'botbuilder-dialogs', 'express']));
    expect(loaded).not.toContain('grammy');
    expect(loaded).not.toContain('ioredis');
  }, 60_000);
});
