/**
 * Soak: many people at once for a long while, against Waypoint as an operator runs it (its own
 * process, lowdb store, 127.0.0.1). Each person opens a Direct Line conversation with its stream,
 * works through consent, the menu and modules by pressing buttons with a reader's pauses, leaves
 * after 8 to 30 turns and comes back, half the time as the same person (resuming) and half as
 * someone new. It stops by itself.
 *
 *   npm run soak -- [--minutes 10] [--conversations 500] [--warm-up-minutes 2] [--pause-ms 3000-9000]
 *
 * Targets (issue 7): no errors at all, and memory after warm-up stable within 10%: the sample at
 * the end against the one at the end of warm-up, for the process's V8 heap in use and its RSS,
 * each taken once a minute right after a full collection (processMemory.ts; the collection costs
 * the turns of that moment ~0.1 s). Errors are failed requests, "something went wrong" replies,
 * broken streams, and error lines in Waypoint's log. Writes bench/results/soak.json; exits 1
 * when a target is missed.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadContent } from '../../bot/content/loadContent.js';
import { REPO_ROOT } from '../support/botHarness.js';
import { startWaypointProcess, type WaypointProcess } from '../support/waypointProcess.js';
import { StepIndex } from './acknowledgedState.js';
import { DirectLinePerson } from './directLinePerson.js';
import { seededRandom } from '../support/seededRandom.js';
import { faultEnv } from './killDuringWritesRun.js';
import { INSPECT_ON_LOOPBACK, memoryAfterGc, type MemoryAfterGc } from './processMemory.js';

const RESULTS_FILE = path.join(REPO_ROOT, 'bench/results/soak.json');
const MINUTE_MS = 60_000;
const REQUEST_TIMEOUT_MS = 30_000;
const STABLE_WITHIN = 0.1;
/** How many error descriptions the report keeps; all are counted. */
const KEPT_ERRORS = 20;

interface Options {
  readonly minutes: number;
  readonly conversations: number;
  readonly warmUpMinutes: number;
  readonly pauseMs: readonly [number, number];
  readonly seed: number;
}

interface MinuteSample {
  readonly minute: number;
  readonly turns: number;
  readonly turnsPerSecond: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Right after a full collection, at the end of the minute; null when the sample failed. */
  readonly memory: MemoryAfterGc | null;
  readonly errors: number;
  readonly loadAverage: number;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      conversations: { type: 'string', default: '500' },
      'warm-up-minutes': { type: 'string' },
      'pause-ms': { type: 'string', default: '3000-9000' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    },
  });
  const count = (name: string, value: string, min: number, max: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, not "${value}"`);
    return n;
  };
  const minutes = count('minutes', values.minutes, 2, 120);
  const warmUpMinutes = count('warm-up-minutes', values['warm-up-minutes'] ?? String(Math.min(2, Math.floor(minutes / 2))), 1, minutes - 1);
  const [low, high] = values['pause-ms'].split('-').map(Number);
  if (!Number.isInteger(low) || !Number.isInteger(high) || low! < 0 || high! < low! || high! > 60_000) throw new Error('--pause-ms must look like 3000-9000');
  return {
    minutes,
    conversations: count('conversations', values.conversations, 1, 2000),
    warmUpMinutes,
    pauseMs: [low!, high!],
    seed: count('seed', values.seed, 0, 2 ** 31),
  };
}

/** What to clean up when the soak fails half-way. */
const leftBehind: { waypoint?: WaypointProcess; dataDir?: string } = {};

async function main(): Promise<void> {
  const options = readOptions();
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-soak-'));
  leftBehind.dataDir = dataDir;
  const { env } = faultEnv(dataDir);
  const content = (await loadContent(path.join(REPO_ROOT, 'resources/content'))).forLocale('en');
  const index = new StepIndex(content);
  const { messages } = content;
  const blocked = new Set([messages.consent.decline, messages.menu.talkToPerson, messages.end.human, messages.safety.talkNow, messages.handover.connectMe]);
  const random = seededRandom(options.seed);
  const pause = () => options.pauseMs[0] + random() * (options.pauseMs[1] - options.pauseMs[0]);

  say(
    `soak: ${options.conversations} people for ${options.minutes} minutes (warm-up ${options.warmUpMinutes}), pauses ${options.pauseMs.join('-')} ms, ` +
      `seed ${options.seed}, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`,
  );
  const waypoint = await startWaypointProcess({ ...env, NODE_OPTIONS: INSPECT_ON_LOOPBACK });
  leftBehind.waypoint = waypoint;
  say(`Waypoint (pid ${waypoint.pid}) started in ${Math.round(waypoint.startMs)} ms`);
  const hardStop = setTimeout(() => {
    process.stderr.write('soak: still running 3 minutes past its end; stopping\n');
    void waypoint.kill().finally(() => rm(dataDir, { recursive: true, force: true }).finally(() => process.exit(1)));
  }, (options.minutes + 3) * MINUTE_MS);
  // If the soak fails half-way, this timer must not keep the script alive.
  hardStop.unref();

  const started = performance.now();
  const deadline = started + options.minutes * MINUTE_MS;
  const left = () => deadline - performance.now();
  let errorCount = 0;
  const errors: string[] = [];
  const error = (what: string) => {
    errorCount++;
    if (errors.length < KEPT_ERRORS) errors.push(`${Math.round((performance.now() - started) / 1000)} s: ${what}`);
  };
  let latencies: number[] = [];
  const allLatencies: number[] = [];
  let visits = 0;
  let returning = 0;

  const person = async (n: number): Promise<void> => {
    let visit = 0;
    let userId = `soak-${n}-0`;
    // Spread the first arrivals over one pause, as people do not all arrive in the same second.
    await sleep(Math.min(random() * options.pauseMs[1], left()));
    while (left() > 0) {
      let session: Awaited<ReturnType<typeof DirectLinePerson.start>>;
      try {
        session = await DirectLinePerson.start({ baseUrl: waypoint.url, secret: env.DIRECT_LINE_SECRET!, userId, stream: true, timeoutMs: REQUEST_TIMEOUT_MS });
      } catch (failure) {
        error(`a conversation did not start: ${messageOf(failure)}`);
        await sleep(Math.min(pause(), left()));
        continue;
      }
      visits++;
      const { person: client } = session;
      let turn = session.welcome;
      const length = 8 + Math.floor(random() * 23);
      for (let i = 0; i < length && left() > 0; i++) {
        await sleep(Math.min(pause(), Math.max(0, left())));
        if (left() <= 0) break;
        const choices = turn.buttons.filter((label) => !blocked.has(label));
        const press = choices.length > 0 ? choices[Math.floor(random() * choices.length)]! : 'menu';
        try {
          turn = await client.say(press);
        } catch (failure) {
          error(`a turn failed: ${messageOf(failure)}`);
          break;
        }
        latencies.push(turn.ms);
        allLatencies.push(turn.ms);
        if (index.isErrorReply(turn)) error('the bot said something went wrong');
      }
      if (client.streamFailure) error(`a stream failed: ${client.streamFailure}`);
      try {
        await client.end();
      } catch (failure) {
        error(`leaving failed: ${messageOf(failure)}`);
      }
      visit++;
      if (random() < 0.5) returning++;
      else userId = `soak-${n}-${visit}`;
    }
  };

  const before = await memoryAfterGc(waypoint);
  say(`before any load: RSS ${before.rssMb} MB, heap ${before.heapUsedMb} MB`);
  const minutes: MinuteSample[] = [];
  let errorsBefore = 0;
  // One sample at the end of each minute of load; the last one as the people stop.
  const sampler = (async () => {
    for (let minute = 1; minute <= options.minutes; minute++) {
      await sleep(started + minute * MINUTE_MS - performance.now());
      const turns = latencies;
      latencies = [];
      const errorsThisMinute = errorCount - errorsBefore;
      errorsBefore = errorCount;
      const memory = await memoryAfterGc(waypoint).catch((failure: unknown) => {
        say(`minute ${minute}: no memory sample (${messageOf(failure)})`);
        return null;
      });
      const sample: MinuteSample = {
        minute,
        turns: turns.length,
        turnsPerSecond: round1(turns.length / 60),
        p50Ms: percentile(turns, 0.5),
        p99Ms: percentile(turns, 0.99),
        memory,
        errors: errorsThisMinute,
        loadAverage: round1(os.loadavg()[0]!),
      };
      minutes.push(sample);
      const phase = minute <= options.warmUpMinutes ? 'warm-up' : 'measured';
      const heap = memory ? `RSS ${memory.rssMb} MB, heap ${memory.heapUsedMb} MB (of ${memory.heapTotalMb}), external ${memory.externalMb} MB` : 'no memory sample';
      say(`minute ${minute} (${phase}): ${sample.turns} turns (${sample.turnsPerSecond}/s), p50 ${sample.p50Ms} ms, p99 ${sample.p99Ms} ms, ${heap}, errors ${sample.errors}, load ${sample.loadAverage}`);
    }
  })();

  await Promise.all(Array.from({ length: options.conversations }, (_, n) => person(n)));
  await sampler;
  const exitCode = await waypoint.stop();
  clearTimeout(hardStop);
  if (exitCode !== 0) error(`Waypoint stopped with exit code ${exitCode}`);
  for (const line of waypoint.output().split('\n').filter((l) => /"level":(50|60)/.test(l))) error(`Waypoint logged ${line.slice(0, 300)}`);
  await rm(dataDir, { recursive: true, force: true });

  // The end of warm-up, and the last whole minute.
  const first = minutes.find((m) => m.minute === options.warmUpMinutes);
  const last = minutes.filter((m) => m.minute > options.warmUpMinutes).at(-1);
  const change = (pick: (m: MemoryAfterGc) => number): number | null => {
    const a = first?.memory && pick(first.memory);
    const b = last?.memory && pick(last.memory);
    return a && b ? round3((b - a) / a) : null;
  };
  const rssChange = change((m) => m.rssMb);
  const heapChange = change((m) => m.heapUsedMb);
  const stable = (value: number | null) => value !== null && Math.abs(value) <= STABLE_WITHIN;
  const passed = errorCount === 0 && stable(rssChange) && stable(heapChange);
  const seconds = (performance.now() - started) / 1000;
  const summary = {
    turns: allLatencies.length,
    turnsPerSecond: round1(allLatencies.length / seconds),
    visits,
    returningVisits: returning,
    p50Ms: percentile(allLatencies, 0.5),
    p99Ms: percentile(allLatencies, 0.99),
    maxMs: allLatencies.length > 0 ? round1(Math.max(...allLatencies)) : null,
    errors: errorCount,
    memory: {
      beforeLoad: before,
      afterWarmUp: first ? { minute: first.minute, ...first.memory } : null,
      last: last ? { minute: last.minute, ...last.memory } : null,
      rssChange,
      heapUsedChange: heapChange,
      stableWithin: STABLE_WITHIN,
    },
  };
  say(
    `\n${summary.turns} turns in ${Math.round(seconds)} s (${summary.turnsPerSecond}/s), ${visits} visits, p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms, max ${summary.maxMs} ms`,
  );
  say(`errors: ${errorCount}${errors.length > 0 ? `; the first: ${errors.join(' | ')}` : ''}`);
  say(
    `memory after a full GC, end of warm-up (minute ${first?.minute}) -> end (minute ${last?.minute}): RSS ${first?.memory?.rssMb} -> ${last?.memory?.rssMb} MB (${pct(rssChange)}), ` +
      `heap ${first?.memory?.heapUsedMb} -> ${last?.memory?.heapUsedMb} MB (${pct(heapChange)}); within ${STABLE_WITHIN * 100}%: ${stable(rssChange) && stable(heapChange)}`,
  );
  say(passed ? 'PASS' : 'FAIL');
  await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  await writeFile(
    RESULTS_FILE,
    `${JSON.stringify({ script: 'soak', date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, options, startMs: Math.round(waypoint.startMs), passed, ...summary, firstErrors: errors, minutes }, null, 2)}\n`,
  );
  say(`wrote ${path.relative(process.cwd(), RESULTS_FILE)}`);
  process.exitCode = passed ? 0 : 1;
}

function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return round1(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
}

function pct(value: number | null): string {
  return value === null ? 'n/a' : `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function messageOf(failure: unknown): string {
  const cause = (failure as { cause?: { code?: string } }).cause?.code;
  return `${(failure as Error).message ?? String(failure)}${cause ? ` (${cause})` : ''}`;
}

try {
  await main();
} catch (failure) {
  process.stdout.write(`FAIL: the soak stopped: ${messageOf(failure)}\n`);
  process.exitCode = 1;
  await leftBehind.waypoint?.kill();
  if (leftBehind.dataDir) await rm(leftBehind.dataDir, { recursive: true, force: true });
}
