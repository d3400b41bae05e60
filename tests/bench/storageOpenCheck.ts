/**
 * What the start-up check of the embedded store costs: createLowdbStorage reads and validates
 * every file before the bot starts (an unreadable one stops start-up, see
 * bot/storage/storageCorruptError.ts). Stores 100 and 100,000 people (a user and a conversation
 * file each, as BotState keeps them) and times opening the store a few times at each size.
 *
 *   npx tsx tests/bench/storageOpenCheck.ts [--users 100000]
 *
 * Files are written straight to disk in the store's layout (the store itself takes ~30 s for
 * 100,000 people, see storageScaling.ts). The files were just written, so they are in the page
 * cache: the figures are for a warm cache (a restart, not a cold boot). Wall time and the
 * process's CPU time are both reported: the check is one synchronous loop, so on an idle
 * machine its wall time is about its CPU time. It prints a table, writes
 * bench/results/storage-open-check.json and always exits 0.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLowdbStorage } from '../../bot/storage/lowdbStorage.js';

const OPENS_PER_SIZE = 3;
const WRITE_CONCURRENCY = 64;
const RESULTS_FILE = fileURLToPath(new URL('../../bench/results/storage-open-check.json', import.meta.url));

/** About what the bot stores: a profile of ~500 bytes, a dialog stack of ~1 KB. */
function recordText(key: string, bytes: number): string {
  const record = { key, savedAt: new Date().toISOString(), eTag: randomUUID(), value: { filler: '' } };
  record.value.filler = 'f'.repeat(Math.max(0, bytes - JSON.stringify(record).length));
  return JSON.stringify(record);
}

async function populate(dir: string, users: number): Promise<void> {
  const files: { key: string; bytes: number }[] = [];
  for (let i = 0; i < users; i++) {
    const pseudonym = createHash('sha256').update(`open-check-${i}`).digest('base64url').slice(0, 32);
    files.push({ key: `directline/users/user/${pseudonym}`, bytes: 500 }, { key: `directline/conversations/conversation/${pseudonym}`, bytes: 1000 });
  }
  let next = 0;
  const writer = async (): Promise<void> => {
    for (let file = files[next++]; file; file = files[next++]) {
      const id = createHash('sha256').update(file.key, 'utf8').digest('hex');
      const shard = join(dir, 'state', id.slice(0, 2));
      await mkdir(shard, { recursive: true });
      await writeFile(join(shard, `${id}.json`), recordText(file.key, file.bytes));
    }
  };
  await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, writer));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { users: { type: 'string', default: '100000' } } });
  const largest = Number(values.users);
  if (!Number.isInteger(largest) || largest < 100) throw new Error('--users must be a whole number of at least 100');
  const sizes = [100, largest];
  const results: { users: number; files: number; populateSeconds: number; openMs: number[]; openCpuMs: number[]; medianOpenMs: number; medianOpenCpuMs: number }[] = [];
  const loadBefore = loadavg()[0]!;
  for (const users of sizes) {
    const dir = await mkdtemp(join(tmpdir(), 'waypoint-open-check-'));
    try {
      const started = performance.now();
      await populate(dir, users);
      const populateSeconds = Math.round((performance.now() - started) / 100) / 10;
      const openMs: number[] = [];
      // CPU time says what the check costs on a machine with nothing else to do; wall time waits for other processes too.
      const openCpuMs: number[] = [];
      for (let i = 0; i < OPENS_PER_SIZE; i++) {
        const opening = performance.now();
        const cpu = process.cpuUsage();
        const storage = await createLowdbStorage({ dir });
        const used = process.cpuUsage(cpu);
        openMs.push(Math.round(performance.now() - opening));
        openCpuMs.push(Math.round((used.user + used.system) / 1000));
        await storage.close();
      }
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
      results.push({ users, files: users * 2, populateSeconds, openMs, openCpuMs, medianOpenMs: median(openMs), medianOpenCpuMs: median(openCpuMs) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const loadAfter = loadavg()[0]!;
  console.table(results.map((r) => ({ users: r.users, files: r.files, 'open ms (each)': r.openMs.join(', '), 'median ms': r.medianOpenMs, 'CPU ms (each)': r.openCpuMs.join(', '), 'median CPU ms': r.medianOpenCpuMs })));
  console.log(`load average (1 min) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${cpus().length} CPUs`);
  const result = {
    benchmark: 'lowdb store open: start-up check of every file (read, parse, key matches name) and temp-file cleanup',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadAverage: { before: loadBefore, after: loadAfter },
    pageCache: 'warm (files just written)',
    results,
  };
  await mkdir(join(RESULTS_FILE, '..'), { recursive: true });
  await writeFile(RESULTS_FILE, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${RESULTS_FILE}`);
}

await main();
