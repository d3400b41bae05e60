import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Storage, StoreItems } from 'botbuilder';
import { createAggregateCounts, type AggregateCounts } from '../../bot/metrics/aggregateCounts.js';
import { COUNTED, moduleStarted, rating } from '../../bot/metrics/countedEvents.js';
import { createLowdbStorage } from '../../bot/storage/lowdbStorage.js';
import type { WaypointStorage } from '../../bot/storage/waypointStorage.js';
import { captureLog } from '../support/capturedLog.js';

const DAY = '2025-01-15';
const KEY = `aggregates/${DAY}`;
const WEBCHAT_EN = { channel: 'webchat', locale: 'en-GB' };
/** Long enough that no timer flush happens while a test looks at what is still in memory. */
const NO_TIMER = 60_000;

describe('aggregate counts', () => {
  let dir: string;
  let storage: WaypointStorage;
  const opened: AggregateCounts[] = [];
  let clock: Date;

  function counts(over: Storage = storage, log = captureLog().log, flushMs = NO_TIMER): AggregateCounts {
    const created = createAggregateCounts(over, { languages: ['en', 'cy-GB'], defaultLocale: 'en', log, now: () => clock, flushMs });
    opened.push(created);
    return created;
  }

  async function stored(key = KEY): Promise<unknown> {
    return ((await storage.read([key])) as Record<string, { counts?: unknown } | undefined>)[key]?.counts;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waypoint-counts-'));
    storage = await createLowdbStorage({ dir });
    clock = new Date(`${DAY}T10:00:00Z`);
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps increments in memory until a flush, then merges them into the day document', async () => {
    const tally = counts();
    tally.increment(COUNTED.consentGiven, WEBCHAT_EN);
    tally.increment(COUNTED.consentGiven, WEBCHAT_EN);
    tally.increment(moduleStarted('urges'), WEBCHAT_EN);

    expect(await stored()).toBeUndefined();
    // The dashboard's door sees what is not written yet.
    expect(await tally.day(DAY)).toEqual({ 'webchat|en|consent.given': 2, 'webchat|en|module.started.urges': 1 });

    await tally.flush();
    expect(await stored()).toEqual({ 'webchat|en|consent.given': 2, 'webchat|en|module.started.urges': 1 });

    tally.increment(COUNTED.consentGiven, WEBCHAT_EN);
    await tally.flush();
    await tally.flush();
    expect(await stored()).toEqual({ 'webchat|en|consent.given': 3, 'webchat|en|module.started.urges': 1 });
    expect(await tally.day(DAY)).toEqual({ 'webchat|en|consent.given': 3, 'webchat|en|module.started.urges': 1 });
  });

  it('keeps only known channel ids and the content languages; anything else is "other"', async () => {
    const tally = counts();
    const event = COUNTED.conversationStarted;
    tally.increment(event, { channel: 'WebChat', locale: 'EN-us' });
    tally.increment(event, { channel: 'telegram', locale: 'cy' });
    tally.increment(event, { channel: 'directline', locale: undefined });
    tally.increment(event, { channel: 'directline', locale: '' });
    tally.increment(event, { channel: 'canary-chan-41d2 <script>', locale: 'canary-loc-41d2' });
    tally.increment(event, { channel: 'webchat|en|consent.given', locale: 'en|x' });
    tally.increment(event, { channel: undefined, locale: 'fr-FR' });
    tally.increment(event, { channel: 'msteams', locale: 'en_GB' });
    await tally.flush();

    expect(await stored()).toEqual({
      'webchat|en|conversation.started': 1,
      'telegram|cy|conversation.started': 1,
      'directline|en|conversation.started': 2,
      'other|other|conversation.started': 3,
      'msteams|en|conversation.started': 1,
    });
  });

  it('refuses an event name that is not a plain identifier, and logs no trace of it', async () => {
    const { log, text } = captureLog();
    const tally = counts(storage, log);
    tally.increment('module.started.hello canary-ev-8a1c', WEBCHAT_EN);
    tally.increment(rating(5), WEBCHAT_EN);
    await tally.flush();

    expect(await stored()).toEqual({ 'webchat|en|handover.rating.5': 1 });
    expect(text()).toContain('counts.badEventName');
    expect(text()).not.toContain('canary-ev-8a1c');
  });

  it('counts each increment on the day it happened (UTC), in one document per day', async () => {
    const tally = counts();
    clock = new Date(`${DAY}T23:59:59.999Z`);
    tally.increment(COUNTED.dataDeleted, WEBCHAT_EN);
    clock = new Date('2025-01-16T00:00:00.000Z');
    tally.increment(COUNTED.dataDeleted, WEBCHAT_EN);
    tally.increment(COUNTED.dataDeleted, WEBCHAT_EN);
    await tally.flush();

    expect(await stored()).toEqual({ 'webchat|en|data.deleted': 1 });
    expect(await stored('aggregates/2025-01-16')).toEqual({ 'webchat|en|data.deleted': 2 });
  });

  it('merges with a write another process made in between, through the eTag', async () => {
    const other = counts();
    other.increment(COUNTED.handoverQueued, WEBCHAT_EN);
    let writes = 0;
    let interleaved = false;
    // Between this process's read and its write, the other one writes the same document.
    const racing: Storage = {
      read: async (keys) => {
        const items = await storage.read(keys);
        if (!interleaved) {
          interleaved = true;
          await other.flush();
        }
        return items;
      },
      write: async (changes: StoreItems) => {
        writes += 1;
        await storage.write(changes);
      },
      delete: (keys) => storage.delete(keys),
    };
    const tally = counts(racing);
    tally.increment(COUNTED.handoverQueued, WEBCHAT_EN);
    tally.increment(COUNTED.handoverConnected, WEBCHAT_EN);
    await tally.flush();

    expect(interleaved).toBe(true);
    // The first write lost to the other process's eTag; the second merged with what it wrote.
    expect(writes).toBe(2);
    expect(await stored()).toEqual({ 'webchat|en|handover.queued': 2, 'webchat|en|handover.connected': 1 });
  });

  it('keeps the tallies when storage fails, logs only an error code, and writes them all once it works again', async () => {
    const { log, text } = captureLog();
    let failing = true;
    const flaky: Storage = {
      read: (keys) => storage.read(keys),
      write: async (changes) => {
        if (failing) throw Object.assign(new Error('disk full while writing canary-err-19bd'), { code: 'ENOSPC' });
        await storage.write(changes);
      },
      delete: (keys) => storage.delete(keys),
    };
    const tally = counts(flaky, log);
    tally.increment(COUNTED.safetyPlanCreated, WEBCHAT_EN);
    await expect(tally.flush()).resolves.toBeUndefined();
    tally.increment(COUNTED.safetyPlanCreated, WEBCHAT_EN);
    await tally.flush();

    expect(await stored()).toBeUndefined();
    expect(await tally.day(DAY)).toEqual({ 'webchat|en|safetyPlan.created': 2 });
    const failures = text()
      .split('\n')
      .filter((line) => line.includes('counts.flushFailed'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ level: 40, event: 'counts.flushFailed', code: 'ENOSPC' });
    expect(text()).not.toContain('canary-err-19bd');
    expect(text()).not.toContain('safetyPlan');

    failing = false;
    await tally.flush();
    expect(await stored()).toEqual({ 'webchat|en|safetyPlan.created': 2 });
  });

  it('flushes on its own every few seconds, and one last time on close', async () => {
    const tally = counts(storage, captureLog().log, 20);
    tally.increment(COUNTED.handoverTimedOut, WEBCHAT_EN);
    const deadline = Date.now() + 2000;
    while ((await stored()) === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(await stored()).toEqual({ 'webchat|en|handover.timedOut': 1 });

    const closing = counts();
    closing.increment(COUNTED.handoverTimedOut, WEBCHAT_EN);
    await closing.close();
    await closing.close();
    expect(await stored()).toEqual({ 'webchat|en|handover.timedOut': 2 });
  });
});
