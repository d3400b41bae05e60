/**
 * Memory per active conversation: the server's heap with 10,000 Direct Line conversations open,
 * each started (welcome turn), with its stream open and the terms agreed to (one more turn), as
 * a person who has just arrived in Web Chat. Target: <= 16 KB per conversation.
 *
 *   node --expose-gc --import tsx tests/bench/conversationMemory.ts [--conversations 10000] [--profile]
 *
 * The figure is (heap after a full GC with every conversation open - heap before) / conversations,
 * in this process, which serves Waypoint (lowdb) behind our Direct Line service on 127.0.0.1. The
 * people run in a child process (support/openConversations.ts), so their heap and sockets are
 * not counted. To show where the memory goes it then measures again with every stream dropped
 * (the conversations stay open, as after a lost connection) and with every conversation ended,
 * and counts what the delivery buffers hold. With --profile it also takes heap snapshots before
 * and with everything open and lists what grew, by constructor (slow: use 1,000-2,000
 * conversations). Writes bench/results/conversation-memory.json and always exits 0 with what it
 * measured; stops by itself after --max-seconds.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../bot/privacy/logger.js';
import { createRuntime, type Runtime } from '../../bot/runtime.js';
import { figure, round2, writeBenchResult, type Figure } from './support/benchResult.js';
import { benchConfig, serveDirectLine, type ServedDirectLine } from './support/benchServer.js';
import { growth, heapCensus, type HeapCensus } from './support/heapProfile.js';
import { heapAfterGc, openFileLimit, sleep } from './support/measure.js';
import type { OpenerCommand, OpenerReport } from './support/openConversations.js';
import { runWithinDeadline } from './support/withinDeadline.js';

const TARGET_KB = 16;
const WARM_UP_CONVERSATIONS = 50;
const OPEN_CONCURRENCY = 64;
const STREAMS_GONE_TIMEOUT_MS = 30_000;

const { values } = parseArgs({
  options: {
    conversations: { type: 'string', default: '10000' },
    'max-seconds': { type: 'string', default: '420' },
    profile: { type: 'boolean', default: false },
  },
});
const conversations = Number(values.conversations);
const maxSeconds = Number(values['max-seconds']);
if (!Number.isInteger(conversations) || conversations < 1) throw new Error(`--conversations must be a whole number of at least 1, not "${values.conversations}"`);
if (!Number.isInteger(maxSeconds) || maxSeconds < 1) throw new Error(`--max-seconds must be a whole number of at least 1, not "${values['max-seconds']}"`);

/** Talks to the people's process, one command at a time. */
class Opener {
  private readonly child: ChildProcess;
  private answer: ((report: OpenerReport) => void) | undefined;

  constructor() {
    this.child = fork(path.join(import.meta.dirname, 'support/openConversations.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (report: OpenerReport) => {
      const answer = this.answer;
      this.answer = undefined;
      answer?.(report);
    });
    this.child.on('exit', (code) => this.answer?.({ kind: 'failed', message: `the people's process exited (${code})` }));
  }

  async ask<K extends OpenerReport['kind']>(command: OpenerCommand, expected: K): Promise<Extract<OpenerReport, { kind: K }>> {
    const report = await new Promise<OpenerReport>((resolve) => {
      this.answer = resolve;
      this.child.send(command);
    });
    if (report.kind === 'failed') throw new Error(`the people's process failed: ${report.message}`);
    if (report.kind !== expected) throw new Error(`the people's process answered ${report.kind}, not ${expected}`);
    return report as Extract<OpenerReport, { kind: K }>;
  }

  close(): void {
    if (this.child.connected) this.child.send({ kind: 'exit' } satisfies OpenerCommand);
    setTimeout(() => this.child.kill('SIGKILL'), 5000).unref();
  }
}

interface Measured {
  openSeconds?: number;
  failed?: number;
  firstProblem?: string;
  /** Bytes, after a full GC. */
  heapBefore?: number;
  heapOpen?: number;
  heapStreamsDropped?: number;
  heapEnded?: number;
  externalBefore?: number;
  externalOpen?: number;
  rssBefore?: number;
  rssOpen?: number;
  /** What the delivery buffers hold per conversation, with everything open. */
  bufferedActivitiesPerConversation?: number;
  bufferedJsonBytesPerConversation?: number;
  /** With --profile: what grew most per conversation, by constructor. */
  heapGrowthPerConversation?: { kind: string; countPer: number; bytesPer: number }[];
}

const measured: Measured = {};
let stoppedEarly: string | undefined;

function perConversationKb(after: number | undefined, before: number | undefined, count: number): number | null {
  return after === undefined || before === undefined ? null : round2((after - before) / count / 1024);
}

async function report(): Promise<void> {
  const opened = conversations - (measured.failed ?? conversations);
  const count = Math.max(1, opened);
  const headline = perConversationKb(measured.heapOpen, measured.heapBefore, count);
  const note = stoppedEarly ?? (measured.failed ? `${measured.failed} conversations failed to open; the first: ${measured.firstProblem}` : undefined);
  const figures: Figure[] = [
    figure(`heap per active conversation, ${conversations.toLocaleString('en')} open (stream open, terms agreed)`, headline, 'KB', { atMost: TARGET_KB }, note),
    figure('  of which the open stream (heap freed when it drops)', perConversationKb(measured.heapOpen, measured.heapStreamsDropped, count), 'KB'),
    figure('  left after the conversation ends (tombstones, caches)', perConversationKb(measured.heapEnded, measured.heapBefore, count), 'KB'),
    figure('  off-heap (Buffers) per conversation', perConversationKb(measured.externalOpen, measured.externalBefore, count), 'KB'),
    figure('  process RSS per conversation (heap, off-heap, sockets)', perConversationKb(measured.rssOpen, measured.rssBefore, count), 'KB'),
  ];
  console.log(`\nMemory with ${opened.toLocaleString('en')} Direct Line conversations open (welcome + terms agreed, stream open)`);
  if (note) console.log(note);
  console.table(figures.map((f) => ({ figure: f.figure, value: f.value ?? 'n/a', unit: f.unit, target: f.target ? `<= ${TARGET_KB} KB` : '', met: f.met ?? '' })));
  if (measured.bufferedActivitiesPerConversation !== undefined) {
    console.log(
      `delivery buffer per conversation: ${measured.bufferedActivitiesPerConversation} activities, ${measured.bufferedJsonBytesPerConversation} bytes as JSON`,
    );
  }
  if (measured.heapGrowthPerConversation) {
    console.log('what grew per conversation (heap snapshots):');
    console.table(measured.heapGrowthPerConversation);
  }
  const file = await writeBenchResult('conversation-memory', { conversations, opened, complete: stoppedEarly === undefined, ...measured }, figures);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

async function main(): Promise<void> {
  const log = createLogger({ level: 'silent' });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-bench-memory-'));
  const secret = randomBytes(32).toString('base64url');
  let runtime: Runtime | undefined;
  let served: ServedDirectLine | undefined;
  let opener: Opener | undefined;
  const closeAll = async () => {
    opener?.close();
    await served?.close();
    await runtime?.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  const run = async () => {
    const files = openFileLimit();
    if (files !== undefined && files < conversations + 500) {
      throw new Error(`${conversations} open streams need about ${conversations + 500} open files; this process may open ${files} (raise it with ulimit -n)`);
    }
    const config = benchConfig(dataDir, { DIRECT_LINE_SECRET: secret });
    runtime = await createRuntime(config, log);
    served = await serveDirectLine(runtime.bot, runtime.directLineKey, config, log);
    const say = runtime.content.forLocale('en').messages.consent.agree;
    opener = new Opener();
    const live = served.channel.conversations;
    const open = (count: number) => opener!.ask({ kind: 'open', url: served!.url, secret, count, concurrency: OPEN_CONCURRENCY, say }, 'opened');
    const endAll = () => {
      for (const conversation of [...live.all()]) live.end(conversation.id);
    };

    // Warm-up: every code path has run and been compiled before the baseline is taken.
    const warmUp = await open(WARM_UP_CONVERSATIONS);
    if (warmUp.failed > 0) throw new Error(`the warm-up failed: ${warmUp.problem}`);
    await opener.ask({ kind: 'closeStreams' }, 'streamsClosed');
    await streamsGone(live);
    endAll();

    const censusBefore: HeapCensus | undefined = values.profile ? await heapCensus() : undefined;
    const before = heapAfterGc();
    Object.assign(measured, { heapBefore: before.heapUsed, externalBefore: before.external, rssBefore: before.rss });
    console.log(`opening ${conversations.toLocaleString('en')} conversations, ${OPEN_CONCURRENCY} at a time...`);
    const opened = await open(conversations);
    Object.assign(measured, { openSeconds: round2(opened.seconds), failed: opened.failed, firstProblem: opened.problem });
    if (live.size !== opened.opened) console.log(`note: the service holds ${live.size} conversations, the people opened ${opened.opened}`);

    const withStreams = heapAfterGc();
    Object.assign(measured, { heapOpen: withStreams.heapUsed, externalOpen: withStreams.external, rssOpen: withStreams.rss });
    let activities = 0;
    let jsonBytes = 0;
    for (const conversation of live.all()) {
      const buffered = conversation.after(undefined).activities;
      activities += buffered.length;
      jsonBytes += JSON.stringify(buffered).length;
    }
    measured.bufferedActivitiesPerConversation = round2(activities / Math.max(1, live.size));
    measured.bufferedJsonBytesPerConversation = Math.round(jsonBytes / Math.max(1, live.size));
    if (censusBefore) measured.heapGrowthPerConversation = growth(censusBefore, await heapCensus(), Math.max(1, opened.opened));

    await opener.ask({ kind: 'closeStreams' }, 'streamsClosed');
    await streamsGone(live);
    measured.heapStreamsDropped = heapAfterGc().heapUsed;
    endAll();
    measured.heapEnded = heapAfterGc().heapUsed;
  };
  await runWithinDeadline({
    maxSeconds,
    cleanupMs: 5000,
    run,
    report: async (reason) => {
      stoppedEarly = reason;
      await report();
    },
    close: closeAll,
  });
}

/** The server notices dropped streams a little after the people drop them. */
async function streamsGone(live: ServedDirectLine['channel']['conversations']): Promise<void> {
  const deadline = Date.now() + STREAMS_GONE_TIMEOUT_MS;
  const open = () => [...live.all()].reduce((sum, conversation) => sum + conversation.streamCount, 0);
  while (open() > 0) {
    if (Date.now() > deadline) throw new Error(`${open()} streams were still open ${STREAMS_GONE_TIMEOUT_MS / 1000} s after the people dropped them`);
    await sleep(50);
  }
}

await main();
