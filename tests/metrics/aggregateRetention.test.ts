import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createAggregateCounts } from '../../bot/metrics/aggregateCounts.js';
import { COUNTED } from '../../bot/metrics/countedEvents.js';
import { startRetentionSweep } from '../../bot/privacy/retention.js';
import { createLowdbStorage } from '../../bot/storage/lowdbStorage.js';
import { captureLog } from '../support/capturedLog.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Every stored record in the data folder, parsed. */
async function storedRecords(dir: string): Promise<Record<string, unknown>[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile() && e.name.endsWith('.json') && !e.name.startsWith('.'));
  return Promise.all(files.map(async (e) => JSON.parse(await readFile(join(e.parentPath, e.name), 'utf8')) as Record<string, unknown>));
}

describe('retention and the aggregate counts', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('deletes an old person record but keeps the aggregate counts, which carry only their day', async () => {
    dir = await mkdtemp(join(tmpdir(), 'waypoint-lasting-'));
    let clock = new Date('2025-01-15T13:47:21.123Z');
    const storage = await createLowdbStorage({ dir, now: () => clock });
    const { log } = captureLog();
    const counts = createAggregateCounts(storage, { languages: ['en'], log, now: () => clock, flushMs: 60_000 });

    await storage.write({ 'user/old-person': { profile: { progress: {} }, eTag: '*' } });
    counts.increment(COUNTED.conversationStarted, { channel: 'webchat', locale: 'en' });
    await counts.flush();
    const written = await storedRecords(dir);
    expect(written.map((r) => [r.key, r.savedAt])).toEqual(
      expect.arrayContaining([
        ['user/old-person', '2025-01-15T13:47:21.123Z'],
        ['aggregates/2025-01-15', '2025-01-15'],
      ]),
    );

    clock = new Date(clock.getTime() + 40 * DAY_MS);
    const sweep = startRetentionSweep(storage, { retentionDays: 30, intervalMs: 60_000, log, now: () => clock });
    expect(await sweep.sweepNow()).toBe(1);
    await sweep.stop();

    expect(await storage.read(['user/old-person', 'aggregates/2025-01-15'])).toEqual({
      'aggregates/2025-01-15': { counts: { 'webchat|en|conversation.started': 1 }, eTag: expect.any(String) },
    });
    expect((await storedRecords(dir)).map((r) => r.key)).toEqual(['aggregates/2025-01-15']);

    await counts.close();
    await storage.close();
  });
});
