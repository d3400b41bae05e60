/**
 * The supervisor dashboard in a real browser (Debian's Chromium, driven by playwright-core): a
 * supervisor reaches it from the console and sees the seeded counts drawn and tabled with small
 * ones hidden, changes the range, downloads the CSV; a counsellor is refused. No request leaves
 * our origin and the page's strict policy is never violated.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startRig, type Rig } from '../support/liveChatRig.js';
import { REPO_ROOT } from '../support/botHarness.js';
import { describeInBrowser, launchChromium, signInToConsole } from '../support/chromium.js';

const SCREENSHOT = path.join(REPO_ROOT, 'tests/output/dashboard.png');
const WAIT_MS = 5000;

/** YYYY-MM-DD, `days` before today in UTC (the counts are kept per UTC day). */
function daysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
}

/** A browser context that records foreign requests and policy violations. */
async function visit(browser: Browser, rig: Rig): Promise<{ context: BrowserContext; page: Page; foreign: string[]; violations: string[] }> {
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1200, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const foreign: string[] = [];
  const violations: string[] = [];
  const ours = [rig.running.url, rig.running.url.replace('http', 'ws')];
  page.on('request', (request) => {
    if (!ours.some((origin) => request.url().startsWith(origin))) foreign.push(request.url());
  });
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  // Chromium logs a violation to the console; the page event also catches one it does not log.
  await page.exposeFunction('reportPolicyViolation', (directive: string) => violations.push(directive));
  await page.addInitScript(() => {
    const report = (window as unknown as { reportPolicyViolation: (directive: string) => void }).reportPolicyViolation;
    document.addEventListener('securitypolicyviolation', (event) => report(event.violatedDirective));
  });
  return { context, page, foreign, violations };
}

const texts = (page: Page, selector: string) => page.locator(selector).allTextContents();

describeInBrowser('supervisor dashboard in Chromium', () => {
  let browser: Browser;
  let rig: Rig;

  beforeAll(async () => {
    browser = await launchChromium();
    rig = await startRig([
      { name: 'Priya', role: 'supervisor' },
      { name: 'Sam', role: 'counsellor' },
    ]);
    await rig.running.runtime.storage.write({
      [`aggregates/${daysAgo(2)}`]: {
        eTag: '*',
        counts: {
          'webchat|en|conversation.started': 14,
          'telegram|en|conversation.started': 6,
          'webchat|en|consent.given': 12,
          'webchat|en|module.started.urges': 3,
          'telegram|en|module.started.sleep': 3,
          'webchat|en|module.completed.urges': 2,
          'webchat|en|handover.requested': 5,
          'webchat|en|handover.connected': 3,
          'webchat|en|handover.waited.lt1m': 3,
          'webchat|en|handover.waited.1to5m': 8,
          'webchat|en|escalation.suicide.high': 2,
          'webchat|en|escalation.distress.low': 6,
          'webchat|en|handover.rating.5': 5,
          'webchat|en|handover.rating.4': 1,
        },
      },
      [`aggregates/${daysAgo(10)}`]: {
        eTag: '*',
        counts: { 'webchat|en|conversation.started': 10, 'webchat|en|escalation.child_at_risk.high': 1 },
      },
      // Outside the default 30 days.
      [`aggregates/${daysAgo(45)}`]: { eTag: '*', counts: { 'webchat|en|conversation.started': 70 } },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await rig?.close();
  });

  it('draws the seeded figures for a supervisor, hides small counts, follows a new range and exports a suppressed CSV', async () => {
    const { context, page, foreign, violations } = await visit(browser, rig);
    await signInToConsole(page, rig.running.url, 'Priya', WAIT_MS);
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.waitForURL(/\/console\/dashboard\?from=/, { timeout: WAIT_MS });
    await page.locator('#range-summary').filter({ hasText: '(30 days)' }).waitFor({ timeout: WAIT_MS });
    expect(await page.inputValue('#range-from')).toBe(daysAgo(29));
    expect(await page.inputValue('#range-to')).toBe(daysAgo(0));

    // The funnel: one labelled SVG, a value per step, the hidden ones hatched.
    const funnel = page.getByRole('img', { name: 'From first message to a counsellor' });
    await funnel.waitFor({ timeout: WAIT_MS });
    expect(await texts(page, '#funnel-chart text.value tspan:first-child')).toEqual(['30', '12', '6', '<5', '5', '<5']);
    expect(await page.locator('#funnel-chart rect.bar.is-hidden').count()).toBe(2);
    expect(await page.locator('#funnel-chart rect.bar:not(.is-hidden)').count()).toBe(4);
    expect(await page.locator('#funnel-desc').textContent()).toContain('Module completions: fewer than 5.');
    // Shares only between exact counts: none from a hidden one.
    expect(await texts(page, '#funnel-chart tspan.note')).toEqual(['40%', '20%', '17%']);

    // The table alternative holds the same numbers.
    await page.locator('#funnel-table').locator('xpath=ancestor::details').locator('summary').click();
    const funnelTable = page.getByRole('table', { name: 'From first message to a counsellor' });
    expect(await funnelTable.isVisible()).toBe(true);
    expect(await funnelTable.locator('tbody tr').allInnerTexts()).toEqual([
      'Conversations started\t30\t–',
      'Gave consent\t12\t40%',
      'Module starts\t6\t20%',
      'Module completions\t<5\t–',
      'Asked for a person\t5\t17%',
      'Connected to a counsellor\t<5\t–',
    ]);

    // Escalations: one strip per category, small cells hatched; the table has a column each.
    expect(await texts(page, '#escalations-chart text.label')).toEqual(['Thoughts of suicide', 'A child may be at risk', 'In distress']);
    expect(await page.locator('#escalations-chart rect.bar.is-hidden').count()).toBe(2);
    expect(await page.locator('#escalations-chart rect.bar:not(.is-hidden)').count()).toBe(1);
    expect(await texts(page, '#escalations-table thead th')).toEqual(['Day', 'Thoughts of suicide', 'A child may be at risk', 'In distress']);
    expect(await page.locator('#escalations-table tbody tr').count()).toBe(30);

    // Waiting times and ratings.
    expect(await texts(page, '#waiting-chart text.value')).toEqual(['<5', '8', '0', '0', '0', '0']);
    expect(await texts(page, '#ratings-chart text.value tspan:first-child')).toEqual(['5', '<5', '0', '0', '0']);
    expect(await page.locator('#ratings-average').textContent()).toBe('The average is not shown while some counts are hidden.');
    expect(await page.locator('svg[role="img"] > title').count()).toBe(4);
    expect(await page.locator('svg[role="img"] > desc').count()).toBe(4);

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // A reversed range is refused with the server's reason, and the figures stay as they were.
    await page.fill('#range-from', daysAgo(1));
    await page.fill('#range-to', daysAgo(5));
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.locator('#status').filter({ hasText: 'from is after to' }).waitFor({ timeout: WAIT_MS });
    expect(await texts(page, '#funnel-chart text.value tspan:first-child')).toEqual(['30', '12', '6', '<5', '5', '<5']);

    // A range reaching back 60 days takes in the older day.
    await page.fill('#range-from', daysAgo(59));
    await page.fill('#range-to', daysAgo(0));
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.locator('#range-summary').filter({ hasText: '(60 days)' }).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('#status').textContent()).toBe('');
    expect((await texts(page, '#funnel-chart text.value tspan:first-child'))[0]).toBe('100');
    expect(page.url()).toContain(`from=${daysAgo(59)}&to=${daysAgo(0)}`);

    // The CSV link follows the range; the download holds the same suppressed figures.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toBe(`waypoint-${daysAgo(59)}-to-${daysAgo(0)}.csv`);
    const csv = await readFile((await download.path())!, 'utf8');
    const rows = csv.trim().split('\r\n').map((line) => line.split(','));
    expect(rows).toContainEqual(['funnel', daysAgo(59), daysAgo(0), 'started', '100']);
    expect(rows).toContainEqual(['funnel', daysAgo(59), daysAgo(0), 'moduleCompleted', '<5']);
    expect(rows.slice(1).filter((row) => /^[1-4]$/.test(row[4]!))).toEqual([]);

    // A quick period: the last 7 days hold only the day two days ago.
    await page.getByRole('button', { name: 'Last 7 days' }).click();
    await page.locator('#range-summary').filter({ hasText: '(7 days)' }).waitFor({ timeout: WAIT_MS });
    expect((await texts(page, '#funnel-chart text.value tspan:first-child'))[0]).toBe('20');
    expect(await page.getAttribute('#csv-link', 'href')).toBe(`/console/api/dashboard.csv?from=${daysAgo(6)}&to=${daysAgo(0)}`);

    expect(await page.evaluate(() => [localStorage.length, sessionStorage.length])).toEqual([0, 0]);
    expect(violations).toEqual([]);
    expect(foreign).toEqual([]);
    await context.close();
  });

  it('refuses a counsellor, who also sees no link to it', async () => {
    const { context, page, foreign, violations } = await visit(browser, rig);
    await signInToConsole(page, rig.running.url, 'Sam', WAIT_MS);
    expect(await page.locator('#dashboard-link').isHidden()).toBe(true);

    const response = await page.goto(`${rig.running.url}/console/dashboard`);
    expect(response?.status()).toBe(403);
    expect(await page.getByRole('heading', { name: 'This page is for supervisors' }).isVisible()).toBe(true);
    expect(await page.locator('svg[role="img"]').count()).toBe(0);

    // Asking the figures directly from the page's origin is refused too.
    const status = await page.evaluate(async () => (await fetch('/console/api/dashboard')).status);
    expect(status).toBe(403);
    expect(violations).toEqual([]);
    expect(foreign).toEqual([]);
    await context.close();
  });
});
