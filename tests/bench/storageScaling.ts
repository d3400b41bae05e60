/**
 * Does a turn get slower as more people are stored? p99 turn latency with 100 and with 100,000
 * people stored, for one backend per run (lowdb, or Redis on a redis-server of its own).
 * Target: the p99 at 100,000 at most 1.25x the p99 at 100.
 *
 *   npx tsx tests/bench/storageScaling.ts [--backend lowdb|redis] [--users 100,100000] [--turns 2000]
 *
 * Every stored person is a copy of a real person's state part-way through a module (taken from
 * a person who really went there), so every measured turn reads and writes real-sized records
 * under real keys (support/storedPeople.ts: lowdb's files are written straight into its folder,
 * Redis's through the storage in parallel batches). Each size then gets a fresh runtime, which
 * must read the last person back (nothing about the stored people is held in memory), and the
 * sizes take turns, so load from elsewhere on the machine hits both alike. Two series each:
 *   whole turn   a random stored person moves between the menu and their module, through the
 *                real pipeline (FreeText, dialogs, privacy guard, storage): the headline figure;
 *   storage      what a turn asks of storage alone: read their user and conversation items,
 *                write both back with the eTags just read (shows the storage's own growth,
 *                not diluted by the dialogs' constant cost).
 * Writes bench/results/storage-scaling-<backend>.json; always exits 0, after --max-seconds at most.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createLogger } from '../../bot/privacy/logger.js';
import { createPseudonymizer, loadOrCreateSecret, type Pseudonymizer } from '../../bot/privacy/pseudonym.js';
import { connectRedis } from '../../bot/redis/redisConnection.js';
import { createRuntime, type Runtime } from '../../bot/runtime.js';
import { haveRedis, startRedisServer, type RedisServer } from '../support/redisProcess.js';
import { figure, round2, writeBenchResult, type Figure } from './support/benchResult.js';
import { benchConfig } from './support/benchServer.js';
import { percentile } from './support/measure.js';
import { benchPerson, keysOf, realPersonState, storeAsLowdbFiles, storeThroughStorage } from './support/storedPeople.js';
import { runWithinDeadline } from './support/withinDeadline.js';

type Backend = 'lowdb' | 'redis';
const TARGET_GROWTH = 1.25;
const WARM_UP_TURNS = 200;
const log = createLogger({ level: 'silent' });

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'lowdb' },
    users: { type: 'string', default: '100,100000' },
    turns: { type: 'string', default: '2000' },
    'max-seconds': { type: 'string', default: '300' },
  },
});
const backend = values.backend as Backend;
if (backend !== 'lowdb' && backend !== 'redis') throw new Error(`--backend must be lowdb or redis, not "${values.backend}"`);
const sizes = values.users.split(',').map(Number);
if (sizes.length !== 2 || !sizes.every((n) => Number.isInteger(n) && n >= 2) || sizes[0]! >= sizes[1]!) {
  throw new Error(`--users must be two growing sizes of at least 2, such as 100,100000, not "${values.users}"`);
}
const turns = Number(values.turns);
const maxSeconds = Number(values['max-seconds']);
if (!Number.isInteger(turns) || turns < 10) throw new Error(`--turns must be a whole number of at least 10, not "${values.turns}"`);
if (!Number.isInteger(maxSeconds) || maxSeconds < 1) throw new Error(`--max-seconds must be a whole number of at least 1, not "${values['max-seconds']}"`);

interface Store {
  readonly people: number;
  readonly dataDir: string;
  readonly redis: RedisServer | undefined;
  readonly env: Record<string, string>;
  seedSeconds?: number;
  /** Start of a runtime on the full store (lowdb checks every file as it opens). */
  reopenSeconds?: number;
  runtime?: Runtime;
  pseudonymize?: Pseudonymizer;
  moduleTitle?: string;
  readonly wholeTurnMs: number[];
  readonly storageTurnMs: number[];
  /** People whose conversation is at the menu rather than in their module. */
  readonly atMenu: Set<number>;
}

const stores: Store[] = [];
let stoppedEarly: string | undefined;

async function prepare(people: number): Promise<Store> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `waypoint-bench-storage-${backend}-`));
  const redis = backend === 'redis' ? await startRedisServer() : undefined;
  // Redis needs the secret in the settings (every instance must share it); lowdb keeps its own.
  const env: Record<string, string> = redis ? { REDIS_URL: redis.url, PSEUDONYM_SECRET: randomBytes(32).toString('base64url') } : {};
  const store: Store = { people, dataDir, redis, env, wholeTurnMs: [], storageTurnMs: [], atMenu: new Set() };
  stores.push(store);
  return store;
}

const startRuntime = (store: Store) => createRuntime(benchConfig(store.dataDir, store.env), log);

/** Person 0 really agrees and opens the first module; everyone else is stored as a copy of them. */
async function seed(store: Store): Promise<void> {
  const runtime = await startRuntime(store);
  let closed = false;
  try {
    const pseudonymize = createPseudonymizer(await loadOrCreateSecret(store.dataDir, store.env.PSEUDONYM_SECRET));
    store.pseudonymize = pseudonymize;
    const state = await realPersonState(runtime, pseudonymize);
    const started = performance.now();
    if (backend === 'lowdb') {
      // Straight into the folder, with no store open on it.
      await runtime.close();
      closed = true;
      await storeAsLowdbFiles(store.dataDir, pseudonymize, state, store.people);
    } else {
      await storeThroughStorage(runtime.storage, pseudonymize, state, store.people);
    }
    store.seedSeconds = round2((performance.now() - started) / 1000);
  } finally {
    if (!closed) await runtime.close();
  }
}

/** A fresh runtime on the seeded store, checked to really hold everyone where the bench looks. */
async function reopen(store: Store): Promise<void> {
  const started = performance.now();
  store.runtime = await startRuntime(store);
  store.reopenSeconds = round2((performance.now() - started) / 1000);
  store.moduleTitle = [...store.runtime.content.forLocale('en').modules.values()][0]!.title;
  const last = keysOf(store.pseudonymize!, store.people - 1);
  const found = await store.runtime.storage.read([last.user, last.conversation]);
  if (!found[last.user] || !found[last.conversation]) throw new Error(`the last seeded person is not in the store of ${store.people}`);
  if (store.redis) {
    // Guards against REDIS_URL being ignored and lowdb measured under Redis's name.
    const redis = connectRedis(store.redis.url, { log, name: 'bench' });
    try {
      const keys = await redis.dbsize();
      if (keys < 2 * store.people) throw new Error(`Redis holds ${keys} keys for ${store.people} people: the runtime did not store them in Redis (does it use REDIS_URL yet?)`);
    } finally {
      redis.disconnect();
    }
  }
}

/**
 * Alternates each person between the menu and their module, so every measured turn changes the
 * dialog state and is written back (a turn that changes nothing skips the write and would flatter us).
 */
async function wholeTurn(store: Store): Promise<number> {
  const index = Math.floor(Math.random() * store.people);
  const inModule = !store.atMenu.has(index);
  const chat = benchPerson(store.runtime!, index);
  const started = performance.now();
  const replies = await chat.say(inModule ? 'menu' : store.moduleTitle!);
  const elapsed = performance.now() - started;
  if (replies.length === 0) throw new Error('the bot did not answer');
  if (inModule) store.atMenu.add(index);
  else store.atMenu.delete(index);
  return elapsed;
}

/** What BotState asks of storage in a turn: both items read, both written back with their eTags. */
async function storageTurn(store: Store): Promise<number> {
  const keys = keysOf(store.pseudonymize!, Math.floor(Math.random() * store.people));
  const storage = store.runtime!.storage;
  const started = performance.now();
  const items = await storage.read([keys.user, keys.conversation]);
  await storage.write({ [keys.user]: { ...items[keys.user] }, [keys.conversation]: { ...items[keys.conversation] } });
  return performance.now() - started;
}

async function measure(): Promise<void> {
  for (let turn = 0; turn < WARM_UP_TURNS + turns; turn++) {
    // Sizes take turns, in both orders, so a load spike hits both alike.
    for (const store of turn % 2 === 0 ? stores : [...stores].reverse()) {
      const whole = await wholeTurn(store);
      const alone = await storageTurn(store);
      if (turn < WARM_UP_TURNS) continue;
      store.wholeTurnMs.push(whole);
      store.storageTurnMs.push(alone);
    }
  }
}

function p(values: readonly number[], at: number): number | null {
  if (values.length === 0) return null;
  return Math.round(percentile([...values].sort((a, b) => a - b), at) * 1000) / 1000;
}

function growth(large: number | null, small: number | null): number | null {
  return large === null || small === null || small === 0 ? null : round2(large / small);
}

async function report(): Promise<void> {
  const [small, large] = [stores[0], stores[1]];
  const label = (n: number | undefined) => (n ?? 0).toLocaleString('en');
  const rows = stores.map((s) => ({
    'stored people': label(s.people),
    turns: s.wholeTurnMs.length,
    'turn p50 ms': p(s.wholeTurnMs, 50) ?? 'n/a',
    'turn p99 ms': p(s.wholeTurnMs, 99) ?? 'n/a',
    'storage p50 ms': p(s.storageTurnMs, 50) ?? 'n/a',
    'storage p99 ms': p(s.storageTurnMs, 99) ?? 'n/a',
    'seed s': s.seedSeconds ?? 'n/a',
    'reopen s': s.reopenSeconds ?? 'n/a',
  }));
  const turnGrowth = growth(p(large?.wholeTurnMs ?? [], 99), p(small?.wholeTurnMs ?? [], 99));
  const storageGrowth = growth(p(large?.storageTurnMs ?? [], 99), p(small?.storageTurnMs ?? [], 99));
  const sizesText = `${label(sizes[0])} -> ${label(sizes[1])} people`;
  const figures: Figure[] = [
    figure(`${backend}: p99 whole turn, ${label(sizes[0])} people stored`, p(small?.wholeTurnMs ?? [], 99), 'ms'),
    figure(`${backend}: p99 whole turn, ${label(sizes[1])} people stored`, p(large?.wholeTurnMs ?? [], 99), 'ms'),
    figure(`${backend}: p99 turn growth, ${sizesText}`, turnGrowth, '×', { atMost: TARGET_GROWTH }, stoppedEarly),
    figure(`${backend}: p99 storage-only growth, ${sizesText}`, storageGrowth, '×'),
    figure(`${backend}: start-up on ${label(sizes[1])} stored people`, large?.reopenSeconds ?? null, 's'),
  ];
  console.log(`\nStorage scaling, ${backend}: a random stored person's turn, ${turns} measured turns per size`);
  if (stoppedEarly) console.log(stoppedEarly);
  console.table(rows);
  console.log(`p99 growth ${sizesText}: whole turn ${turnGrowth ?? 'n/a'}x (target <= ${TARGET_GROWTH}x), storage alone ${storageGrowth ?? 'n/a'}x`);
  const details = {
    backend,
    sizes,
    turnsPerSize: turns,
    warmUpTurns: WARM_UP_TURNS,
    complete: stoppedEarly === undefined,
    ...(stoppedEarly ? { stoppedEarly } : {}),
    results: stores.map((s) => ({
      people: s.people,
      seedSeconds: s.seedSeconds ?? null,
      reopenSeconds: s.reopenSeconds ?? null,
      turns: s.wholeTurnMs.length,
      wholeTurn: { p50Ms: p(s.wholeTurnMs, 50), p99Ms: p(s.wholeTurnMs, 99) },
      storageOnly: { p50Ms: p(s.storageTurnMs, 50), p99Ms: p(s.storageTurnMs, 99) },
    })),
  };
  const file = await writeBenchResult(`storage-scaling-${backend}`, details, figures);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

async function closeAll(): Promise<void> {
  for (const store of stores) {
    await store.runtime?.close().catch(() => undefined);
    await store.redis?.stop();
    await rm(store.dataDir, { recursive: true, force: true });
  }
}

async function run(): Promise<void> {
  if (backend === 'redis' && !haveRedis) throw new Error('redis-server is not installed (apt-get install -y redis-server)');
  for (const people of sizes) {
    const store = await prepare(people);
    console.log(`seeding ${people.toLocaleString('en')} people into ${backend}...`);
    await seed(store);
    await reopen(store);
  }
  console.log(`measuring ${WARM_UP_TURNS} warm-up and ${turns} measured turns per size...`);
  await measure();
}

await runWithinDeadline({
  maxSeconds,
  cleanupMs: 10_000,
  run,
  report: async (reason) => {
    stoppedEarly = reason;
    await report();
  },
  close: closeAll,
});
