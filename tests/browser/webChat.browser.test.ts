/**
 * The web chat widget in a real browser (Debian's Chromium, driven by playwright-core), against
 * a whole Waypoint: open it from the launcher, agree, start a topic and answer in words; leave
 * by quick exit (button, and Shift three times inside the chat); do it all by keyboard; and run
 * over polling. Throughout, nothing may be requested from anywhere but our own server (apart
 * from the page quick exit goes to), and nothing may be left in cookies or browser storage.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Frame, FrameLocator, Page } from 'playwright-core';
import { parse } from 'yaml';
import { startWaypoint, type RunningWaypoint } from '../../bot/index.js';
import { REPO_ROOT } from '../support/botHarness.js';
import { captureLog } from '../support/capturedLog.js';
import { describeInBrowser, launchChromium } from '../support/chromium.js';
import { testConfig } from '../support/testConfig.js';

const SCREENSHOT = path.join(REPO_ROOT, 'tests/output/webchat-open.png');
const WAIT_MS = 10_000;

/** The words people see, read from the files clinicians edit rather than typed here again. */
interface Words {
  launcher: string;
  panelTitle: string;
  quickExit: string;
  minimise: string;
  frameTitle: string;
  agree: string;
  moduleTitle: string;
  countAnswer: string;
  reflectPrompt: string;
  acknowledgements: string[];
}

async function readWords(): Promise<Words> {
  const yaml = async (file: string) => parse(await readFile(path.join(REPO_ROOT, file), 'utf8')) as Record<string, unknown>;
  const labels = (await yaml('resources/web/widget/labels.yaml')) as { launcher: { label: string }; panel: Record<string, string> };
  const messages = (await yaml('resources/content/en/messages.yaml')) as {
    consent: { agree: string };
    reflect: { acknowledgements: string[] };
  };
  const relationships = (await yaml('resources/content/en/modules/relationships.yaml')) as {
    title: string;
    steps: { id: string; text: string | string[]; options?: { code: string; label: string }[] }[];
  };
  const step = (id: string) => relationships.steps.find((s) => s.id === id)!;
  const firstLine = (text: string | string[]) => (Array.isArray(text) ? text[0]! : text);
  return {
    launcher: labels.launcher.label,
    panelTitle: labels.panel.title!,
    quickExit: labels.panel.quickExit!,
    minimise: labels.panel.close!,
    frameTitle: labels.panel.frameTitle!,
    agree: messages.consent.agree,
    moduleTitle: relationships.title,
    countAnswer: step('count-online').options!.find((o) => o.code === 'one-two')!.label,
    reflectPrompt: firstLine(step('what-they-give').text),
    acknowledgements: messages.reflect.acknowledgements,
  };
}

/** A second loopback server: the neutral page quick exit goes to, and a help organisation's own page on another site. */
async function startNeutralSite(): Promise<{ origin: string; hostOrigin: string; close(): Promise<void>; setWidgetUrl(url: string): void }> {
  let widgetUrl = '';
  const server = http.createServer((req, res) => {
    if (req.url === '/host') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="en"><head><title>Another help organisation</title></head><body>
<h1>Another help organisation</h1><p><a href="/weather">A link on the host page</a></p>
<script src="${widgetUrl}" data-exit-url="${origin}/news" defer></script></body></html>`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><head><title>Weather</title></head><body><h1>Today’s weather</h1></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    // localhost is another site than 127.0.0.1, so the chat frame on that page is cross-site, as it is in real life.
    hostOrigin: `http://localhost:${port}`,
    setWidgetUrl: (url) => (widgetUrl = url),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A fresh browser context that records everything a privacy check needs. */
class Visit {
  readonly requests: string[] = [];
  /** Activities the page posted to the Direct Line service. */
  readonly postedActivities: string[] = [];
  readonly sockets: string[] = [];
  readonly policyViolations: string[] = [];
  /** Tokens handed to the chat frame, so a test can ask the server about its conversation. */
  readonly sessions: { token: string; conversationId: string }[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    page.on('request', (request) => {
      this.requests.push(request.url());
      if (request.method() === 'POST' && request.url().endsWith('/activities')) this.postedActivities.push(request.postData() ?? '');
    });
    page.on('websocket', (socket) => this.sockets.push(socket.url()));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) this.policyViolations.push(message.text());
    });
    page.on('response', async (response) => {
      if (!response.url().endsWith('/webchat/token') || response.status() !== 200) return;
      this.sessions.push((await response.json()) as { token: string; conversationId: string });
    });
  }

  static async open(browser: Browser): Promise<Visit> {
    const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1100, height: 760 } });
    return new Visit(context, await context.newPage());
  }

  /** The widget's chat frame, once it exists. */
  chatFrame(): Frame {
    const frame = this.page.frames().find((f) => new URL(f.url()).pathname === '/chat');
    if (!frame) throw new Error('no chat frame');
    return frame;
  }

  /** Everything requested that is not on one of these origins (http or ws). */
  foreignRequests(...allowed: string[]): string[] {
    const origins = allowed.flatMap((origin) => [origin, origin.replace(/^http/, 'ws')]);
    return [...this.requests, ...this.sockets].filter((url) => !url.startsWith('blob:') && !origins.some((origin) => url.startsWith(`${origin}/`)));
  }

  async storedInBrowser(): Promise<{ cookies: number; storage: number[][] }> {
    const frames = this.page.frames().filter((frame) => frame.url().startsWith('http'));
    const storage = await Promise.all(frames.map((frame) => frame.evaluate(() => [localStorage.length, sessionStorage.length])));
    return { cookies: (await this.context.cookies()).length, storage };
  }

  close(): Promise<void> {
    return this.context.close();
  }
}

/** Web Chat's suggested-action buttons (not the copies its screen-reader live region keeps). */
function suggested(chat: FrameLocator | Page, name: string) {
  return chat.getByRole('toolbar', { name: 'Suggested actions' }).getByRole('button', { name, exact: true });
}

/** What has keyboard focus: ours on the host page, or Web Chat's inside the chat frame. */
async function focused(visit: Visit): Promise<string> {
  const outer = await visit.page.evaluate(() => {
    const element = document.activeElement;
    return element?.tagName === 'IFRAME' ? 'IFRAME' : `${element?.getAttribute('role') ?? element?.tagName}: ${element?.getAttribute('aria-label') ?? element?.textContent?.trim()}`;
  });
  if (outer !== 'IFRAME') return outer;
  return visit.chatFrame().evaluate(() => {
    const element = document.activeElement;
    return `in chat ${element?.tagName}: ${element?.getAttribute('aria-label') ?? element?.textContent?.trim()}`;
  });
}

/** Polls the Direct Line service with the conversation's own token until it says the conversation is gone. */
async function waitUntilEnded(url: string, session: { token: string; conversationId: string }): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const res = await fetch(`${url}/v3/directline/conversations/${session.conversationId}/activities`, {
      headers: { Authorization: `Bearer ${session.token}` },
    });
    if (res.status === 404 || Date.now() > deadline) return res.status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describeInBrowser('the web chat widget in Chromium', () => {
  let browser: Browser;
  let running: RunningWaypoint;
  let neutral: Awaited<ReturnType<typeof startNeutralSite>>;
  let dataDir: string;
  let words: Words;
  let exitUrl: string;
  let logText: () => string;

  beforeAll(async () => {
    words = await readWords();
    browser = await launchChromium();
    neutral = await startNeutralSite();
    exitUrl = `${neutral.origin}/weather`;
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-webchat-'));
    const config = testConfig(dataDir, {
      QUICK_EXIT_URL: exitUrl,
      WIDGET_ALLOWED_ORIGINS: neutral.hostOrigin,
      WIDGET_TOKENS_PER_MINUTE: '100',
    });
    const captured = captureLog();
    logText = captured.text;
    running = await startWaypoint(config, captured.log);
    neutral.setWidgetUrl(`${running.url}/widget.js`);
  });
  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    await neutral?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('opens from the launcher, goes through consent, starts a topic and answers a question in words', async () => {
    const visit = await Visit.open(browser);
    const { page } = visit;
    await page.goto(`${running.url}/`);
    const launcher = page.getByRole('button', { name: words.launcher, exact: true });
    await launcher.waitFor();

    // Nothing heavy loads before the person asks for the chat.
    expect(await page.locator('iframe').count()).toBe(0);
    expect(visit.requests.filter((url) => /\/chat|\/vendor\/|\/webchat\/token/.test(url))).toEqual([]);

    await launcher.click();
    const panel = page.getByRole('dialog', { name: words.panelTitle });
    await panel.waitFor();
    expect(await panel.getAttribute('aria-modal')).toBe('false');
    expect(await focused(visit)).toBe(`dialog: ${words.panelTitle}`);
    expect(await page.getByRole('button', { name: words.quickExit }).isVisible()).toBe(true);

    const chat = page.frameLocator(`iframe[title="${words.frameTitle}"]`);
    await suggested(chat, words.agree).waitFor({ timeout: WAIT_MS });
    // The welcome came from the server; Web Chat itself sent nothing before the person acted.
    expect(visit.postedActivities).toEqual([]);
    await suggested(chat, words.agree).click();
    await suggested(chat, words.moduleTitle).click({ timeout: WAIT_MS });
    await suggested(chat, words.countAnswer).click({ timeout: WAIT_MS });
    await suggested(chat, words.countAnswer).click({ timeout: WAIT_MS });
    await chat.getByText(words.reflectPrompt).first().waitFor({ timeout: WAIT_MS });
    const sendBox = chat.getByRole('textbox', { name: 'Message input box' });
    const canary = `canary ${randomBytes(6).toString('hex')}`;
    await sendBox.fill(`Company in the evenings, mostly, and someone who listens. ${canary}`);
    await sendBox.press('Enter');
    const acknowledged = new RegExp(words.acknowledgements.map((text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'));
    await chat.getByText(acknowledged).first().waitFor({ timeout: WAIT_MS });
    expect(await chat.getByText('Company in the evenings, mostly').count()).toBeGreaterThan(0);

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });

    expect(visit.foreignRequests(running.url)).toEqual([]);
    expect(visit.sockets.length).toBe(1);
    expect(visit.policyViolations).toEqual([]);
    expect(await visit.storedInBrowser()).toEqual({ cookies: 0, storage: [[0, 0], [0, 0]] });
    await visit.close();

    // What was typed in the widget is in no stored file and no log line.
    const files = (await readdir(dataDir, { withFileTypes: true, recursive: true })).filter((entry) => entry.isFile());
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) expect(await readFile(path.join(file.parentPath, file.name), 'utf8')).not.toContain(canary);
    expect(logText()).not.toContain(canary);
  }, 30_000);

  it('leaves by the quick exit button: the chat ends, and Back does not return to the page with the chat', async () => {
    const visit = await Visit.open(browser);
    const { page } = visit;
    await page.goto(`${neutral.origin}/before`);
    await page.goto(`${running.url}/`);
    await page.getByRole('button', { name: words.launcher, exact: true }).click();
    const chat = page.frameLocator(`iframe[title="${words.frameTitle}"]`);
    await suggested(chat, words.agree).waitFor({ timeout: WAIT_MS });

    await page.getByRole('button', { name: words.quickExit }).click();
    await page.waitForURL(exitUrl, { timeout: WAIT_MS });

    // The conversation was ended on the server, not left to time out.
    expect(await waitUntilEnded(running.url, visit.sessions[0]!)).toBe(404);
    await page.goBack();
    expect(page.url()).toBe(`${neutral.origin}/before`);
    expect(visit.foreignRequests(running.url, neutral.origin)).toEqual([]);
    expect(await visit.storedInBrowser()).toEqual({ cookies: 0, storage: [[0, 0]] });
    await visit.close();
  }, 30_000);

  it('leaves when Shift is pressed three times inside the chat on another site, for the exit page that site chose', async () => {
    const visit = await Visit.open(browser);
    const { page } = visit;
    await page.goto(`${neutral.hostOrigin}/host`);
    await page.getByRole('button', { name: words.launcher, exact: true }).click();
    const chat = page.frameLocator(`iframe[title="${words.frameTitle}"]`);
    await suggested(chat, words.agree).waitFor({ timeout: WAIT_MS });
    await chat.getByRole('textbox', { name: 'Message input box' }).click();
    expect(await focused(visit)).toBe('in chat TEXTAREA: Message input box');

    // Capitals typed in the chat are not the shortcut: another key between the Shifts starts the count again.
    await page.keyboard.press('Shift+A');
    await page.keyboard.press('Shift+B');
    await page.keyboard.press('Shift+C');
    expect(page.url()).toBe(`${neutral.hostOrigin}/host`);

    await page.keyboard.press('Shift');
    await page.keyboard.press('Shift');
    await page.keyboard.press('Shift');
    await page.waitForURL(`${neutral.origin}/news`, { timeout: WAIT_MS });

    expect(await waitUntilEnded(running.url, visit.sessions[0]!)).toBe(404);
    expect(visit.foreignRequests(running.url, neutral.origin, neutral.hostOrigin)).toEqual([]);
    expect(visit.policyViolations).toEqual([]);
    expect(await visit.storedInBrowser()).toEqual({ cookies: 0, storage: [[0, 0]] });
    await visit.close();
  }, 30_000);

  it('works by keyboard alone: Tab to the launcher, Enter, Tab past quick exit into the chat, Enter on a button, Shift three times to leave', async () => {
    const visit = await Visit.open(browser);
    const { page } = visit;
    await page.goto(`${running.url}/`);
    await page.getByRole('button', { name: words.launcher, exact: true }).waitFor();

    await page.keyboard.press('Tab');
    expect(await focused(visit)).toBe(`BUTTON: ${words.launcher}`);
    await page.keyboard.press('Enter');
    expect(await focused(visit)).toBe(`dialog: ${words.panelTitle}`);
    const chat = page.frameLocator(`iframe[title="${words.frameTitle}"]`);
    await suggested(chat, words.agree).waitFor({ timeout: WAIT_MS });

    const visited: string[] = [];
    for (let i = 0; i < 12 && visited.at(-1) !== `in chat BUTTON: ${words.agree}`; i++) {
      await page.keyboard.press('Tab');
      visited.push(await focused(visit));
    }
    expect(visited).toEqual(expect.arrayContaining([`BUTTON: ${words.quickExit}`, `BUTTON: ${words.minimise}`, `in chat BUTTON: ${words.agree}`]));
    await page.keyboard.press('Enter');
    await suggested(chat, words.moduleTitle).waitFor({ timeout: WAIT_MS });

    // Back out of the chat to minimise it: focus returns to the launcher, and opening again finds the same conversation.
    for (let i = 0; i < 15 && (await focused(visit)) !== `BUTTON: ${words.minimise}`; i++) await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    expect(await focused(visit)).toBe(`BUTTON: ${words.launcher}`);
    expect(await page.getByRole('dialog', { name: words.panelTitle }).isVisible()).toBe(false);
    await page.keyboard.press('Enter');
    expect(await focused(visit)).toBe(`dialog: ${words.panelTitle}`);
    expect(await suggested(chat, words.moduleTitle).isVisible()).toBe(true);
    expect(visit.sessions.length).toBe(1);
    expect(await visit.storedInBrowser()).toEqual({ cookies: 0, storage: [[0, 0], [0, 0]] });

    // With focus on the host page, Shift three times leaves too.
    await page.keyboard.press('Shift');
    await page.keyboard.press('Shift');
    await page.keyboard.press('Shift');
    await page.waitForURL(exitUrl, { timeout: WAIT_MS });
    expect(await waitUntilEnded(running.url, visit.sessions[0]!)).toBe(404);
    expect(visit.foreignRequests(running.url, neutral.origin)).toEqual([]);
    await visit.close();
  }, 30_000);

  it('runs over polling when the chat page is opened on its own, with its own quick exit', async () => {
    const visit = await Visit.open(browser);
    const { page } = visit;
    await page.goto(`${running.url}/chat?polling=1`);

    expect(await page.title()).toBe('Chat');
    await suggested(page, words.agree).click({ timeout: WAIT_MS });
    await suggested(page, words.moduleTitle).waitFor({ timeout: WAIT_MS });
    expect(visit.sockets).toEqual([]);
    expect(visit.requests.some((url) => /\/v3\/directline\/conversations\/[^/]+\/activities\?watermark=/.test(url))).toBe(true);
    expect(visit.policyViolations).toEqual([]);
    expect(await visit.storedInBrowser()).toEqual({ cookies: 0, storage: [[0, 0]] });

    await page.getByRole('button', { name: words.quickExit }).click();
    await page.waitForURL(exitUrl, { timeout: WAIT_MS });
    expect(await waitUntilEnded(running.url, visit.sessions[0]!)).toBe(404);
    expect(visit.foreignRequests(running.url, neutral.origin)).toEqual([]);
    await visit.close();
  }, 30_000);
});
