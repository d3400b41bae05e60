/**
 * Counts without people in them: one document per day holding counters keyed by channel,
 * language and event ("webchat|en|handover.rating.4" -> 12). No user or conversation id, no
 * text and no time finer than the day is ever written, so the counts cannot be joined back
 * to anyone. Written through the same storage as everything else.
 *
 * Counting must never slow or break a person's turn: an increment only adds to a tally in
 * memory, and the tallies are merged into the stored documents every few seconds (and on
 * close), with eTags catching another process writing in between. A failed merge keeps its
 * tallies for the next one.
 */
import type { Storage, StoreItem } from 'botbuilder';
import type { Logger } from '../privacy/logger.js';
import { LASTING_PREFIX } from '../storage/waypointStorage.js';

/** Where a counted thing happened, as the channel reported it; cleaned before it is kept. */
export interface CountDimensions {
  readonly channel: string | undefined;
  readonly locale: string | undefined;
}

export interface AggregateCounts {
  /** Adds one to today's counter, in memory; never waits and never throws. */
  increment(event: string, dimensions: CountDimensions): void;
  /** The counters of one day (YYYY-MM-DD): what is stored plus what this process has not written yet. */
  day(date: string): Promise<Readonly<Record<string, number>>>;
  /** Merges the tallies into storage now; resolves when done (failures are logged and kept for the next try). */
  flush(): Promise<void>;
  /** Stops the flush timer and flushes one last time; call before the storage closes. Safe to call twice. */
  close(): Promise<void>;
}

export interface AggregateCountsOptions {
  /** Languages the content speaks (`en`, or `en-GB` reduced to `en`); any other language counts as `other`. */
  readonly languages: Iterable<string>;
  /** The language of a turn whose channel sent no locale (it is answered in the default content). */
  readonly defaultLocale?: string;
  readonly log?: Logger;
  readonly now?: () => Date;
  /** How often tallies are written; a few seconds keeps writes rare and losses on a crash small. */
  readonly flushMs?: number;
}

/**
 * Channel ids Bot Framework and our own adapters use. Anyone can send any `channelId` to
 * /api/messages in anonymous development mode, so a value is kept only if it is one of these.
 */
export const KNOWN_CHANNELS: ReadonlySet<string> = new Set([
  'alexa', 'cortana', 'directline', 'directlinespeech', 'email', 'emulator', 'facebook', 'groupme',
  'kik', 'line', 'msteams', 'omnichannel', 'outlook', 'skype', 'skypeforbusiness', 'slack', 'sms',
  'telegram', 'telephony', 'test', 'twilio-sms', 'webchat', 'wechat',
]);
/** What an unknown channel or language is counted as. */
export const OTHER = 'other';

const KEY_PREFIX = LASTING_PREFIX;
const MAX_ATTEMPTS = 5;
/**
 * The eTag a new day document is written with. Every backend creates a missing item whatever its
 * eTag (tests/storage/storageContract.ts), but refuses this one if another instance created the
 * document after our read, where '*' would have overwritten that instance's counts.
 */
const NOT_WRITTEN_YET = 'aggregates-not-written-yet';
const DEFAULT_FLUSH_MS = 5000;
/** Event names come from bot/metrics/countedEvents.ts; content ids and risk codes fit this too. */
const EVENT_NAME = /^[a-z][A-Za-z0-9_.-]{0,95}$/;
const ERROR_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;

type Tallies = Map<string, Map<string, number>>;

interface CountsItem extends StoreItem {
  counts?: Record<string, number>;
}

export function createAggregateCounts(storage: Storage, options: AggregateCountsOptions): AggregateCounts {
  const { log, now = () => new Date(), flushMs = DEFAULT_FLUSH_MS } = options;
  const languages = new Set([...options.languages].map(languageOf).filter((language) => language !== ''));
  const defaultLanguage = languageOf(options.defaultLocale);
  /** date -> counter -> increments not yet in storage. */
  let pending: Tallies = new Map();
  let chain: Promise<void> = Promise.resolve();
  let closing: Promise<void> | undefined;
  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();

  function increment(event: string, { channel, locale }: CountDimensions): void {
    if (!EVENT_NAME.test(event)) {
      // A programming error, not a person's doing; the name itself is not logged in case it carries input.
      log?.warn({ event: 'counts.badEventName' });
      return;
    }
    const date = dayOf(now());
    const language = locale ? languageOf(locale) : defaultLanguage;
    const counter = [channelOf(channel), languages.has(language) ? language : OTHER, event].join('|');
    add(pending, date, counter, 1);
  }

  /** One flush at a time: two at once would read the same document and one would lose to the other's eTag every time. */
  function flush(): Promise<void> {
    chain = chain.then(writePending);
    return chain;
  }

  async function writePending(): Promise<void> {
    const batch = pending;
    pending = new Map();
    for (const [date, counters] of batch) {
      try {
        await merge(date, counters);
      } catch (error) {
        for (const [counter, delta] of counters) add(pending, date, counter, delta);
        log?.warn({ event: 'counts.flushFailed', code: codeOf(error) });
      }
    }
  }

  async function merge(date: string, counters: ReadonlyMap<string, number>): Promise<void> {
    const key = KEY_PREFIX + date;
    for (let attempt = 1; ; attempt++) {
      const item = await read(key);
      const counts = { ...(item?.counts ?? {}) };
      for (const [counter, delta] of counters) counts[counter] = (counts[counter] ?? 0) + delta;
      try {
        await storage.write({ [key]: { counts, eTag: item?.eTag ?? NOT_WRITTEN_YET } });
        return;
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  async function read(key: string): Promise<CountsItem | undefined> {
    return ((await storage.read([key])) as Record<string, CountsItem | undefined>)[key];
  }

  return {
    increment,
    flush,
    async day(date) {
      // After the flush in flight, so a tally is neither missed nor counted twice.
      await chain;
      const counts = { ...((await read(KEY_PREFIX + date))?.counts ?? {}) };
      for (const [counter, delta] of pending.get(date) ?? []) counts[counter] = (counts[counter] ?? 0) + delta;
      return Object.freeze(counts);
    },
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await flush();
      })();
      return closing;
    },
  };
}

function add(tallies: Tallies, date: string, counter: string, delta: number): void {
  let counters = tallies.get(date);
  if (!counters) tallies.set(date, (counters = new Map()));
  counters.set(counter, (counters.get(counter) ?? 0) + delta);
}

/** The UTC day: the finest time these counts ever carry. */
function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

function channelOf(channel: string | undefined): string {
  const lower = typeof channel === 'string' ? channel.toLowerCase() : '';
  return KNOWN_CHANNELS.has(lower) ? lower : OTHER;
}

function languageOf(locale: string | undefined): string {
  return typeof locale === 'string' ? (locale.split(/[-_]/)[0] ?? '').toLowerCase() : '';
}

function codeOf(error: unknown): string {
  const code: unknown = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && ERROR_CODE.test(code)) return code;
  const name: unknown = (error as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && ERROR_CODE.test(name) ? name : 'UNKNOWN';
}
