/**
 * Many stored people for the benchmarks, quickly. Person 0 really agrees to the terms and opens
 * the first module; everyone else is stored as a copy of their state under their own keys, so
 * every record is real-sized and every key is the one the bot would use for that person.
 *
 * Two ways in: through a storage's own write (any backend, in parallel batches), or straight
 * into a lowdb folder in bot/storage/lowdbStorage.ts's layout, about three times faster for
 * 100,000 people. The latter is checked by whoever uses it: a store that opens and reads the
 * last person back proves the layout still matches (lowdb refuses to open a folder holding
 * files it cannot read as its own).
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StoreItems } from 'botbuilder';
import { MemoryAdapter } from '../../../bot/channels/memory/memoryAdapter.js';
import type { Pseudonymizer } from '../../../bot/privacy/pseudonym.js';
import type { Runtime } from '../../../bot/runtime.js';
import type { WaypointStorage } from '../../../bot/storage/waypointStorage.js';

export const BENCH_CHANNEL = 'bench';
const BATCH_PEOPLE = 50;
const BATCHES_IN_FLIGHT = 8;
const FILES_IN_FLIGHT = 64;

export interface PersonState {
  readonly user: Record<string, unknown>;
  readonly conversation: Record<string, unknown>;
}

/** Person `index` of a benchmark, talking through the in-memory channel. */
export function benchPerson(runtime: Runtime, index: number): MemoryAdapter {
  return new MemoryAdapter(runtime.bot, { channelId: BENCH_CHANNEL, userId: `user-${index}`, conversationId: `conversation-${index}`, locale: 'en' });
}

/** The storage keys of person `index`, as the bot derives them. */
export function keysOf(pseudonymize: Pseudonymizer, index: number): { user: string; conversation: string } {
  return {
    user: pseudonymize('user', BENCH_CHANNEL, `user-${index}`),
    conversation: pseudonymize('conversation', BENCH_CHANNEL, `conversation-${index}`),
  };
}

/** Person 0 agrees and opens the first module; returns what the bot stored for them (without eTags). */
export async function realPersonState(runtime: Runtime, pseudonymize: Pseudonymizer): Promise<PersonState> {
  const content = runtime.content.forLocale('en');
  const first = benchPerson(runtime, 0);
  await first.join();
  await first.say(content.messages.consent.agree);
  await first.say([...content.modules.values()][0]!.title);
  const keys = keysOf(pseudonymize, 0);
  const items = await runtime.storage.read([keys.user, keys.conversation]);
  const user = items[keys.user];
  const conversation = items[keys.conversation];
  if (!user || !conversation) throw new Error("the first person's state is not stored under the keys the benchmark derives");
  return { user: withoutETag(user), conversation: withoutETag(conversation) };
}

/** People 1 .. people-1, through the storage's own write. */
export async function storeThroughStorage(storage: WaypointStorage, pseudonymize: Pseudonymizer, state: PersonState, people: number): Promise<void> {
  let next = 1;
  const writer = async () => {
    while (next < people) {
      const batch: StoreItems = {};
      for (const end = Math.min(people, next + BATCH_PEOPLE); next < end; next++) {
        const keys = keysOf(pseudonymize, next);
        batch[keys.user] = { ...state.user, eTag: '*' };
        batch[keys.conversation] = { ...state.conversation, eTag: '*' };
      }
      await storage.write(batch);
    }
  };
  await Promise.all(Array.from({ length: BATCHES_IN_FLIGHT }, writer));
}

/** People 1 .. people-1, as files in a lowdb data folder no store has open. */
export async function storeAsLowdbFiles(dataDir: string, pseudonymize: Pseudonymizer, state: PersonState, people: number): Promise<void> {
  const savedAt = new Date().toISOString();
  const userValue = JSON.stringify(state.user);
  const conversationValue = JSON.stringify(state.conversation);
  const write = async (key: string, value: string) => {
    const id = createHash('sha256').update(key, 'utf8').digest('hex');
    const text = `{"key":${JSON.stringify(key)},"savedAt":"${savedAt}","eTag":"${randomUUID()}","value":${value}}`;
    await writeFile(path.join(dataDir, 'state', id.slice(0, 2), `${id}.json`), text);
  };
  await Promise.all(Array.from({ length: 256 }, (_, i) => mkdir(path.join(dataDir, 'state', i.toString(16).padStart(2, '0')), { recursive: true })));
  let next = 1;
  const writer = async () => {
    while (next < people) {
      const keys = keysOf(pseudonymize, next++);
      await write(keys.user, userValue);
      await write(keys.conversation, conversationValue);
    }
  };
  await Promise.all(Array.from({ length: FILES_IN_FLIGHT }, writer));
}

function withoutETag(item: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...item };
  delete copy.eTag;
  return copy;
}
