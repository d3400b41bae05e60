/**
 * The supervisor dashboard's routes on a whole Waypoint: who may see the figures, what a bad
 * range answers, and that the JSON and the CSV never carry a count from 1 to 4.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startRig, type Rig } from '../support/liveChatRig.js';

const NOW = Date.parse('2026-03-31T12:00:00Z');

describe('supervisor dashboard routes', () => {
  let rig: Rig;
  let supervisor: string;
  let counsellor: string;

  const get = (path: string, cookie?: string, accept = 'application/json') =>
    fetch(`${rig.running.url}${path}`, { headers: { accept, ...(cookie ? { cookie } : {}) } });

  beforeAll(async () => {
    rig = await startRig(
      [
        { name: 'Priya', role: 'supervisor' },
        { name: 'Sam', role: 'counsellor' },
      ],
      {},
      { now: () => NOW },
    );
    await rig.running.runtime.storage.write({
      'aggregates/2026-03-30': {
        eTag: '*',
        counts: {
          'webchat|en|conversation.started': 9,
          'telegram|en|conversation.started': 3,
          'webchat|en|consent.given': 3,
          'webchat|en|escalation.suicide.high': 2,
          'webchat|en|handover.rating.5': 7,
        },
      },
      // Before the default 30 days: only a range that reaches back sees it.
      'aggregates/2026-02-01': { eTag: '*', counts: { 'webchat|en|conversation.started': 100 } },
    });
    // Counted through the runtime's own counter and not yet flushed: the dashboard must see it too.
    for (let i = 0; i < 4; i++) rig.running.runtime.counts.increment('consent.given', { channel: 'webchat', locale: 'en' });
    supervisor = (await rig.signIn('Priya')).cookie;
    counsellor = (await rig.signIn('Sam')).cookie;
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('gives a supervisor the suppressed figures of the last 30 days by default', async () => {
    const res = await get('/console/api/dashboard', supervisor);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ from: '2026-03-02', to: '2026-03-31', days: 30 });
    expect(body.funnel).toEqual([
      { step: 'started', count: 12 },
      // 3 stored on the 30th and 4 counted today, still in memory.
      { step: 'consented', count: 7 },
      { step: 'moduleStarted', count: 0 },
      { step: 'moduleCompleted', count: 0 },
      { step: 'askedForPerson', count: 0 },
      { step: 'connected', count: 0 },
    ]);
    expect(body.ratings).toContainEqual({ stars: 5, count: 7 });
    expect(JSON.stringify(body.escalations)).toContain('"suicide":"<5"');
  });

  it('answers for the range asked', async () => {
    const res = await get('/console/api/dashboard?from=2026-02-01&to=2026-03-30', supervisor);
    const body = (await res.json()) as { funnel: { count: unknown }[]; escalations: { period: string } };
    expect(body.funnel[0]).toEqual({ step: 'started', count: 112 });
    expect(body.escalations.period).toBe('day');
  });

  it.each([
    ['reversed dates', '?from=2026-03-10&to=2026-03-01', /from is after to/],
    ['an impossible date', '?from=2026-02-30&to=2026-03-01', /from must be a real date/],
    ['a malformed date', '?from=yesterday&to=2026-03-01', /from must be a real date/],
    ['a range over 366 days', '?from=2024-01-01&to=2026-03-01', /choose at most 366/],
    ['a repeated parameter', '?from=2026-03-01&from=2026-03-02&to=2026-03-05', /from must be a real date/],
  ])('refuses %s with 400 and a reason', async (_name, query, reason) => {
    for (const path of ['/console/api/dashboard', '/console/api/dashboard.csv']) {
      const res = await get(path + query, supervisor);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; detail: string } };
      expect(error.code).toBe('BAD_DATE_RANGE');
      expect(error.detail).toMatch(reason);
    }
  });

  it('downloads the same suppressed figures as a CSV attachment', async () => {
    const res = await get('/console/api/dashboard.csv?from=2026-03-29&to=2026-03-31', supervisor, 'text/csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="waypoint-2026-03-29-to-2026-03-31.csv"');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const rows = (await res.text()).trim().split('\r\n').map((line) => line.split(','));
    expect(rows[0]).toEqual(['section', 'period_start', 'period_end', 'item', 'count']);
    expect(rows).toContainEqual(['funnel', '2026-03-29', '2026-03-31', 'started', '12']);
    expect(rows).toContainEqual(['escalations', '2026-03-30', '2026-03-30', 'suicide', '<5']);
    const shown = rows.slice(1).map((row) => row[4]);
    expect(shown.filter((count) => /^[1-4]$/.test(count!))).toEqual([]);
    expect(rig.logText()).toContain('"event":"dashboard.csvExported"');
  });

  it('refuses a counsellor with 403 everywhere, the page included', async () => {
    for (const path of ['/console/api/dashboard', '/console/api/dashboard.csv']) {
      const res = await get(path, counsellor);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    }
    const page = await get('/console/dashboard', counsellor, 'text/html');
    expect(page.status).toBe(403);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('This page is for supervisors');
    expect(html).not.toContain('dashboard.js');
  });

  it('refuses someone not signed in with 401, as JSON to a client and as a page to a browser', async () => {
    for (const path of ['/console/api/dashboard', '/console/api/dashboard.csv', '/console/dashboard']) {
      const res = await get(path);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_SIGNED_IN');
    }
    const page = await get('/console/dashboard', undefined, 'text/html,application/xhtml+xml');
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('Go to the console');
  });

  it('serves the page to a supervisor under the console policy', async () => {
    const res = await get('/console/dashboard', supervisor, 'text/html');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toContain('<script type="module" src="/console/dashboard.js"></script>');
  });
});
