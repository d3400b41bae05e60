/**
 * Does a turn's storage cost stay flat as the number of stored people grows?
 * Simulates botbuilder's BotState per turn (read the user and conversation items, write both back
 * with their eTags) on random existing users, with 100 and with 100,000 users stored.
 *
 *   npx tsx tests/bench/storageScaling.ts
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { StoreItem } from 'botbuilder';
import { createLowdbStorage } from '../../bot/storage/lowdbStorage.js';
import type { WaypointStorage } from '../../bot/storage/waypointStorage.js';

const USER_COUNTS = [100, 100_000];
const WARMUP_TURNS = 500;
const MEASURED_TURNS = 2_000;
const POPULATE_CONCURRENCY = 64;
const USER_ITEM_BYTES = 500;
const CONVERSATION_ITEM_BYTES = 1_000;
const RESULTS_FILE = fileURLToPath(new URL('../../bench/results/storage-lowdb.json', import.meta.url));

interface Result {
  users: number;
  populateSeconds: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  p50Growth: number;
  p99Growth: number;
}

// Stands in for the bot's HMAC pseudonyms: same length and alphabet.
const pseudonym = (i: number): string => createHash('sha256').update(`bench-user-${i}`).digest('hex');
const userKey = (i: number): string => `webchat/users/${pseudonym(i)}`;
const conversationKey = (i: number): string => `webchat/conversations/${pseudonym(i)}`;

/** Pads an item with a filler field until its JSON is about `bytes` long. */
function sized(item: Record<string, unknown>, bytes: number): Record<string, unknown> {
  const length = JSON.stringify(item).length;
  return { ...item, filler: 'f'.repeat(Math.max(0, bytes - length - 12)) };
}

function userItem(): StoreItem {
  return sized(
    {
      locale: 'en',
      consent: { given: true, contentVersion: '2025.1' },
      progress: { moduleId: 'understanding-urges', moduleVersion: 3, stepId: 'gaps' },
      answers: { urgeScale: 6, pathway: 'self-help' },
      safetyPlan: ['call-a-friend', 'leave-the-room'],
      lastSeen: '2030-01-01',
    },
    USER_ITEM_BYTES,
  );
}

function conversationItem(): StoreItem {
  return sized(
    {
      DialogState: {
        dialogStack: [
          { id: 'rootDialog', state: { dialogs: { dialogStack: [{ id: 'scriptedModuleDialog', state: {} }] } } },
        ],
      },
      turns: 0,
    },
    CONVERSATION_ITEM_BYTES,
  );
}

async function populate(storage: WaypointStorage, users: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < users; i = next++) {
      await storage.write({ [userKey(i)]: userItem(), [conversationKey(i)]: conversationItem() });
    }
  };
  await Promise.all(Array.from({ length: POPULATE_CONCURRENCY }, worker));
}

/** One turn as BotState does it: load both items, change them, save with the eTags just read. */
async function turn(storage: WaypointStorage, i: number): Promise<number> {
  const started = performance.now();
  const keys = [userKey(i), conversationKey(i)] as const;
  const items = await storage.read([...keys]);
  const user = items[keys[0]] as StoreItem;
  const conversation = items[keys[1]] as StoreItem;
  await storage.write({
    [keys[0]]: { ...user, lastSeen: new Date().toISOString().slice(0, 10) },
    [keys[1]]: { ...conversation, turns: (conversation.turns as number) + 1 },
  });
  return performance.now() - started;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

interface Store {
  users: number;
  storage: WaypointStorage;
  populateSeconds: number;
  times: number[];
}

async function openPopulated(root: string, users: number): Promise<Store> {
  const storage = await createLowdbStorage({ dir: join(root, `users-${users}`) });
  const started = performance.now();
  await populate(storage, users);
  return { users, storage, populateSeconds: (performance.now() - started) / 1000, times: [] };
}

async function runTurns(stores: Store[], turns: number, record: boolean): Promise<void> {
  for (let t = 0; t < turns; t += 1) {
    // Alternating sizes turn by turn, so load from anything else on the machine hits both alike.
    for (const store of t % 2 === 0 ? stores : [...stores].reverse()) {
      const ms = await turn(store.storage, Math.floor(Math.random() * store.users));
      if (record) store.times.push(ms);
    }
  }
}

function summarise(store: Store, baseline: { p50Ms: number; p99Ms: number } | undefined): Result {
  const sorted = [...store.times].sort((a, b) => a - b);
  const p50Ms = round(percentile(sorted, 50));
  const p99Ms = round(percentile(sorted, 99));
  return {
    users: store.users,
    populateSeconds: Math.round(store.populateSeconds * 10) / 10,
    p50Ms,
    p99Ms,
    meanMs: round(sorted.reduce((sum, ms) => sum + ms, 0) / sorted.length),
    p50Growth: baseline ? Math.round((p50Ms / baseline.p50Ms) * 100) / 100 : 1,
    p99Growth: baseline ? Math.round((p99Ms / baseline.p99Ms) * 100) / 100 : 1,
  };
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'waypoint-bench-'));
  const stores: Store[] = [];
  const results: Result[] = [];
  try {
    for (const users of USER_COUNTS) {
      console.log(`populating ${users.toLocaleString('en')} users...`);
      stores.push(await openPopulated(root, users));
    }
    console.log(`running ${WARMUP_TURNS} warm-up and ${MEASURED_TURNS} measured turns per size...`);
    await runTurns(stores, WARMUP_TURNS, false);
    await runTurns(stores, MEASURED_TURNS, true);
    for (const store of stores) results.push(summarise(store, results[0]));
  } finally {
    await Promise.all(stores.map((store) => store.storage.close()));
    await rm(root, { recursive: true, force: true });
  }

  console.table(
    results.map((r) => ({
      users: r.users,
      'p50 ms': r.p50Ms,
      'p99 ms': r.p99Ms,
      'p50 growth': r.p50Growth,
      'p99 growth': r.p99Growth,
      'populate s': r.populateSeconds,
    })),
  );

  await mkdir(join(RESULTS_FILE, '..'), { recursive: true });
  const report = {
    benchmark: 'storage-lowdb turn cost (read user+conversation, write both with eTags)',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    turnsPerSize: MEASURED_TURNS,
    warmupTurns: WARMUP_TURNS,
    itemBytes: { user: USER_ITEM_BYTES, conversation: CONVERSATION_ITEM_BYTES },
    results,
  };
  await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${RESULTS_FILE}`);
}

await main();
