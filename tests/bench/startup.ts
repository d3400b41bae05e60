/**
 * Start-up to ready: `bot/index.ts` started as an operator starts it (its own Node process, tsx,
 * settings from the environment; tests/support/waypointProcess.ts), timed from spawn to the
 * "listening" line (content loaded and checked, risk classifier trained, storage open) and to
 * the first 200 from GET /readyz. Median of --runs starts, after one unmeasured start that
 * creates the secret and warms the disk cache: a restart, not a first install. Target: <= 1.5 s.
 *
 *   npx tsx tests/bench/startup.ts [--runs 5] [--stored 100000]
 *
 * The embedded store reads every file as it opens, so start-up also grows with the people
 * stored: with --stored N (0 to skip) the same is timed again on a lowdb folder holding N
 * people (support/storedPeople.ts). For scale it also times a bare `node --import tsx` that
 * does nothing: the part of every start that is Node and the TypeScript loader, not Waypoint,
 * and reads the CPU time the process had used when ready (all its threads; Linux), which a busy
 * machine stretches far less than the wall-clock time.
 * Writes bench/results/startup.json; always exits 0.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createLogger } from '../../bot/privacy/logger.js';
import { createPseudonymizer, loadOrCreateSecret } from '../../bot/privacy/pseudonym.js';
import { createRuntime } from '../../bot/runtime.js';
import { startWaypointProcess } from '../support/waypointProcess.js';
import { REPO_ROOT, figure, round2, writeBenchResult, type Figure } from './support/benchResult.js';
import { benchConfig } from './support/benchServer.js';
import { median, sleep } from './support/measure.js';
import { realPersonState, storeAsLowdbFiles } from './support/storedPeople.js';

const TARGET_MS = 1500;
const READY_POLL_MS = 5;
const READY_TIMEOUT_MS = 30_000;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    stored: { type: 'string', default: '100000' },
  },
});
const runs = Number(values.runs);
const stored = Number(values.stored);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number of at least 1, not "${values.runs}"`);
if (!Number.isInteger(stored) || stored < 0) throw new Error(`--stored must be a whole number, not "${values.stored}"`);

interface Start {
  readonly listeningMs: number;
  /** null: the instance has no /readyz. */
  readonly readyMs: number | null;
  /** CPU time (user + system, all threads) used by then; null where /proc is not there. */
  readonly cpuMs: number | null;
}

/** One start on `dataDir`; stopped again before it returns. */
async function startOnce(dataDir: string): Promise<Start> {
  const spawned = performance.now();
  // Settings as in a deployment's environment, on the repository's own content.
  const waypoint = await startWaypointProcess({ DATA_DIR: dataDir });
  try {
    const listeningMs = waypoint.startMs;
    const readyAt = await firstReady(waypoint.url);
    const cpuMs = await cpuTimeOf(waypoint.pid);
    return { listeningMs: round2(listeningMs), readyMs: readyAt === null ? null : round2(readyAt - spawned), cpuMs };
  } finally {
    await waypoint.stop();
  }
}

/** When GET /readyz first answered 200 (performance.now()), or null when there is no /readyz. */
async function firstReady(url: string): Promise<number | null> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    const answer = await fetch(`${url}/readyz`).catch(() => undefined);
    const at = performance.now();
    await answer?.body?.cancel();
    if (answer?.status === 200) return at;
    if (answer?.status === 404) return null;
    if (at > deadline) throw new Error(`/readyz did not answer 200 within ${READY_TIMEOUT_MS / 1000} s (last: ${answer?.status ?? 'no answer'})`);
    await sleep(READY_POLL_MS);
  }
}

const CLOCK_TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** utime + stime of a process so far, from /proc/<pid>/stat (fields 14 and 15, in clock ticks). */
async function cpuTimeOf(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Math.round(((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND);
  } catch {
    return null;
  }
}

async function series(dataDir: string, label: string): Promise<Start[]> {
  console.log(`${label}: one start to warm up, then ${runs} measured...`);
  await startOnce(dataDir);
  const starts: Start[] = [];
  for (let i = 0; i < runs; i++) starts.push(await startOnce(dataDir));
  return starts;
}

/** Node with the TypeScript loader and nothing else: the floor under every start. */
async function bareNodeMs(): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--eval', ''], { cwd: REPO_ROOT, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
  return performance.now() - started;
}

/** A data folder whose lowdb store holds `people` (person 0 real, the rest copies). */
async function storeWithPeople(people: number): Promise<string> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-bench-startup-stored-'));
  const runtime = await createRuntime(benchConfig(dataDir), createLogger({ level: 'silent' }));
  const pseudonymize = createPseudonymizer(await loadOrCreateSecret(dataDir));
  let state;
  try {
    state = await realPersonState(runtime, pseudonymize);
  } finally {
    await runtime.close();
  }
  await storeAsLowdbFiles(dataDir, pseudonymize, state, people);
  return dataDir;
}

const mediansOf = (starts: readonly Start[]) => ({
  listeningMs: starts.length > 0 ? round2(median(starts.map((s) => s.listeningMs))) : null,
  cpuMs: starts.length > 0 && starts.every((s) => s.cpuMs !== null) ? median(starts.map((s) => s.cpuMs!)) : null,
  readyMs: starts.length > 0 && starts.every((s) => s.readyMs !== null) ? round2(median(starts.map((s) => s.readyMs!))) : null,
});

async function main(): Promise<void> {
  const dirs: string[] = [];
  let empty: Start[] = [];
  let full: Start[] = [];
  const bare: number[] = [];
  let problem: string | undefined;
  let seedSeconds: number | undefined;
  try {
    for (let i = 0; i < runs + 1; i++) bare.push(await bareNodeMs());
    bare.shift();
    const emptyDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-bench-startup-'));
    dirs.push(emptyDir);
    empty = await series(emptyDir, 'empty store');
    if (stored > 0) {
      console.log(`storing ${stored.toLocaleString('en')} people in lowdb...`);
      const seeding = performance.now();
      const storedDir = await storeWithPeople(stored);
      seedSeconds = round2((performance.now() - seeding) / 1000);
      dirs.push(storedDir);
      full = await series(storedDir, `${stored.toLocaleString('en')} people stored`);
    }
  } catch (error) {
    problem = `the benchmark stopped early: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }

  const emptyMedians = mediansOf(empty);
  const fullMedians = mediansOf(full);
  const noReadyz = empty.length > 0 && empty.some((s) => s.readyMs === null) ? 'this build has no /readyz' : undefined;
  const storedText = stored.toLocaleString('en');
  const figures: Figure[] = [
    figure(`start-up to listening, empty store (median of ${runs})`, emptyMedians.listeningMs, 'ms', { atMost: TARGET_MS }, problem),
    figure(`start-up to /readyz 200, empty store (median of ${runs})`, emptyMedians.readyMs, 'ms', { atMost: TARGET_MS }, noReadyz ?? problem),
    figure('  CPU time used by then, empty store (all threads)', emptyMedians.cpuMs, 'ms'),
    ...(stored > 0
      ? [
          figure(`start-up to listening, ${storedText} people in lowdb`, fullMedians.listeningMs, 'ms', { atMost: TARGET_MS }, problem),
          figure(`start-up to /readyz 200, ${storedText} people in lowdb`, fullMedians.readyMs, 'ms', { atMost: TARGET_MS }, noReadyz ?? problem),
          figure(`  CPU time used by then, ${storedText} people (all threads)`, fullMedians.cpuMs, 'ms'),
        ]
      : []),
    figure('  Node + tsx doing nothing, for scale', bare.length > 0 ? round2(median(bare)) : null, 'ms'),
  ];
  console.log(`\nStart-up of bot/index.ts to ready, median of ${runs} after a warm-up start`);
  if (problem) console.log(problem);
  console.table([
    ...empty.map((s, i) => ({ store: 'empty', run: i + 1, 'listening ms': s.listeningMs, 'readyz ms': s.readyMs ?? 'n/a', 'CPU ms': s.cpuMs ?? 'n/a' })),
    ...full.map((s, i) => ({ store: `${storedText} people`, run: i + 1, 'listening ms': s.listeningMs, 'readyz ms': s.readyMs ?? 'n/a', 'CPU ms': s.cpuMs ?? 'n/a' })),
  ]);
  console.log(`bare node --import tsx: median ${bare.length > 0 ? round2(median(bare)) : 'n/a'} ms`);
  const file = await writeBenchResult(
    'startup',
    { runs, stored, seedSeconds: seedSeconds ?? null, empty: { starts: empty, medians: emptyMedians }, withStored: { starts: full, medians: fullMedians }, bareNodeMs: bare.map(round2) },
    figures,
  );
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

await main();
