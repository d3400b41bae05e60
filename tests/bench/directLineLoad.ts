/**
 * Load on our own Direct Line 3.0 service (bot/channels/directLine/): N people at once, each
 * taking a widget token, starting a conversation, opening the WebSocket stream, then agreeing to
 * the terms and working through the first module of the menu (first button each time, a few
 * typed words where a question only offers "Skip"). Identical people, saying the same words, also
 * talk to a minimal echo bot served by the same service code, in the same run: the baseline.
 * Targets: Waypoint's throughput >= 50% of the echo bot's, and its p99 turn latency <= 2x the
 * echo bot's.
 *
 *   npx tsx tests/bench/directLineLoad.ts [--conversations 50] [--turns 8] [--max-seconds 120]
 *
 * A turn's latency runs from posting the activity to the first bot message arriving on the
 * stream. The people run in a worker thread, so the servers' event loop and heap are the
 * service's alone: heap per conversation is the main thread's, measured after a full GC with
 * every conversation still open. The bots take turns (echo, Waypoint, Waypoint, echo) so drift
 * on a shared machine hits both alike. Everything runs on 127.0.0.1; it prints a table, writes
 * bench/results/directline-load-<conversations>.json and stops by itself, after --max-seconds at
 * most with what it has. It always exits 0: a benchmark reports, it does not pass or fail a build.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, type MessagePort } from 'node:worker_threads';
import type { Activity } from 'botbuilder';
import WebSocket from 'ws';
import { createLogger } from '../../bot/privacy/logger.js';
import { createRuntime, type Runtime } from '../../bot/runtime.js';
import { EchoBot } from './echoBot.js';
import { figure, round2, writeBenchResult } from './support/benchResult.js';
import { benchConfig, serveDirectLine, type ServedDirectLine } from './support/benchServer.js';
import { heapAfterGc, openFileLimit, percentile, sleep } from './support/measure.js';
import { postJson } from './support/postJson.js';
import { runWithinDeadline } from './support/withinDeadline.js';

const DEFAULT_CONVERSATIONS = 50;
const DEFAULT_TURNS = 8;
const WARM_UP_CONVERSATIONS = 10;
type BotName = 'waypoint' | 'echo';
/** Echo first and last, so neither bot always gets the colder or the more tired process. */
const ROUND_ORDER: readonly BotName[] = ['echo', 'waypoint', 'waypoint', 'echo'];
const DEFAULT_MAX_SECONDS = 120;
const CLEANUP_TIMEOUT_MS = 5_000;
/**
 * Every person posts again as soon as answered, so with N people a turn waits behind up to N-1
 * others: the wait for a reply grows with N (at 1,000, seconds on a busy machine), and only a
 * reply that never comes is a failure.
 */
const replyTimeoutMs = (conversations: number): number => Math.max(10_000, conversations * 30);
const TARGET_THROUGHPUT_RATIO = 0.5;
const TARGET_P99_RATIO = 2;
/** What a person types where a question wants words; screened as free text, and screened clean. */
const FREE_TEXT_ANSWER = 'Company in the evenings, mostly, and feeling understood.';
/**
 * Sockets per conversation across this process: the person's stream and kept-alive HTTP
 * connection, and the server's end of each.
 */
const FILES_PER_CONVERSATION = 4;

/** Main thread -> people (worker). Each command gets exactly one answer that is not `samples`. */
type Command =
  | { readonly kind: 'open'; readonly url: string; readonly conversations: number; readonly replyTimeoutMs: number }
  | { readonly kind: 'turns'; readonly turns: number; readonly script: readonly string[] | undefined; readonly skipLabel: string }
  | { readonly kind: 'close' };

type Report =
  | { readonly kind: 'opened'; readonly startMs: number[]; readonly failures: number; readonly problem: string | undefined }
  | { readonly kind: 'samples'; readonly latencyMs: number[]; readonly completeMs: number[] }
  | {
      readonly kind: 'turnsDone';
      readonly seconds: number;
      /** Conversations that gave up on a failed turn, and the first reason. */
      readonly failures: number;
      readonly problem: string | undefined;
      /** Bot messages the people received during the turns. */
      readonly botMessages: number;
      readonly said: string[];
      readonly offScript: number;
    }
  | { readonly kind: 'closed' }
  | { readonly kind: 'failed'; readonly message: string };

// ---------------------------------------------------------------------------------------------
// The people: a worker thread of Direct Line clients.
// ---------------------------------------------------------------------------------------------

/** One person's Direct Line client: REST for posting, the stream for what the bot says. */
class Person {
  /** The buttons on the bot's latest message this turn. */
  buttons: string[] = [];
  readonly said: string[] = [];
  /** Bot messages received so far. */
  botMessages = 0;
  private waiting: { resolve: (at: number) => void; timer: NodeJS.Timeout } | undefined;

  private constructor(
    private readonly replyTimeoutMs: number,
    private readonly url: string,
    private readonly conversationId: string,
    private readonly token: string,
    private readonly stream: WebSocket,
  ) {
    stream.on('message', (data: Buffer) => this.onGroup(data, performance.now()));
    // A broken stream also closes; the turn then waiting fails on its own timeout.
    stream.on('error', () => undefined);
  }

  /** Widget token, new conversation (the welcome turn runs), stream open, welcome received. */
  static async start(url: string, replyTimeoutMs: number): Promise<{ person: Person; startMs: number }> {
    const { token } = await postJson<{ token: string }>(keepAlive, `${url}/webchat/token`, undefined, { locale: 'en' });
    const started = performance.now();
    const conversation = await postJson<{ conversationId: string; token: string; streamUrl: string }>(keepAlive, `${url}/v3/directline/conversations`, token, {});
    const startMs = performance.now() - started;
    const stream = new WebSocket(conversation.streamUrl);
    const person = new Person(replyTimeoutMs, url, conversation.conversationId, conversation.token, stream);
    const welcomed = person.nextReply();
    try {
      await once(stream, 'open');
      // The welcome is already buffered; the stream sends it first.
      await welcomed;
    } catch (error) {
      stream.terminate();
      throw error;
    }
    await nextLoopPass();
    return { person, startMs };
  }

  async turn(text: string): Promise<{ latencyMs: number; completeMs: number }> {
    this.buttons = [];
    this.said.push(text);
    const replied = this.nextReply();
    const sentAt = performance.now();
    await postJson(keepAlive, this.activitiesUrl(), this.token, { type: 'message', text, locale: 'en', channelData: { clientActivityID: randomUUID() } });
    const completeAt = performance.now();
    const firstReplyAt = await replied.catch((error: unknown) => {
      throw new Error(`${messageOf(error)} (the POST was answered after ${Math.round(completeAt - sentAt)} ms)`);
    });
    // Every reply of the turn was written to the stream before the POST was answered; one more
    // pass of the event loop lets the last of them land before the next answer is chosen.
    await nextLoopPass();
    return { latencyMs: firstReplyAt - sentAt, completeMs: completeAt - sentAt };
  }

  /** Leaves as Web Chat does when closed: the bot hears it, the service drops the buffer. */
  async end(): Promise<void> {
    const closed = once(this.stream, 'close');
    try {
      await postJson(keepAlive, this.activitiesUrl(), this.token, { type: 'endOfConversation' });
      await Promise.race([closed, sleep(2000)]);
    } finally {
      this.stream.terminate();
    }
  }

  private activitiesUrl(): string {
    return `${this.url}/v3/directline/conversations/${encodeURIComponent(this.conversationId)}/activities`;
  }

  /** Resolves with the arrival time of the next bot message (the echo of our own does not count). */
  private nextReply(): Promise<number> {
    const reply = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`no reply within ${this.replyTimeoutMs} ms`));
      }, this.replyTimeoutMs);
      this.waiting = { resolve, timer };
    });
    // Awaited later; a timeout while the POST is still out must not count as unhandled.
    reply.catch(() => undefined);
    return reply;
  }

  private onGroup(data: Buffer, at: number): void {
    if (data.length === 0) return; // keep-alive
    const group = JSON.parse(data.toString('utf8')) as { activities: Activity[] };
    for (const activity of group.activities) {
      if (activity.from?.role !== 'bot' || activity.type !== 'message') continue;
      this.botMessages++;
      const actions = activity.suggestedActions?.actions ?? [];
      if (actions.length > 0) this.buttons = actions.map((action) => String(action.value ?? action.title));
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting) {
        clearTimeout(waiting.timer);
        waiting.resolve(at);
      }
    }
  }
}

/** A question that offers only "Skip" wants words: the person types, as people do. */
function answerTo(buttons: readonly string[], skipLabel: string): string {
  if (buttons.length === 0 || (buttons.length === 1 && buttons[0] === skipLabel)) return FREE_TEXT_ANSWER;
  return buttons[0]!;
}

function runPeople(port: MessagePort): void {
  let people: Person[] = [];

  async function handle(command: Command): Promise<Report> {
    switch (command.kind) {
      case 'open': {
        const settled = await Promise.allSettled(Array.from({ length: command.conversations }, () => Person.start(command.url, command.replyTimeoutMs)));
        const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
        const problems = settled.flatMap((s) => (s.status === 'rejected' ? [messageOf(s.reason)] : []));
        people = started.map((s) => s.person);
        return { kind: 'opened', startMs: started.map((s) => s.startMs), failures: problems.length, problem: problems[0] };
      }
      case 'turns': {
        let latencyMs: number[] = [];
        let completeMs: number[] = [];
        const flush = () => {
          if (latencyMs.length > 0) port.postMessage({ kind: 'samples', latencyMs, completeMs } satisfies Report);
          latencyMs = [];
          completeMs = [];
        };
        // Streamed as they come, so a run cut short by the overall timeout still has its figures.
        const flushing = setInterval(flush, 250);
        let failures = 0;
        let problem: string | undefined;
        const messagesBefore = people.reduce((sum, person) => sum + person.botMessages, 0);
        const started = performance.now();
        await Promise.all(
          people.map(async (person) => {
            for (let turn = 0; turn < command.turns; turn++) {
              const text = command.script ? command.script[turn % command.script.length]! : answerTo(person.buttons, command.skipLabel);
              try {
                const sample = await person.turn(text);
                latencyMs.push(sample.latencyMs);
                completeMs.push(sample.completeMs);
              } catch (error) {
                failures++;
                problem ??= messageOf(error);
                return;
              }
            }
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        clearInterval(flushing);
        flush();
        const said = people[0]?.said ?? [];
        const offScript = people.filter((p) => p.said.join('\n') !== said.join('\n')).length;
        const botMessages = people.reduce((sum, person) => sum + person.botMessages, 0) - messagesBefore;
        return { kind: 'turnsDone', seconds, failures, problem, botMessages, said: [...said], offScript };
      }
      case 'close': {
        await Promise.allSettled(people.map((person) => person.end()));
        people = [];
        return { kind: 'closed' };
      }
    }
  }

  port.on('message', (command: Command) => {
    handle(command).then(
      (report) => port.postMessage(report),
      (error: unknown) => port.postMessage({ kind: 'failed', message: messageOf(error) } satisfies Report),
    );
  });
}

/**
 * Plain node:http with kept-alive connections: lighter than fetch, so the people stay cheaper
 * than the service. Every idle connection is kept (the default keeps 256): with 1,000 people,
 * closing the rest meant a new connection for most turns, and some POSTs then took tens of
 * seconds (echo bot at 1,000: p99 25 s and 98 failed conversations before, 5.5 s and none after).
 */
const keepAlive = new Agent({ keepAlive: true, maxFreeSockets: Infinity });

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function nextLoopPass(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// ---------------------------------------------------------------------------------------------
// The servers, the rounds and the report: the main thread.
// ---------------------------------------------------------------------------------------------

/** The people's worker, spoken to one command at a time. */
class People {
  private readonly worker: Worker;
  private answer: ((report: Report) => void) | undefined;
  onSamples: (samples: Extract<Report, { kind: 'samples' }>) => void = () => undefined;

  constructor() {
    // Worker threads do not inherit tsx's loader on Node 20, so the worker registers it first.
    const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    const self = JSON.stringify(import.meta.url);
    this.worker = new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${self}); });`, { eval: true });
    this.worker.on('message', (report: Report) => {
      if (report.kind === 'samples') return this.onSamples(report);
      const answer = this.answer;
      this.answer = undefined;
      answer?.(report);
    });
    this.worker.on('error', (error) => this.answer?.({ kind: 'failed', message: error.message }));
  }

  async ask<K extends Report['kind']>(command: Command, expected: K): Promise<Extract<Report, { kind: K }>> {
    const report = await new Promise<Report>((resolve) => {
      this.answer = resolve;
      this.worker.postMessage(command);
    });
    if (report.kind === 'failed') throw new Error(`the people's worker failed: ${report.message}`);
    if (report.kind !== expected) throw new Error(`the people's worker answered ${report.kind}, not ${expected}`);
    return report as Extract<Report, { kind: K }>;
  }

  /** How busy the people's thread has been, to tell a saturated service from saturated clients. */
  eventLoopUtilization(since?: EventLoopUtilization): EventLoopUtilization {
    return this.worker.performance.eventLoopUtilization(since);
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

interface Round {
  readonly bot: BotName;
  readonly conversations: number;
  readonly latencyMs: number[];
  readonly completeMs: number[];
  startMs: number[];
  turnsStartedAt: number | undefined;
  seconds: number | undefined;
  failures: number;
  /** The first reason a conversation failed, if one did. */
  problem: string | undefined;
  botMessages: number;
  heapBytesPerConversation: number | undefined;
  /** Share of the turns phase each event loop was busy: the servers' (main) and the people's (worker). */
  serverBusy: number | undefined;
  clientsBusy: number | undefined;
}

interface BotFigures {
  readonly rounds: number;
  readonly conversationsPerRound: number;
  readonly turns: number;
  readonly failedConversations: number;
  readonly firstProblem: string | undefined;
  readonly seconds: number;
  readonly turnsPerSecond: number;
  /** Bot messages per turn: each is one stream frame, so this is the service's share of the work. */
  readonly messagesPerTurn: number | undefined;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Until the POST was answered, i.e. the whole turn including its state write. */
  readonly turnCompleteP50Ms: number;
  readonly turnCompleteP99Ms: number;
  /** POST /conversations, which runs the welcome turn. */
  readonly startP50Ms: number;
  readonly startP99Ms: number;
  readonly heapKbPerConversation: number | undefined;
  readonly serverBusyPercent: number | undefined;
  readonly clientsBusyPercent: number | undefined;
}


function figuresOf(rounds: readonly Round[]): BotFigures | undefined {
  const latency = rounds.flatMap((r) => r.latencyMs).sort((a, b) => a - b);
  if (latency.length === 0) return undefined;
  const complete = rounds.flatMap((r) => r.completeMs).sort((a, b) => a - b);
  const start = rounds.flatMap((r) => r.startMs).sort((a, b) => a - b);
  // A round cut short by the overall timeout counts until now.
  const seconds = rounds.reduce((sum, r) => sum + (r.seconds ?? (r.turnsStartedAt ? (performance.now() - r.turnsStartedAt) / 1000 : 0)), 0);
  const mean = (values: (number | undefined)[]) => {
    const known = values.filter((v): v is number => v !== undefined);
    return known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : undefined;
  };
  // A round cut short has not counted its messages yet.
  const finished = rounds.filter((r) => r.seconds !== undefined);
  const finishedTurns = finished.reduce((sum, r) => sum + r.latencyMs.length, 0);
  const heap = mean(rounds.map((r) => r.heapBytesPerConversation));
  const serverBusy = mean(rounds.map((r) => r.serverBusy));
  const clientsBusy = mean(rounds.map((r) => r.clientsBusy));
  return {
    rounds: rounds.length,
    conversationsPerRound: rounds[0]!.conversations,
    turns: latency.length,
    failedConversations: rounds.reduce((sum, r) => sum + r.failures, 0),
    firstProblem: rounds.find((r) => r.problem)?.problem,
    seconds: round2(seconds),
    turnsPerSecond: Math.round(latency.length / seconds),
    messagesPerTurn: finishedTurns > 0 ? round2(finished.reduce((sum, r) => sum + r.botMessages, 0) / finishedTurns) : undefined,
    p50Ms: round2(percentile(latency, 50)),
    p90Ms: round2(percentile(latency, 90)),
    p99Ms: round2(percentile(latency, 99)),
    maxMs: round2(latency.at(-1)!),
    turnCompleteP50Ms: round2(percentile(complete, 50)),
    turnCompleteP99Ms: round2(percentile(complete, 99)),
    startP50Ms: round2(percentile(start, 50)),
    startP99Ms: round2(percentile(start, 99)),
    heapKbPerConversation: heap === undefined ? undefined : Math.round(heap / 1024),
    serverBusyPercent: serverBusy === undefined ? undefined : Math.round(serverBusy * 100),
    clientsBusyPercent: clientsBusy === undefined ? undefined : Math.round(clientsBusy * 100),
  };
}

interface RunOptions {
  readonly conversations: number;
  readonly turns: number;
  readonly maxSeconds: number;
}

function readOptions(): RunOptions {
  const { values } = parseArgs({
    options: {
      conversations: { type: 'string', default: String(DEFAULT_CONVERSATIONS) },
      turns: { type: 'string', default: String(DEFAULT_TURNS) },
      'max-seconds': { type: 'string', default: String(DEFAULT_MAX_SECONDS) },
    },
  });
  const count = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1, not "${value}"`);
    return n;
  };
  return {
    conversations: count('conversations', values.conversations),
    turns: count('turns', values.turns),
    maxSeconds: count('max-seconds', values['max-seconds']),
  };
}

async function report(options: RunOptions, rounds: readonly Round[], said: readonly string[], skipped: string | undefined): Promise<void> {
  const waypoint = figuresOf(rounds.filter((r) => r.bot === 'waypoint'));
  const echo = figuresOf(rounds.filter((r) => r.bot === 'echo'));
  const throughputRatio = waypoint && echo ? round2(waypoint.turnsPerSecond / echo.turnsPerSecond) : undefined;
  const p99Ratio = waypoint && echo ? round2(waypoint.p99Ms / echo.p99Ms) : undefined;
  const verdict = (met: boolean | undefined) => (met === undefined ? 'n/a' : met ? 'met' : 'MISSED');
  const throughputMet = throughputRatio === undefined ? undefined : throughputRatio >= TARGET_THROUGHPUT_RATIO;
  const p99Met = p99Ratio === undefined ? undefined : p99Ratio <= TARGET_P99_RATIO;

  console.log(`\nDirect Line load: ${options.conversations} conversations at once, ${options.turns} turns each, rounds ${ROUND_ORDER.join(', ')}`);
  if (said.length > 0) console.log(`each person says: ${said.map((text) => (text === FREE_TEXT_ANSWER ? '(typed answer)' : text)).join(' | ')}`);
  if (skipped) console.log(skipped);
  const row = (name: string, f: BotFigures | undefined) =>
    f
      ? {
          bot: name,
          conversations: f.conversationsPerRound,
          turns: f.turns,
          'turns/s': f.turnsPerSecond,
          'msgs/turn': f.messagesPerTurn ?? 'n/a',
          'p50 ms': f.p50Ms,
          'p99 ms': f.p99Ms,
          'heap KB/conv': f.heapKbPerConversation ?? 'n/a',
          'server busy %': f.serverBusyPercent ?? 'n/a',
          'clients busy %': f.clientsBusyPercent ?? 'n/a',
          failed: f.failedConversations,
        }
      : { bot: name, turns: 0 };
  console.table([row('Waypoint', waypoint), row('echo', echo)]);
  for (const [name, f] of [['Waypoint', waypoint], ['echo', echo]] as const) {
    if (f?.firstProblem) console.log(`${name}: ${f.failedConversations} conversations failed; the first: ${f.firstProblem}`);
  }
  console.log(
    `Waypoint / echo: throughput ${throughputRatio ?? 'n/a'} (target >= ${TARGET_THROUGHPUT_RATIO}: ${verdict(throughputMet)}), ` +
      `p99 ${p99Ratio ?? 'n/a'}x (target <= ${TARGET_P99_RATIO}x: ${verdict(p99Met)})`,
  );

  const at = `${options.conversations} conversations`;
  const figures = [
    figure(`Waypoint turns/s, ${at}`, waypoint?.turnsPerSecond, 'turns/s'),
    figure(`Waypoint p50 turn latency, ${at}`, waypoint?.p50Ms, 'ms'),
    figure(`Waypoint p99 turn latency, ${at}`, waypoint?.p99Ms, 'ms'),
    figure(`echo bot turns/s, ${at}`, echo?.turnsPerSecond, 'turns/s'),
    figure(`echo bot p99 turn latency, ${at}`, echo?.p99Ms, 'ms'),
    figure(`throughput Waypoint / echo, ${at}`, throughputRatio, '×', { atLeast: TARGET_THROUGHPUT_RATIO }, skipped),
    figure(`p99 latency Waypoint / echo, ${at}`, p99Ratio, '×', { atMost: TARGET_P99_RATIO }, skipped),
  ];
  const details = {
    conversations: options.conversations,
    turnsPerConversation: options.turns,
    roundOrder: ROUND_ORDER,
    complete: skipped === undefined,
    ...(skipped ? { stoppedEarly: skipped } : {}),
    said: said.map((text) => (text === FREE_TEXT_ANSWER ? '(typed answer)' : text)),
    waypoint: waypoint ?? null,
    echo: echo ?? null,
    ratios: { throughput: throughputRatio ?? null, p99: p99Ratio ?? null },
  };
  const file = await writeBenchResult(`directline-load-${options.conversations}`, details, figures);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

async function main(): Promise<void> {
  const options = readOptions();
  const log = createLogger({ level: 'silent' });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-bench-directline-'));
  const rounds: Round[] = [];
  let said: string[] = [];
  let runtime: Runtime | undefined;
  const servers: ServedDirectLine[] = [];
  let people: People | undefined;

  const closeAll = async () => {
    await people?.close();
    await Promise.allSettled(servers.map((server) => server.close()));
    await runtime?.close();
    await rm(dataDir, { recursive: true, force: true });
  };

  const run = async () => {
    const files = openFileLimit();
    const needed = FILES_PER_CONVERSATION * options.conversations + 200;
    if (files !== undefined && files < needed) {
      throw new Error(`${options.conversations} conversations need about ${needed} open files; this process may open ${files} (raise it with ulimit -n)`);
    }
    const config = benchConfig(dataDir);
    runtime = await createRuntime(config, log);
    const skipLabel = runtime.content.forLocale('en').messages.reflect.skip;
    servers.push(await serveDirectLine(runtime.bot, runtime.directLineKey, config, log));
    servers.push(await serveDirectLine(new EchoBot(), randomBytes(32), config, log));
    const urls: Record<BotName, string> = { waypoint: servers[0]!.url, echo: servers[1]!.url };
    people = new People();
    const ask = people;

    const runRound = async (bot: BotName, conversations: number, measured: boolean) => {
      const round: Round = { bot, conversations, latencyMs: [], completeMs: [], startMs: [], turnsStartedAt: undefined, seconds: undefined, failures: 0, problem: undefined, botMessages: 0, heapBytesPerConversation: undefined, serverBusy: undefined, clientsBusy: undefined };
      if (measured) rounds.push(round);
      ask.onSamples = (samples) => {
        round.latencyMs.push(...samples.latencyMs);
        round.completeMs.push(...samples.completeMs);
      };
      const heapBefore = measured ? heapAfterGc().heapUsed : 0;
      const opened = await ask.ask({ kind: 'open', url: urls[bot], conversations, replyTimeoutMs: replyTimeoutMs(conversations) }, 'opened');
      round.startMs = opened.startMs;
      round.failures = opened.failures;
      round.problem = opened.problem;
      round.turnsStartedAt = performance.now();
      const serverBefore = performance.eventLoopUtilization();
      const clientsBefore = ask.eventLoopUtilization();
      // Waypoint's people answer what they are asked; the echo bot's say the same words.
      const script = bot === 'echo' ? said : undefined;
      const done = await ask.ask({ kind: 'turns', turns: options.turns, script, skipLabel }, 'turnsDone');
      round.serverBusy = performance.eventLoopUtilization(serverBefore).utilization;
      round.clientsBusy = ask.eventLoopUtilization(clientsBefore).utilization;
      round.seconds = done.seconds;
      round.failures += done.failures;
      round.problem ??= done.problem;
      round.botMessages = done.botMessages;
      if (measured) round.heapBytesPerConversation = (heapAfterGc().heapUsed - heapBefore) / conversations;
      await ask.ask({ kind: 'close' }, 'closed');
      return { ...done, failures: round.failures, problem: round.problem };
    };

    // Warm-up, unmeasured: JIT, connection pools, and the words the echo bot's people will say.
    const warmUp = await runRound('waypoint', Math.min(WARM_UP_CONVERSATIONS, options.conversations), false);
    if (warmUp.failures > 0 || warmUp.said.length !== options.turns) throw new Error(`Waypoint's warm-up failed: ${warmUp.problem ?? 'a conversation ended early'}`);
    said = warmUp.said;
    await runRound('echo', Math.min(WARM_UP_CONVERSATIONS, options.conversations), false);

    for (const bot of ROUND_ORDER) {
      const done = await runRound(bot, options.conversations, true);
      if (done.offScript > 0) console.log(`note: ${done.offScript} of ${bot}'s people said something else than the first person`);
    }
  };
  await runWithinDeadline({
    maxSeconds: options.maxSeconds,
    cleanupMs: CLEANUP_TIMEOUT_MS,
    run,
    report: (skipped) => report(options, rounds, said, skipped),
    close: closeAll,
  });
}

if (isMainThread) {
  await main();
} else {
  runPeople(parentPort!);
}
