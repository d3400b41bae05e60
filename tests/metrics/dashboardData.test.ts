import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createAggregateCounts, type AggregateCounts } from '../../bot/metrics/aggregateCounts.js';
import { parseDateRange, readDashboard, type DateRange } from '../../bot/metrics/dashboardData.js';
import { dashboardCsv } from '../../bot/metrics/dashboardCsv.js';
import { createLowdbStorage } from '../../bot/storage/lowdbStorage.js';
import type { WaypointStorage } from '../../bot/storage/waypointStorage.js';

const TODAY = '2026-03-31';

function range(from: string, to: string): DateRange {
  const parsed = parseDateRange(from, to, TODAY);
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.range;
}

describe('the dashboard date range', () => {
  it('defaults to the 30 days ending today', () => {
    expect(parseDateRange(undefined, undefined, TODAY)).toEqual({ ok: true, range: { from: '2026-03-02', to: TODAY, days: 30 } });
    expect(parseDateRange(undefined, '2026-01-10', TODAY)).toEqual({ ok: true, range: { from: '2025-12-12', to: '2026-01-10', days: 30 } });
  });

  it('accepts one day and up to 366 days, leap day included', () => {
    expect(parseDateRange('2024-02-29', '2024-02-29', TODAY)).toEqual({ ok: true, range: { from: '2024-02-29', to: '2024-02-29', days: 1 } });
    expect(parseDateRange('2024-01-01', '2024-12-31', TODAY)).toMatchObject({ ok: true, range: { days: 366 } });
  });

  it.each([
    ['a reversed range', '2026-03-10', '2026-03-01', /from is after to/],
    ['a range longer than 366 days', '2025-01-01', '2026-01-02', /spans 367 days; choose at most 366/],
    ['a date that does not exist', '2026-02-30', '2026-03-01', /from must be a real date/],
    ['a leap day in a common year', '2026-03-01', '2025-02-29', /to must be a real date/],
    ['a date without leading zeros', '2026-3-1', '2026-03-05', /from must be a real date/],
    ['a two-digit year', '0099-01-01', '2026-03-05', /from must be a real date/],
    ['a date with a time', '2026-03-01T00:00:00Z', '2026-03-05', /from must be a real date/],
    ['a repeated parameter', ['2026-03-01', '2026-03-02'], '2026-03-05', /from must be a real date/],
    ['an empty value', '', '2026-03-05', /from must be a real date/],
  ])('refuses %s with a reason', (_name, from, to, reason) => {
    const parsed = parseDateRange(from, to, TODAY);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.detail).toMatch(reason);
  });
});

describe('the dashboard figures', () => {
  let dir: string;
  let storage: WaypointStorage;
  let counts: AggregateCounts;

  async function seed(days: Record<string, Record<string, number>>): Promise<void> {
    await storage.write(Object.fromEntries(Object.entries(days).map(([date, day]) => [`aggregates/${date}`, { counts: day, eTag: '*' }])));
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waypoint-dashboard-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    storage = await createLowdbStorage({ dir: join(dir, String(Math.random()).slice(2)) });
    counts = createAggregateCounts(storage, { languages: ['en'], flushMs: 60_000 });
  });
  afterEach(async () => {
    await counts.close();
    await storage.close();
  });

  it('sums the funnel over days, channels, languages and modules before hiding small totals', async () => {
    await seed({
      '2026-03-01': {
        'webchat|en|conversation.started': 4,
        'telegram|other|conversation.started': 3,
        'webchat|en|consent.given': 3,
        'webchat|en|module.started.urges': 2,
        'telegram|en|module.started.sleep': 2,
        'webchat|en|module.completed.urges': 1,
        'webchat|en|handover.requested': 2,
      },
      '2026-03-02': {
        'webchat|en|conversation.started': 6,
        'webchat|en|consent.given': 3,
        'webchat|en|module.started.values': 1,
        'webchat|en|handover.connected': 4,
      },
      // Outside the range: must not be counted.
      '2026-03-03': { 'webchat|en|conversation.started': 100, 'webchat|en|handover.requested': 100 },
    });
    const data = await readDashboard(counts, range('2026-03-01', '2026-03-02'));
    expect(data.funnel).toEqual([
      { step: 'started', count: 13 },
      { step: 'consented', count: 6 },
      { step: 'moduleStarted', count: 5 },
      { step: 'moduleCompleted', count: '<5' },
      { step: 'askedForPerson', count: '<5' },
      { step: 'connected', count: '<5' },
    ]);
    expect(data).toMatchObject({ from: '2026-03-01', to: '2026-03-02', days: 2 });
  });

  it('shows escalations per day by category in the risk order, hiding small cells', async () => {
    await seed({
      '2026-03-01': { 'webchat|en|escalation.distress.low': 7, 'webchat|en|escalation.suicide.high': 1, 'webchat|en|escalation.suicide.imminent': 1 },
      '2026-03-03': { 'webchat|en|escalation.child_at_risk.high': 5, 'telegram|en|escalation.suicide.high': 6 },
    });
    const data = await readDashboard(counts, range('2026-03-01', '2026-03-03'));
    expect(data.escalations).toEqual({
      period: 'day',
      categories: ['suicide', 'child_at_risk', 'distress'],
      periods: [
        { from: '2026-03-01', to: '2026-03-01', counts: { suicide: '<5', child_at_risk: 0, distress: 7 } },
        { from: '2026-03-02', to: '2026-03-02', counts: { suicide: 0, child_at_risk: 0, distress: 0 } },
        { from: '2026-03-03', to: '2026-03-03', counts: { suicide: 6, child_at_risk: 5, distress: 0 } },
      ],
    });
  });

  it('groups a long range into 7-day periods from its first day, summing before hiding', async () => {
    await seed({
      '2026-01-01': { 'webchat|en|escalation.suicide.high': 2 },
      '2026-01-07': { 'webchat|en|escalation.suicide.high': 3 },
      '2026-01-08': { 'webchat|en|escalation.suicide.high': 1 },
      '2026-03-04': { 'webchat|en|escalation.suicide.high': 9 },
    });
    const data = await readDashboard(counts, range('2026-01-01', '2026-03-04'));
    expect(data.days).toBe(63);
    expect(data.escalations.period).toBe('week');
    expect(data.escalations.periods).toHaveLength(9);
    expect(data.escalations.periods[0]).toEqual({ from: '2026-01-01', to: '2026-01-07', counts: { suicide: 5 } });
    expect(data.escalations.periods[1]).toEqual({ from: '2026-01-08', to: '2026-01-14', counts: { suicide: '<5' } });
    // 63 days are nine whole weeks; the last one ends on the range's last day.
    expect(data.escalations.periods[8]).toEqual({ from: '2026-02-26', to: '2026-03-04', counts: { suicide: 9 } });
  });

  it('fills every waiting bucket and star, and gives an average only when no rating is hidden', async () => {
    await seed({
      '2026-03-01': {
        'webchat|en|handover.waited.lt1m': 12,
        'webchat|en|handover.waited.5to15m': 2,
        'webchat|en|handover.rating.5': 8,
        'webchat|en|handover.rating.4': 5,
        'webchat|en|handover.rating.2': 1,
      },
    });
    const hidden = await readDashboard(counts, range('2026-03-01', '2026-03-01'));
    expect(hidden.waiting).toEqual([
      { bucket: 'lt1m', count: 12 },
      { bucket: '1to5m', count: 0 },
      { bucket: '5to15m', count: '<5' },
      { bucket: '15to30m', count: 0 },
      { bucket: '30to60m', count: 0 },
      { bucket: 'ge60m', count: 0 },
    ]);
    expect(hidden.ratings).toEqual([
      { stars: 1, count: 0 },
      { stars: 2, count: '<5' },
      { stars: 3, count: 0 },
      { stars: 4, count: 5 },
      { stars: 5, count: 8 },
    ]);
    expect(hidden.averageRating).toBeNull();

    await seed({ '2026-03-02': { 'webchat|en|handover.rating.2': 4 } });
    const exact = await readDashboard(counts, range('2026-03-01', '2026-03-02'));
    // (2*5 + 4*5 + 5*8) / 18 = 3.89
    expect(exact.averageRating).toBe(3.9);
  });

  it('includes counts this process has not written yet', async () => {
    counts.increment('conversation.started', { channel: 'webchat', locale: 'en' });
    const today = new Date().toISOString().slice(0, 10);
    const data = await readDashboard(counts, range(today, today));
    expect(data.funnel[0]).toEqual({ step: 'started', count: '<5' });
  });

  it('is all zeros for a year nobody used', async () => {
    const data = await readDashboard(counts, range('2025-01-01', '2025-12-31'));
    expect(data.funnel.every(({ count }) => count === 0)).toBe(true);
    expect(data.waiting.every(({ count }) => count === 0)).toBe(true);
    expect(data.escalations).toMatchObject({ period: 'week', categories: [] });
    expect(data.escalations.periods).toHaveLength(53);
    expect(data.averageRating).toBeNull();
  });

  it('refuses a range it was not given by parseDateRange', async () => {
    await expect(readDashboard(counts, { from: '2025-01-01', to: '2026-12-31', days: 730 })).rejects.toThrow(RangeError);
  });

  describe('as CSV', () => {
    it('holds exactly the suppressed figures, one row each, with their period', async () => {
      await seed({
        '2026-03-01': { 'webchat|en|conversation.started': 9, 'webchat|en|consent.given': 2, 'webchat|en|escalation.suicide.high': 3, 'webchat|en|handover.rating.5': 6 },
      });
      const csv = dashboardCsv(await readDashboard(counts, range('2026-03-01', '2026-03-02')));
      const lines = csv.split('\r\n');
      expect(lines[0]).toBe('section,period_start,period_end,item,count');
      expect(lines).toContain('funnel,2026-03-01,2026-03-02,started,9');
      expect(lines).toContain('funnel,2026-03-01,2026-03-02,consented,<5');
      expect(lines).toContain('escalations,2026-03-01,2026-03-01,suicide,<5');
      expect(lines).toContain('escalations,2026-03-02,2026-03-02,suicide,0');
      expect(lines).toContain('waiting,2026-03-01,2026-03-02,ge60m,0');
      expect(lines).toContain('ratings,2026-03-01,2026-03-02,5,6');
      // 6 funnel steps, 2 days x 1 category, 6 buckets, 5 stars, the header and the final line break.
      expect(lines).toHaveLength(1 + 6 + 2 + 6 + 5 + 1);
      expect(lines.at(-1)).toBe('');
      for (const line of lines.slice(1, -1)) expect(line.split(',')[4]).toMatch(/^(0|<5|[1-9]\d*)$/);
      for (const line of lines.slice(1, -1)) expect(['1', '2', '3', '4']).not.toContain(line.split(',')[4]);
    });

    it('defuses a stored category that a spreadsheet would run as a formula', async () => {
      await seed({ '2026-03-01': { 'webchat|en|escalation.-cmd.high': 7 } });
      const csv = dashboardCsv(await readDashboard(counts, range('2026-03-01', '2026-03-01')));
      expect(csv).toContain("escalations,2026-03-01,2026-03-01,'-cmd,7");
      expect(csv).not.toMatch(/,-cmd,/);
    });
  });
});
