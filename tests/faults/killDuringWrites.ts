/**
 * Fault script: kill -9 during heavy writes, then restart, several times on one data folder.
 * Each round starts Waypoint as its own process on 127.0.0.1, lets new people work through
 * consent and modules over Direct Line, SIGKILLs it mid-load and restarts it on the same folder.
 * It passes when every store file stays whole, every restart succeeds and clears steno's temp
 * files, and every turn the service acknowledged is in the store at the end (people of earlier
 * rounds included). See killDuringWritesRun.ts for what "acknowledged" means and is checked as.
 *
 *   npm run faults -- [--rounds 5] [--people 100] [--kill-after-turns 400] [--seed 1]
 *
 * Bounded: at most 20 rounds of 500 people, and it stops itself after 10 minutes. Writes
 * bench/results/faults-kill.json; exits 1 when anything was lost or broken.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../support/botHarness.js';
import type { WaypointProcess } from '../support/waypointProcess.js';
import { runKillDuringWrites, type KillRunResult } from './killDuringWritesRun.js';

const HARD_TIMEOUT_MS = 10 * 60_000;
const RESULTS_FILE = path.join(REPO_ROOT, 'bench/results/faults-kill.json');

function readOptions() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      people: { type: 'string', default: '100' },
      'kill-after-turns': { type: 'string', default: '400' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    },
  });
  const count = (name: string, value: string, max: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be a whole number from 1 to ${max}, not "${value}"`);
    return n;
  };
  return {
    rounds: count('rounds', values.rounds, 20),
    people: count('people', values.people, 500),
    killAfterTurns: count('kill-after-turns', values['kill-after-turns'], 100_000),
    seed: count('seed', values.seed, 2 ** 31),
  };
}

function verdictOf(result: KillRunResult): string[] {
  const failures: string[] = [...result.errors];
  for (const round of result.rounds) {
    if (round.brokenFiles.length > 0) failures.push(`round ${round.round}: broken files after the kill: ${round.brokenFiles.join(', ')}`);
    if (round.tempFilesAfterRestart > 0) failures.push(`round ${round.round}: ${round.tempFilesAfterRestart} temp files left after the restart`);
  }
  if (result.finalExitCode !== 0) failures.push(`the last restart stopped with exit code ${result.finalExitCode}`);
  failures.push(...result.store.problems);
  return failures;
}

async function main(): Promise<void> {
  const options = readOptions();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-faults-'));
  let latest: WaypointProcess | undefined;
  const timer = setTimeout(() => {
    process.stderr.write(`stopped after ${HARD_TIMEOUT_MS / 60_000} minutes without a result\n`);
    void latest?.kill().finally(() => rm(dataDir, { recursive: true, force: true }).finally(() => process.exit(1)));
  }, HARD_TIMEOUT_MS);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`kill -9 during writes: ${options.rounds} rounds of ${options.people} people, kill after ${options.killAfterTurns} acknowledged turns, seed ${options.seed}`);
  try {
    const result = await runKillDuringWrites({ dataDir, ...options, maxPauseMs: 20, report: say, onProcess: (p) => (latest = p) });
    const failures = verdictOf(result);
    const { store } = result;
    say(
      `store: ${store.people} people; ${store.consent} with acknowledged consent, ${store.exact} checked at their last acknowledged step, ` +
        `${store.inFlight} had a turn in flight at a kill (consent only); ${store.problems.length} problems`,
    );
    const tempFiles = result.rounds.reduce((sum, round) => sum + round.leftoverTempFiles, 0);
    say(`temp files left by kills: ${tempFiles}, all removed by the next start: ${result.rounds.every((r) => r.tempFilesAfterRestart === 0)}`);
    say(`start-up after a kill: ${result.rounds.slice(1).map((r) => r.startMs).concat(result.finalStartMs).join(', ')} ms (load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs)`);
    for (const failure of failures.slice(0, 20)) say(`FAIL ${failure}`);
    say(failures.length === 0 ? 'PASS: nothing acknowledged was lost, every file whole' : `FAIL: ${failures.length} problems`);
    await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
    await writeFile(
      RESULTS_FILE,
      `${JSON.stringify({ script: 'faults: kill -9 during writes', date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, options, passed: failures.length === 0, failures, ...result }, null, 2)}\n`,
    );
    say(`wrote ${path.relative(process.cwd(), RESULTS_FILE)}`);
    process.exitCode = failures.length === 0 ? 0 : 1;
  } catch (error) {
    // E.g. a restart that refused the store: its output, with the files it named, is in the message.
    say(`FAIL: ${(error as Error).message}`);
    process.exitCode = 1;
  } finally {
    clearTimeout(timer);
    // Only does anything when the run stopped half-way: a finished run has stopped its processes.
    await latest?.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
