/**
 * Counts without people in them: one document per day holding counters keyed by channel,
 * language and event ("webchat|en|handover.rating.4" -> 12). No user or conversation id, no
 * text and no time finer than the day is ever written, so the counts cannot be joined back
 * to anyone. Written through the same storage as everything else. Increments in this process
 * run one after another, and eTags catch another process writing in between.
 */
import type { Storage, StoreItem } from 'botbuilder';

export interface CountDimensions {
  readonly channel: string;
  readonly locale: string;
}

export interface AggregateCounts {
  increment(event: string, dimensions: CountDimensions): Promise<void>;
  /** The counters of one day (YYYY-MM-DD), empty when nothing was counted. */
  day(date: string): Promise<Readonly<Record<string, number>>>;
}

const KEY_PREFIX = 'aggregates/';
const MAX_ATTEMPTS = 5;
/** Dimension values come from channels; only short identifier-like values are kept as they are. */
const SAFE_VALUE = /^[a-z0-9][a-z0-9._-]{0,31}$/;

export function createAggregateCounts(storage: Storage, now: () => Date = () => new Date()): AggregateCounts {
  async function read(date: string): Promise<(StoreItem & { counts?: Record<string, number> }) | undefined> {
    const key = KEY_PREFIX + date;
    return (await storage.read([key]))[key];
  }
  let queue: Promise<void> = Promise.resolve();
  async function add(event: string, { channel, locale }: CountDimensions): Promise<void> {
    const date = now().toISOString().slice(0, 10);
    const counter = [safe(channel), safe(language(locale)), event].join('|');
    for (let attempt = 1; ; attempt++) {
      const item = await read(date);
      const counts = { ...(item?.counts ?? {}) };
      counts[counter] = (counts[counter] ?? 0) + 1;
      try {
        // A missing item is created whatever the eTag says; the queue below keeps two first writers apart.
        await storage.write({ [KEY_PREFIX + date]: { counts, eTag: item?.eTag ?? '*' } });
        return;
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }
  return {
    increment(event, dimensions) {
      const counted = queue.then(() => add(event, dimensions));
      queue = counted.catch(() => undefined);
      return counted;
    },
    async day(date) {
      return Object.freeze({ ...((await read(date))?.counts ?? {}) });
    },
  };
}

function language(locale: string): string {
  return locale.split(/[-_]/)[0] ?? '';
}

function safe(value: string): string {
  const lower = value.toLowerCase();
  return SAFE_VALUE.test(lower) ? lower : 'other';
}
