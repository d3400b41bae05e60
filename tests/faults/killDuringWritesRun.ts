/**
 * kill -9 under load, then restart, on one data folder: the part the fault script
 * (killDuringWrites.ts) and its bounded test (killDuringWrites.test.ts) share.
 *
 * Each round starts Waypoint as its own process (tests/support/waypointProcess.ts), lets new
 * people work through consent and modules over Direct Line with short pauses (so that at the kill
 * some have a turn in flight and some have none), and SIGKILLs it once enough turns were
 * acknowledged. After the kill every store file must parse as a record. The next start must
 * succeed on the same folder and leave no temp file. At the end the store must hold every
 * person's acknowledged state: people from earlier rounds included, since nothing may have
 * touched them since.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadContent } from '../../bot/content/loadContent.js';
import type { Content } from '../../bot/content/schema.js';
import { createPseudonymizer } from '../../bot/privacy/pseudonym.js';
import { createLowdbStorage } from '../../bot/storage/lowdbStorage.js';
import { REPO_ROOT } from '../support/botHarness.js';
import { seededRandom } from '../support/seededRandom.js';
import { startWaypointProcess, type WaypointProcess } from '../support/waypointProcess.js';
import { Acknowledged, checkStore, StepIndex, type StoreCheck } from './acknowledgedState.js';
import { DirectLinePerson, type BotTurn } from './directLinePerson.js';

export interface KillRunOptions {
  readonly dataDir: string;
  readonly rounds: number;
  /** New people in each round, all at once. */
  readonly people: number;
  /** Turns acknowledged in a round (over all its people) before the kill. */
  readonly killAfterTurns: number;
  /**
   * Half the people pause up to this long before each turn, and keep the writes coming; the other
   * half pause 100 to 600 ms, like someone reading, so that at the kill many have nothing in
   * flight and their last step can be checked exactly.
   */
  readonly maxPauseMs: number;
  readonly seed?: number;
  /** Progress lines, for the script. */
  readonly report?: (line: string) => void;
  /** Told of each Waypoint process as it starts, so a caller that gives up can still kill it. */
  readonly onProcess?: (waypoint: WaypointProcess) => void;
}

export interface RoundResult {
  readonly round: number;
  readonly startMs: number;
  readonly acknowledgedTurns: number;
  /** People whose turn was posted and not answered when the process died. */
  readonly inFlightAtKill: number;
  readonly killedAfterMs: number;
  readonly storeFiles: number;
  /** Temp files steno left (writes cut off before their rename); the next start removes them. */
  readonly leftoverTempFiles: number;
  /** Files that did not parse as a store record after the kill: must be none. */
  readonly brokenFiles: readonly string[];
  /** Temp files still there once the next start is listening: must be 0. */
  readonly tempFilesAfterRestart: number;
}

export interface KillRunResult {
  readonly rounds: readonly RoundResult[];
  readonly finalStartMs: number;
  readonly finalExitCode: number | null;
  readonly store: StoreCheck;
  /** Anything that went wrong other than the kill itself: must be none. */
  readonly errors: readonly string[];
}

/** Buttons that would take a person out of the self-help loop (a counsellor queue, leaving). */
function blockedLabels(content: Content): Set<string> {
  const { messages } = content;
  return new Set([messages.consent.decline, messages.menu.talkToPerson, messages.end.human, messages.safety.talkNow, messages.handover.connectMe]);
}

/** The environment of every Waypoint in a run: fixed secrets, so the run can find people's keys and restarts keep them. */
export function faultEnv(dataDir: string): { env: Record<string, string>; pseudonymSecret: string } {
  const pseudonymSecret = randomBytes(32).toString('hex');
  return {
    pseudonymSecret,
    env: {
      DATA_DIR: dataDir,
      PSEUDONYM_SECRET: pseudonymSecret,
      DIRECT_LINE_SECRET: randomBytes(24).toString('hex'),
      HANDOVER_FILE: path.join(REPO_ROOT, 'tests/fixtures/handover/always-open.yaml'),
      PRIVACY_GUARD: 'throw',
      LOG_LEVEL: 'warn',
    },
  };
}

export async function runKillDuringWrites(options: KillRunOptions): Promise<KillRunResult> {
  const report = options.report ?? (() => undefined);
  const library = await loadContent(path.join(REPO_ROOT, 'resources/content'));
  const content = library.forLocale('en');
  const index = new StepIndex(content);
  const blocked = blockedLabels(content);
  const random = seededRandom(options.seed ?? Date.now());
  const { env, pseudonymSecret } = faultEnv(options.dataDir);
  const everyone: Acknowledged[] = [];
  const errors: string[] = [];
  const rounds: RoundResult[] = [];

  const start = async () => {
    const started = await startWaypointProcess(env);
    options.onProcess?.(started);
    return started;
  };
  let waypoint = await start();
  for (let round = 1; round <= options.rounds; round++) {
    const startMs = Math.round(waypoint.startMs);
    report(`round ${round}: Waypoint started in ${startMs} ms; ${options.people} people start`);
    const outcome = await loadAndKill(waypoint, round, options, env.DIRECT_LINE_SECRET!, index, blocked, random, errors);
    everyone.push(...outcome.people);
    const files = await inspectStore(options.dataDir);
    report(
      `round ${round}: killed after ${outcome.acknowledgedTurns} acknowledged turns (${outcome.inFlight} in flight); ` +
        `${files.storeFiles} store files, ${files.brokenFiles.length} broken, ${files.tempFiles} temp files left`,
    );
    waypoint = await start();
    const afterRestart = await inspectStore(options.dataDir);
    rounds.push({
      round,
      startMs,
      acknowledgedTurns: outcome.acknowledgedTurns,
      inFlightAtKill: outcome.inFlight,
      killedAfterMs: outcome.killedAfterMs,
      storeFiles: files.storeFiles,
      leftoverTempFiles: files.tempFiles,
      brokenFiles: files.brokenFiles,
      tempFilesAfterRestart: afterRestart.tempFiles,
    });
  }
  const finalStartMs = Math.round(waypoint.startMs);
  const finalExitCode = await waypoint.stop();
  errors.push(...serverErrors(waypoint, 'final start'));
  report(`restarted in ${finalStartMs} ms and stopped (exit ${finalExitCode}); checking ${everyone.length} people's stored state`);

  const storage = await createLowdbStorage({ dir: options.dataDir });
  try {
    const store = await checkStore(storage, createPseudonymizer(pseudonymSecret), content, everyone);
    return { rounds, finalStartMs, finalExitCode, store, errors };
  } finally {
    await storage.close();
  }
}

interface RoundOutcome {
  readonly people: Acknowledged[];
  readonly acknowledgedTurns: number;
  readonly inFlight: number;
  readonly killedAfterMs: number;
}

async function loadAndKill(
  waypoint: WaypointProcess,
  round: number,
  options: KillRunOptions,
  secret: string,
  index: StepIndex,
  blocked: ReadonlySet<string>,
  random: () => number,
  errors: string[],
): Promise<RoundOutcome> {
  const people: Acknowledged[] = [];
  let killed = false;
  let acknowledgedTurns = 0;
  const started = performance.now();
  let armKill: () => void = () => undefined;
  const killNow = new Promise<void>((resolve) => (armKill = resolve));

  const person = async (n: number): Promise<void> => {
    const userId = `fault-r${round}-p${n}`;
    let session: { person: DirectLinePerson; welcome: BotTurn };
    try {
      session = await DirectLinePerson.start({ baseUrl: waypoint.url, secret, userId, timeoutMs: 15_000 });
    } catch (error) {
      // A conversation the kill cut off before it was answered promises nothing.
      if (!killed) errors.push(`${userId} could not start: ${messageOf(error)}`);
      return;
    }
    const ack = new Acknowledged(userId, session.person.conversationId);
    people.push(ack);
    let turn = session.welcome;
    ack.acknowledge(turn, index);
    const pause = () => (n % 2 === 0 ? random() * options.maxPauseMs : 100 + random() * 500);
    while (!killed) {
      await sleep(pause());
      if (killed) break;
      const choices = turn.buttons.filter((label) => !blocked.has(label));
      // With no button to press, a person types a command, as the help text suggests.
      const press = choices.length > 0 ? choices[Math.floor(random() * choices.length)]! : 'menu';
      try {
        turn = await session.person.say(press);
      } catch (error) {
        // Posted but not answered (or its replies not read) before the kill: outcome unknown.
        if (killed) ack.inFlight = true;
        else errors.push(`${userId} turn ${ack.turns + 1} failed: ${messageOf(error)}`);
        break;
      }
      if (index.isErrorReply(turn)) errors.push(`${userId} turn ${ack.turns + 1}: the bot said something went wrong`);
      ack.acknowledge(turn, index);
      if (++acknowledgedTurns >= options.killAfterTurns) armKill();
    }
  };

  const running = Promise.all(Array.from({ length: options.people }, (_, n) => person(n)));
  // A kill a little after the count is reached, so it does not always land on the same kind of write.
  await killNow;
  await sleep(random() * 200);
  killed = true;
  await waypoint.kill();
  const killedAfterMs = Math.round(performance.now() - started);
  await running;
  errors.push(...serverErrors(waypoint, `round ${round}`));
  return { people, acknowledgedTurns, inFlight: people.filter((p) => p.inFlight).length, killedAfterMs };
}

/** Every file under state/: data files must parse as store records; temp files are counted. */
async function inspectStore(dataDir: string): Promise<{ storeFiles: number; tempFiles: number; brokenFiles: string[] }> {
  const stateDir = path.join(dataDir, 'state');
  const entries = await readdir(stateDir, { recursive: true, withFileTypes: true });
  let storeFiles = 0;
  let tempFiles = 0;
  const brokenFiles: string[] = [];
  for (const entry of entries.filter((e) => e.isFile())) {
    const file = path.join(entry.parentPath, entry.name);
    if (entry.name.endsWith('.tmp')) {
      tempFiles++;
      continue;
    }
    storeFiles++;
    try {
      const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      if (typeof record.key !== 'string' || typeof record.eTag !== 'string' || typeof record.value !== 'object') throw new Error('not a record');
    } catch {
      brokenFiles.push(path.relative(dataDir, file));
    }
  }
  return { storeFiles, tempFiles, brokenFiles };
}

/** Error and fatal lines the process logged (pino levels 50 and 60). */
function serverErrors(waypoint: WaypointProcess, when: string): string[] {
  return waypoint
    .output()
    .split('\n')
    .filter((line) => /"level":(50|60)/.test(line))
    .map((line) => `${when}: Waypoint logged ${line.slice(0, 300)}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function messageOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return `${(error as Error).message ?? String(error)}${cause ? ` (${cause})` : ''}`;
}
