import { describe, expect, it, jest } from '@jest/globals';
import type { StoreItems } from 'botbuilder';
import { createLogger } from '../../bot/privacy/logger.js';
import { startRetentionSweep } from '../../bot/privacy/retention.js';
import type { WaypointStorage } from '../../bot/storage/waypointStorage.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW = new Date('2025-06-30T12:00:00Z');

/** A storage that records when each item was saved, like the real backends do. */
function mapStorage(items: Record<string, Date>): WaypointStorage & { keys(): string[] } {
  const saved = new Map(Object.entries(items).map(([key, savedAt]) => [key, { savedAt }]));
  return {
    keys: () => [...saved.keys()].sort(),
    read: async (keys) => Object.fromEntries(keys.filter((key) => saved.has(key)).map((key) => [key, {}])) as StoreItems,
    write: async (changes) => {
      for (const key of Object.keys(changes)) saved.set(key, { savedAt: NOW });
    },
    delete: async (keys) => {
      for (const key of keys) saved.delete(key);
    },
    deleteIdleSince: async (cutoff) => {
      let deleted = 0;
      for (const [key, item] of saved) {
        if (item.savedAt < cutoff) {
          saved.delete(key);
          deleted += 1;
        }
      }
      return deleted;
    },
    ping: async () => undefined,
    close: async () => undefined,
  };
}

function capturedLog() {
  const lines: string[] = [];
  const log = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
  return { log, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS);
const waitFor = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('startRetentionSweep', () => {
  it('deletes items idle longer than the retention period and keeps newer ones', async () => {
    const storage = mapStorage({ 'user/old': daysAgo(31), 'user/edge': daysAgo(29.9), 'user/new': daysAgo(1) });
    const { log, records } = capturedLog();
    const sweeper = startRetentionSweep(storage, { retentionDays: 30, intervalMs: 60_000, log, now: () => NOW });

    expect(await sweeper.sweepNow()).toBe(1);
    expect(storage.keys()).toEqual(['user/edge', 'user/new']);
    expect(records()).toContainEqual(expect.objectContaining({ event: 'retention.sweep', deleted: 1 }));
    await sweeper.stop();
  });

  it('sweeps soon after start and again every interval', async () => {
    const storage = mapStorage({});
    const deleteIdleSince = jest.spyOn(storage, 'deleteIdleSince');
    const { log } = capturedLog();
    const sweeper = startRetentionSweep(storage, { retentionDays: 30, intervalMs: 10, log, now: () => NOW });

    await waitFor(() => deleteIdleSince.mock.calls.length >= 3);
    expect(deleteIdleSince).toHaveBeenCalledWith(daysAgo(30));
    await sweeper.stop();
  });

  it('logs a failing sweep without its message and keeps sweeping', async () => {
    const storage = mapStorage({});
    const failure = new Error('disk full near CANARY9911');
    const deleteIdleSince = jest.spyOn(storage, 'deleteIdleSince').mockRejectedValueOnce(failure);
    const { log, records } = capturedLog();
    const sweeper = startRetentionSweep(storage, { retentionDays: 30, intervalMs: 10, log, now: () => NOW });

    await waitFor(() => deleteIdleSince.mock.calls.length >= 2);
    await sweeper.stop();
    expect(records()).toContainEqual(expect.objectContaining({ event: 'retention.sweep.failed', err: expect.objectContaining({ type: 'Error' }) }));
    expect(JSON.stringify(records())).not.toContain('CANARY9911');
    expect(records()).toContainEqual(expect.objectContaining({ event: 'retention.sweep', deleted: 0 }));
  });

  it('stops idempotently, waiting for a sweep in progress and sweeping no more', async () => {
    const storage = mapStorage({ 'user/old': daysAgo(40) });
    let finish: () => void = () => undefined;
    const deleteIdleSince = jest.spyOn(storage, 'deleteIdleSince').mockImplementationOnce(
      () => new Promise<number>((resolve) => (finish = () => resolve(0))),
    );
    const { log } = capturedLog();
    const sweeper = startRetentionSweep(storage, { retentionDays: 30, intervalMs: 5, log, now: () => NOW });

    await waitFor(() => deleteIdleSince.mock.calls.length === 1);
    let stopped = false;
    const stopping = sweeper.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    finish();
    await stopping;
    await sweeper.stop();

    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(deleteIdleSince).toHaveBeenCalledTimes(1);
  });
});
