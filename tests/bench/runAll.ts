/**
 * `npm run bench`: every benchmark of issue 7, each in a child process of its own (so one's heap,
 * sockets and timers never colour another's figures), then one table of what was measured
 * against the targets, and bench/results/summary.json. Everything runs on 127.0.0.1.
 *
 *   npm run bench                              the whole suite (about 10 minutes on 2 idle cores)
 *   npm run bench -- --quick                   smaller sizes, a smoke run of every benchmark (~2 minutes)
 *   npm run bench -- --only directline,memory  some of them (a name or the start of one)
 *   npm run bench -- --list                    what there is
 *
 * A benchmark is a tool, not a test: a missed target is reported, never a failure. The exit code
 * is 0 unless a benchmark could not run at all (crashed, or wrote no result). Figures depend on
 * the machine and on whatever else it is doing; the load average is recorded with them. Each
 * benchmark is bounded in time and killed (with everything it started) past its bound.
 */
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { REPO_ROOT, RESULTS_DIR, describeTarget, figure, resultFile, round2, type Figure } from './support/benchResult.js';

interface Benchmark {
  readonly name: string;
  readonly what: string;
  /** Script, relative to the repository. */
  readonly script: string;
  readonly args: readonly string[];
  readonly quickArgs: readonly string[] | undefined;
  /** Results it writes (bench/results/<name>.json); a missing one is shown as not measured. */
  readonly results: readonly string[];
  /** Killed, with everything it started, after this long. */
  readonly limitSeconds: number;
  /** Only with --only: not part of the default run. */
  readonly extra?: boolean;
}

const directLine = (conversations: number, maxSeconds: number): Benchmark => ({
  name: `directline-${conversations}`,
  what: `Direct Line turn throughput and latency, ${conversations} conversations at once, beside the echo bot`,
  script: 'tests/bench/directLineLoad.ts',
  args: ['--conversations', String(conversations), '--max-seconds', String(maxSeconds)],
  // The quick run tries one size, with the same script, so every code path still runs.
  quickArgs: conversations === 50 ? ['--conversations', '50', '--turns', '4', '--max-seconds', '60'] : undefined,
  results: [`directline-load-${conversations}`],
  limitSeconds: maxSeconds + 60,
});

const storage = (backend: 'lowdb' | 'redis'): Benchmark => ({
  name: `storage-${backend}`,
  what: `p99 turn latency with 100 and 100,000 people stored, ${backend}`,
  script: 'tests/bench/storageScaling.ts',
  args: ['--backend', backend, '--max-seconds', '300'],
  quickArgs: ['--backend', backend, '--users', '100,2000', '--turns', '300', '--max-seconds', '90'],
  results: [`storage-scaling-${backend}`],
  limitSeconds: 360,
});

const BENCHMARKS: readonly Benchmark[] = [
  directLine(50, 90),
  directLine(200, 150),
  directLine(1000, 240),
  storage('lowdb'),
  storage('redis'),
  {
    name: 'memory',
    what: 'heap per active Direct Line conversation, 10,000 open',
    script: 'tests/bench/conversationMemory.ts',
    args: ['--conversations', '10000', '--max-seconds', '420'],
    quickArgs: ['--conversations', '1000', '--max-seconds', '90'],
    results: ['conversation-memory'],
    limitSeconds: 480,
  },
  {
    name: 'relay-one',
    what: 'handover relay latency counsellor -> person, 50 live chats, one instance',
    script: 'tests/bench/relayLatency.ts',
    args: [],
    quickArgs: [],
    results: ['relay-latency'],
    limitSeconds: 180,
  },
  {
    name: 'relay-redis',
    what: 'handover relay latency counsellor -> person, 50 live chats, across two instances via Redis',
    script: 'tests/bench/relayLatency.ts',
    args: ['--redis'],
    quickArgs: ['--redis'],
    results: ['relay-latency-redis'],
    limitSeconds: 180,
  },
  {
    name: 'startup',
    what: 'start-up of bot/index.ts to ready, empty and with 100,000 people stored',
    script: 'tests/bench/startup.ts',
    args: ['--runs', '5', '--stored', '100000'],
    quickArgs: ['--runs', '2', '--stored', '2000'],
    results: ['startup'],
    limitSeconds: 300,
  },
  {
    name: 'risk',
    what: 'risk screen on the held-out set: recall, false positives, time per message',
    script: 'bot/cli/riskEval.ts',
    args: [],
    quickArgs: [],
    results: ['risk-eval'],
    limitSeconds: 180,
  },
  {
    name: 'storage-open',
    what: "lowdb's start-up check of every file, 100 and 100,000 people",
    script: 'tests/bench/storageOpenCheck.ts',
    args: [],
    quickArgs: ['--users', '2000'],
    results: ['storage-open-check'],
    limitSeconds: 240,
    extra: true,
  },
];

interface Ran {
  readonly name: string;
  readonly what: string;
  readonly command: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly seconds: number;
  readonly figures: Figure[];
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
});

if (values.list) {
  for (const b of BENCHMARKS) console.log(`${b.name.padEnd(16)}${b.extra ? '(extra) ' : ''}${b.what}`);
  process.exit(0);
}

const wanted = values.only?.split(',').map((name) => name.trim()).filter(Boolean);
const chosen = BENCHMARKS.filter((b) => (wanted ? wanted.some((name) => b.name === name || b.name.startsWith(`${name}-`)) : !b.extra)).filter(
  (b) => !values.quick || b.quickArgs !== undefined,
);
if (wanted && chosen.length === 0) {
  console.error(`no benchmark is called ${values.only}; there are: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  process.exit(2);
}

let running: { pid: number } | undefined;
// Ctrl-C (or a kill) stops the benchmark running now and everything it started, not only this process.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (running) killGroup(running.pid);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

async function run(benchmark: Benchmark): Promise<Ran> {
  const args = values.quick ? benchmark.quickArgs! : benchmark.args;
  const command = `node --expose-gc --import tsx ${benchmark.script} ${args.join(' ')}`.trim();
  console.log(`\n=== ${benchmark.name}: ${benchmark.what}\n$ ${command}`);
  await Promise.all(benchmark.results.map((name) => rm(resultFile(name), { force: true })));
  const started = performance.now();
  let timedOut = false;
  const exitCode = await new Promise<number | null>((resolve) => {
    // A process group of its own, so a timeout also ends what it started (redis-server, Waypoints, people).
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', benchmark.script, ...args], { cwd: REPO_ROOT, stdio: 'inherit', detached: true });
    running = { pid: child.pid! };
    const timer = setTimeout(() => {
      timedOut = true;
      console.log(`--- ${benchmark.name} ran past ${benchmark.limitSeconds} s and was stopped`);
      killGroup(child.pid!);
    }, benchmark.limitSeconds * 1000);
    child.once('error', () => resolve(null));
    child.once('exit', (code) => {
      clearTimeout(timer);
      // Whatever it left behind (a people process, a redis-server) goes with it.
      killGroup(child.pid!);
      resolve(code);
    });
  });
  running = undefined;
  const seconds = round2((performance.now() - started) / 1000);
  const figures: Figure[] = [];
  for (const name of benchmark.results) figures.push(...(await figuresOf(name, benchmark, { exitCode, timedOut })));
  return { name: benchmark.name, what: benchmark.what, command, exitCode, timedOut, seconds, figures };
}

async function figuresOf(name: string, benchmark: Benchmark, outcome: { exitCode: number | null; timedOut: boolean }): Promise<Figure[]> {
  let result: Record<string, unknown>;
  try {
    result = JSON.parse(await readFile(resultFile(name), 'utf8')) as Record<string, unknown>;
  } catch {
    const why = outcome.timedOut ? `stopped after ${benchmark.limitSeconds} s` : outcome.exitCode === 0 ? 'no result written' : `exited with ${outcome.exitCode}`;
    return [figure(name, null, '', undefined, `not measured: ${why}`)];
  }
  if (Array.isArray(result.figures)) return result.figures as Figure[];
  return figuresOfOlderResult(name, result);
}

/** Results written before bench/results had `figures` (their scripts are not this suite's). */
function figuresOfOlderResult(name: string, result: Record<string, unknown>): Figure[] {
  if (name.startsWith('relay-latency')) {
    const r = result as { p50Ms?: number; p99Ms?: number; targetP99Ms?: number; liveChats?: number };
    const where = name === 'relay-latency' ? 'one instance' : 'two instances via Redis';
    return [
      figure(`relay p50, ${where}, ${r.liveChats ?? '?'} live chats`, r.p50Ms, 'ms'),
      figure(`relay p99, ${where}, ${r.liveChats ?? '?'} live chats`, r.p99Ms, 'ms', r.targetP99Ms === undefined ? undefined : { atMost: r.targetP99Ms }),
    ];
  }
  if (name === 'risk-eval') {
    const heldOut = (result as { heldout?: { targets?: { what: string; value: number; min?: number; max?: number }[] } }).heldout;
    if (!heldOut?.targets) return [figure('risk screen, held-out split', null, '', undefined, 'risk-eval.json has no targets')];
    return heldOut.targets.map((t) =>
      figure(`risk held-out: ${t.what}`, Math.round(t.value * 1000) / 1000, '', t.min !== undefined ? { atLeast: t.min } : t.max !== undefined ? { atMost: t.max } : undefined),
    );
  }
  if (name === 'storage-open-check') {
    const rows = (result as { results?: { users: number; medianOpenMs: number }[] }).results ?? [];
    return rows.map((r) => figure(`lowdb open with ${r.users.toLocaleString('en')} people (median)`, r.medianOpenMs, 'ms'));
  }
  return [figure(name, null, '', undefined, 'result has no figures')];
}

function verdict(f: Figure): string {
  if (f.value === null) return 'n/a';
  if (f.met === null || f.met === undefined) return '';
  return f.met ? 'met' : 'MISSED';
}

function printTable(ran: readonly Ran[]): void {
  const rows = ran.flatMap((r) =>
    r.figures.map((f, i) => ({
      benchmark: i === 0 ? r.name : '',
      figure: f.figure,
      value: f.value === null ? 'n/a' : `${f.value}${f.unit && f.unit !== '×' ? ` ${f.unit}` : f.unit}`,
      target: describeTarget(f.target, f.unit),
      'met?': verdict(f),
      note: f.note ?? '',
    })),
  );
  const columns = ['benchmark', 'figure', 'value', 'target', 'met?', 'note'] as const;
  const widths = columns.map((c) => Math.min(c === 'note' ? 70 : 80, Math.max(c.length, ...rows.map((row) => row[c].length))));
  const line = (cells: readonly string[]) => cells.map((cell, i) => cell.slice(0, widths[i]).padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(columns.map((c) => row[c])));
}

async function main(): Promise<void> {
  const load = os.loadavg()[0]!;
  const cpus = os.cpus().length;
  console.log(`${chosen.length} benchmarks${values.quick ? ' (quick: smaller sizes than the targets are set for)' : ''}: ${chosen.map((b) => b.name).join(', ')}`);
  if (load > cpus * 0.5) console.log(`note: the machine is busy (load ${load.toFixed(1)} on ${cpus} CPUs); expect slow figures`);
  const started = performance.now();
  const ran: Ran[] = [];
  for (const benchmark of chosen) ran.push(await run(benchmark));
  const seconds = round2((performance.now() - started) / 1000);

  console.log(`\n=== Summary${values.quick ? ' (quick run: sizes are smaller than the targets assume)' : ''}: ${ran.length} benchmarks in ${Math.round(seconds)} s, node ${process.version}, ${cpus} CPUs, load ${load.toFixed(1)} at start, ${os.loadavg()[0]!.toFixed(1)} at end\n`);
  printTable(ran);
  const missed = ran.flatMap((r) => r.figures).filter((f) => f.met === false).length;
  const unmeasured = ran.flatMap((r) => r.figures).filter((f) => f.value === null).length;
  console.log(`\n${missed} targets missed, ${unmeasured} figures not measured. Details: bench/results/<benchmark>.json`);

  await mkdir(RESULTS_DIR, { recursive: true });
  const summary = {
    date: new Date().toISOString(),
    quick: values.quick,
    node: process.version,
    cpus,
    loadAverage: { atStart: round2(load), atEnd: round2(os.loadavg()[0]!) },
    seconds,
    benchmarks: ran,
  };
  const file = path.join(RESULTS_DIR, 'summary.json');
  await writeFile(file, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
  const broken = ran.filter((r) => r.exitCode !== 0 || r.timedOut);
  process.exitCode = broken.length > 0 ? 1 : 0;
}

await main();
