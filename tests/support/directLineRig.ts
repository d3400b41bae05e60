/**
 * Our Direct Line service on a loopback port, for tests that speak the protocol: either a whole
 * Waypoint as startWaypoint composes it (`startDirectLineRig`), or only the Direct Line channel
 * in front of a bot the test writes (`startBareDirectLine`). Both run on a clock the test moves,
 * and come with raw HTTP and WebSocket helpers, so a test can say exactly what a client sends.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type { Activity } from 'botbuilder';
import type { Config } from '../../bot/config.js';
import { testConfig } from './testConfig.js';
import type { Messages } from '../../bot/content/schema.js';
import { startWaypoint, type RunningWaypoint, type StartOptions } from '../../bot/index.js';
import { createServer } from '../../bot/server.js';
import { routeUpgrades } from '../../bot/upgradeRouter.js';
import type { TurnRunner } from '../../bot/channels/turnRunner.js';
import { createDirectLineChannel, type DirectLineChannel } from '../../bot/channels/directLine/directLineChannel.js';
import { captureLog } from './capturedLog.js';
import { DirectLineClient, type ClientOptions } from './directLineClient.js';

const WAIT_MS = 5000;

/** A clock that moves only when the test says so (tokens, buffers, idle time and rate limits read it). */
export class TestClock {
  private at = Date.now();
  readonly now = (): number => this.at;

  advance(ms: number): void {
    this.at += ms;
  }
}

/** What the server answered, read once. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body as JSON; undefined when it is not JSON. */
  readonly json: unknown;
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Sent as JSON with `Content-Type: application/json`. */
  readonly json?: unknown;
  /** Sent as is (set the content type in `headers`). */
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
}

export interface StartedConversation {
  readonly conversationId: string;
  readonly token: string;
  readonly expiresIn: number;
  readonly streamUrl: string;
}

export interface ActivitySet {
  readonly activities: Activity[];
  readonly watermark: string;
}

export interface DirectLineServer {
  readonly url: string;
  readonly port: number;
  readonly clock: TestClock;
  readonly channel: DirectLineChannel;
  logText(): string;
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  /** `POST /webchat/token`, as the widget asks for one. */
  widgetToken(): Promise<{ conversationId: string; token: string; expires_in: number }>;
  /** A widget token, then `POST /v3/directline/conversations` with it: the welcome turn has run. */
  startConversation(): Promise<StartedConversation>;
  /** `GET .../activities` (refused answers throw). */
  activities(conversation: { conversationId: string; token: string }, watermark?: string): Promise<ActivitySet>;
  /** Polls `GET .../activities` until `done` holds for what the buffer has. */
  activitiesUntil(conversation: { conversationId: string; token: string }, done: (set: ActivitySet) => boolean): Promise<ActivitySet>;
  /** Posts a message as Web Chat would; resolves with the answer (the turn has run when it comes). */
  say(conversation: { conversationId: string; token: string }, text: string | undefined, extra?: Record<string, unknown>): Promise<Answer>;
  /** A real Direct Line client (ended when the server closes). */
  client(options: Omit<ClientOptions, 'baseUrl'>): DirectLineClient;
  close(): Promise<void>;
}

export interface WaypointDirectLine extends DirectLineServer {
  readonly running: RunningWaypoint;
  /** The English messages, as the content files say them. */
  readonly messages: Messages;
}

/** A whole Waypoint (with the test's clock) for Direct Line tests; `env` adds settings. */
export async function startDirectLineRig(env: Record<string, string> = {}, options: StartOptions = {}): Promise<WaypointDirectLine> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-dl-'));
  const clock = new TestClock();
  const { log, text: logText } = captureLog();
  const config = testConfig(dataDir, env);
  const running = await startWaypoint(config, log, { now: clock.now, ...options });
  const server = serverHelpers(running.url, running.port, clock, running.directLine, logText, async () => {
    await running.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { ...server, running, messages: running.runtime.content.forLocale('en').messages };
}

export interface BareOptions {
  readonly bot: TurnRunner;
  readonly settings?: Partial<Config['directLine']>;
  readonly widgetTokensPerMinute?: number;
  readonly keepAliveMs?: number;
}

/**
 * Only the Direct Line channel, behind the same HTTP server and error handler as Waypoint's,
 * in front of `bot`. Settings are taken as given (in ms and s, with none of the config's
 * minimums), so a test can make the idle sweep run every second.
 */
export async function startBareDirectLine(options: BareOptions): Promise<DirectLineServer> {
  const clock = new TestClock();
  const { log, text: logText } = captureLog();
  const channel = createDirectLineChannel({
    bot: options.bot,
    key: randomBytes(32),
    settings: { secret: undefined, tokenSeconds: 1800, bufferActivities: 50, bufferMs: 600_000, idleMs: 1_800_000, ...options.settings },
    publicUrl: undefined,
    widgetTokensPerMinute: options.widgetTokensPerMinute ?? 1000,
    log,
    now: clock.now,
    keepAliveMs: options.keepAliveMs,
  });
  const app = createServer(
    { botFrameworkMessages: (_req, res) => void res.status(404).end(), directLine: channel.routes, widget: [channel.widgetToken] },
    log,
  );
  const server = app.listen(0, '127.0.0.1');
  channel.attach(routeUpgrades(server, log));
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return serverHelpers(`http://127.0.0.1:${port}`, port, clock, channel, logText, async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await channel.close();
    await closed;
  });
}

function serverHelpers(
  url: string,
  port: number,
  clock: TestClock,
  channel: DirectLineChannel,
  logText: () => string,
  stop: () => Promise<void>,
): DirectLineServer {
  const clients: DirectLineClient[] = [];
  const call = (method: string, address: string, options: CallOptions = {}) => callServer(url, method, address, options);
  const helpers: DirectLineServer = {
    url,
    port,
    clock,
    channel,
    logText,
    call,
    async widgetToken() {
      return expectOk(await call('POST', '/webchat/token'), 200) as { conversationId: string; token: string; expires_in: number };
    },
    async startConversation() {
      const { token } = await helpers.widgetToken();
      const started = expectOk(await call('POST', '/v3/directline/conversations', { token }), 201) as Record<string, unknown>;
      return {
        conversationId: String(started.conversationId),
        token: String(started.token),
        expiresIn: Number(started.expires_in),
        streamUrl: String(started.streamUrl),
      };
    },
    async activities({ conversationId, token }, watermark) {
      const query = watermark === undefined ? '' : `?watermark=${encodeURIComponent(watermark)}`;
      return expectOk(await call('GET', `/v3/directline/conversations/${encodeURIComponent(conversationId)}/activities${query}`, { token }), 200) as ActivitySet;
    },
    async activitiesUntil(conversation, done) {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const set = await helpers.activities(conversation);
        if (done(set)) return set;
        if (Date.now() > deadline) throw new Error(`the buffer never got there: ${JSON.stringify(set.activities.map((a) => a.text ?? a.type))}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    say({ conversationId, token }, text, extra = {}) {
      return call('POST', `/v3/directline/conversations/${encodeURIComponent(conversationId)}/activities`, {
        token,
        json: { type: 'message', from: { id: 'me' }, text, channelData: { clientActivityID: `raw-${Math.random()}` }, ...extra },
      });
    },
    client(options) {
      const client = new DirectLineClient({ baseUrl: url, ...options });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.end();
      await stop();
    },
  };
  return helpers;
}

async function callServer(url: string, method: string, address: string, options: CallOptions): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | Uint8Array | undefined = options.body;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  }
  const res = await fetch(`${url}${address}`, { method, headers, body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function expectOk(answer: Answer, status: number): unknown {
  if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}: ${answer.text}`);
  return answer.json;
}

/** The error code of a refusal (`{ error: { code } }`), or undefined. */
export function errorCode(answer: Answer): string | undefined {
  return (answer.json as { error?: { code?: string } } | undefined)?.error?.code;
}

/** An open stream, as a client sees it: the groups pushed so far, and how it closed. */
export interface StreamConnection {
  readonly socket: WebSocket;
  /** Every non-empty frame, parsed. */
  readonly groups: { activities: Activity[]; watermark?: string }[];
  /** Resolves with the close code once the stream closes. */
  readonly closed: Promise<number>;
  /** Waits until some pushed activity matches. */
  waitFor(match: (activity: Activity) => boolean): Promise<Activity>;
}

/** Opens a stream URL; rejects with the refusal's status when the upgrade is refused. */
export async function openStream(streamUrl: string): Promise<StreamConnection> {
  // A refusal must come quickly; a server that leaves the upgrade hanging fails the test instead.
  const socket = new WebSocket(streamUrl, { handshakeTimeout: 3000 });
  const groups: StreamConnection['groups'] = [];
  let wake = () => {};
  socket.on('message', (data) => {
    const text = String(data);
    if (text) groups.push(JSON.parse(text) as StreamConnection['groups'][number]);
    wake();
  });
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => {
      reject(new StreamRefused(res.statusCode ?? 0));
      socket.terminate();
    });
    socket.once('error', reject);
  });
  return {
    socket,
    groups,
    closed,
    async waitFor(match) {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const found = groups.flatMap((group) => group.activities).find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`nothing matched on the stream; got ${JSON.stringify(groups)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, deadline - Date.now());
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
  };
}

export class StreamRefused extends Error {
  constructor(readonly status: number) {
    super(`the stream upgrade was refused with ${status}`);
  }
}

/** The status an upgrade to `streamUrl` gets: 101 when it opens (and is closed again at once). */
export async function upgradeStatus(streamUrl: string): Promise<number> {
  try {
    const stream = await openStream(streamUrl);
    stream.socket.close();
    return 101;
  } catch (error) {
    if (error instanceof StreamRefused) return error.status;
    throw error;
  }
}

/** Writes raw bytes to the port and resolves with whatever comes back before the server closes (or `waitMs`). */
export function rawExchange(port: number, request: string | Buffer, waitMs = 2000): Promise<{ answer: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ answer, closedByServer: false });
    }, waitMs);
    socket.on('data', (data) => (answer += String(data)));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ answer, closedByServer: true });
    });
  });
}

/** The sequence number in a Direct Line activity id (`<conversation>|0000012`), or -1. */
export function sequenceOf(activity: Activity): number {
  const match = /\|(\d+)$/.exec(activity.id ?? '');
  return match ? Number(match[1]) : -1;
}

/** A message or list of messages from the content, as the bubbles the bot sends. */
export function bubbles(message: string | readonly string[]): string[] {
  return typeof message === 'string' ? [message] : [...message];
}
