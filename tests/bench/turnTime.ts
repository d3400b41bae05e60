/**
 * Whole-turn latency through the real pipeline (FreeText, dialogs, privacy guard, lowdb) with
 * 100 and with 100,000 people stored. Each stored person is a copy of a real person's state
 * part-way through a module, so every measured turn reads and writes real-sized records.
 * Both sizes are open at once and take turns, so load from elsewhere on the machine hits both alike.
 *
 *   npx tsx tests/bench/turnTime.ts        (or `npm run bench`)
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { StoreItem } from 'botbuilder';
import { loadConfig } from '../../bot/config.js';
import { createLogger } from '../../bot/privacy/logger.js';
import { createRuntime, type Runtime } from '../../bot/runtime.js';
import { createPseudonymizer, loadOrCreateSecret } from '../../bot/privacy/pseudonym.js';
import { MemoryAdapter } from '../../bot/channels/memory/memoryAdapter.js';

const PEOPLE = [100, 100_000];
const WARMUP_TURNS = 200;
const MEASURED_TURNS = 2_000;
const POPULATE_CONCURRENCY = 64;
const CHANNEL = 'bench';
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RESULTS_FILE = path.join(REPO_ROOT, 'bench/results/turn-time-lowdb.json');

export interface TurnTimeResult {
  people: number;
  populateSeconds: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

async function startRuntime(dataDir: string): Promise<Runtime> {
  const config = loadConfig({ DATA_DIR: dataDir, CONTENT_DIR: path.join(REPO_ROOT, 'resources/content'), LOG_LEVEL: 'silent' });
  return createRuntime(config, createLogger({ level: 'silent' }));
}

function person(runtime: Runtime, index: number): MemoryAdapter {
  return new MemoryAdapter(runtime.bot, { channelId: CHANNEL, userId: `user-${index}`, conversationId: `conversation-${index}`, locale: 'en' });
}

/** Runs one real person into the first module and returns their stored user and conversation records. */
async function templateState(runtime: Runtime, dataDir: string): Promise<{ user: StoreItem; conversation: StoreItem }> {
  const content = runtime.content.forLocale('en');
  const first = person(runtime, 0);
  await first.join();
  await first.say(content.messages.consent.agree);
  await first.say([...content.modules.values()][0]!.title);
  const pseudonymize = createPseudonymizer(await loadOrCreateSecret(dataDir));
  const userKey = pseudonymize('user', CHANNEL, 'user-0');
  const conversationKey = pseudonymize('conversation', CHANNEL, 'conversation-0');
  const items = await runtime.storage.read([userKey, conversationKey]);
  return { user: items[userKey]!, conversation: items[conversationKey]! };
}

async function populate(runtime: Runtime, dataDir: string, people: number): Promise<void> {
  const template = await templateState(runtime, dataDir);
  const pseudonymize = createPseudonymizer(await loadOrCreateSecret(dataDir));
  let next = 1;
  const worker = async () => {
    for (let i = next++; i < people; i = next++) {
      await runtime.storage.write({
        [pseudonymize('user', CHANNEL, `user-${i}`)]: { ...template.user, eTag: '*' },
        [pseudonymize('conversation', CHANNEL, `conversation-${i}`)]: { ...template.conversation, eTag: '*' },
      });
    }
  };
  await Promise.all(Array.from({ length: POPULATE_CONCURRENCY }, worker));
}

interface Store {
  readonly people: number;
  readonly dataDir: string;
  readonly populateSeconds: number;
  runtime: Runtime;
  readonly durations: number[];
  readonly moduleTitle: string;
  /** People whose conversation is at the menu rather than in their module. */
  readonly atMenu: Set<number>;
}

async function openPopulated(people: number): Promise<Store> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-bench-turn-'));
  const seeding = await startRuntime(dataDir);
  const started = performance.now();
  await populate(seeding, dataDir, people);
  const populateSeconds = (performance.now() - started) / 1000;
  // Measure on a fresh runtime: nothing about the stored people is held in memory.
  await seeding.close();
  const runtime = await startRuntime(dataDir);
  const moduleTitle = [...runtime.content.forLocale('en').modules.values()][0]!.title;
  return { people, dataDir, populateSeconds, runtime, durations: [], moduleTitle, atMenu: new Set() };
}

/**
 * Alternates each person between the menu and their module, so every measured turn changes the
 * dialog state and is written back (a turn that changes nothing skips the write and would flatter us).
 */
async function oneTurn(store: Store): Promise<number> {
  const index = Math.floor(Math.random() * store.people);
  const chat = person(store.runtime, index);
  const inModule = !store.atMenu.has(index);
  const text = inModule ? 'menu' : store.moduleTitle;
  const started = performance.now();
  const replies = await chat.say(text);
  const elapsed = performance.now() - started;
  if (replies.length === 0) throw new Error('the bot did not answer');
  if (inModule) store.atMenu.add(index);
  else store.atMenu.delete(index);
  return elapsed;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runTurnTimeBench(): Promise<TurnTimeResult[]> {
  const stores: Store[] = [];
  try {
    for (const people of PEOPLE) {
      console.log(`populating ${people.toLocaleString('en')} people through the real storage...`);
      stores.push(await openPopulated(people));
    }
    // Sizes take turns, so a load spike on this shared machine hits both alike.
    for (let turn = 0; turn < WARMUP_TURNS + MEASURED_TURNS; turn += 1) {
      for (const store of stores) {
        const elapsed = await oneTurn(store);
        if (turn >= WARMUP_TURNS) store.durations.push(elapsed);
      }
    }
  } finally {
    for (const store of stores) {
      await store.runtime.close();
      await rm(store.dataDir, { recursive: true, force: true });
    }
  }
  const round = (n: number) => Math.round(n * 1000) / 1000;
  const results = stores.map((store): TurnTimeResult => {
    const sorted = [...store.durations].sort((a, b) => a - b);
    return {
      people: store.people,
      populateSeconds: round(store.populateSeconds),
      p50Ms: round(percentile(sorted, 50)),
      p99Ms: round(percentile(sorted, 99)),
      meanMs: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    };
  });
  const base = results[0]!;
  console.log('\nWhole turn through the real pipeline (lowdb): a random stored person moves between menu and module');
  console.table(
    results.map((r) => ({
      'stored people': r.people,
      'populate s': r.populateSeconds,
      'p50 ms': r.p50Ms,
      'p99 ms': r.p99Ms,
      'mean ms': r.meanMs,
      'p99 growth': Math.round((r.p99Ms / base.p99Ms) * 100) / 100,
    })),
  );
  await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  const report = { benchmark: 'whole turn, lowdb', date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, turnsPerSize: MEASURED_TURNS, results };
  await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${RESULTS_FILE}`);
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await runTurnTimeBench();
}
