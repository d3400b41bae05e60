/**
 * A whole Waypoint on a loopback port for live-chat tests: people talk through the real Bot
 * Framework endpoint (replies, including proactive ones, arrive at a fake connector), and
 * counsellors sign in through the console's HTTP API and talk over its real WebSocket.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type { Activity } from 'botbuilder';
import { ALWAYS_OPEN, testConfig } from './testConfig.js';
import { captureLog } from './capturedLog.js';
import { startWaypoint, type RunningWaypoint, type StartOptions } from '../../bot/index.js';
import { openStaffAccounts, type StaffRole } from '../../bot/handover/staffAccounts.js';
import type { ConsoleFrame } from '../../bot/handover/consoleFrames.js';
import { startFakeConnector, type FakeConnector } from './fakeConnector.js';

export const PASSWORD = 'a long enough password';

/** Signs a staff member (created with PASSWORD) in through the console's API; the session cookie and CSRF token. */
export async function signInToConsoleApi(url: string, name: string): Promise<{ cookie: string; csrfToken: string }> {
  const res = await fetch(`${url}/console/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`sign-in as ${name} failed with ${res.status}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie, csrfToken };
}

export { ALWAYS_OPEN };
const WAIT_MS = 5000;

export interface Rig {
  readonly running: RunningWaypoint;
  readonly connector: FakeConnector;
  readonly dataDir: string;
  logText(): string;
  person(conversationId: string): Person;
  /** Signs in and opens the console's WebSocket. */
  counsellor(name: string): Promise<Counsellor>;
  signIn(name: string): Promise<{ cookie: string; csrfToken: string }>;
  close(): Promise<void>;
}

export async function startRig(
  staff: readonly { name: string; role: StaffRole }[],
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<Rig> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-live-'));
  const accounts = openStaffAccounts(dataDir, { scryptCost: 2 ** 10 });
  for (const member of staff) await accounts.add(member.name, PASSWORD, member.role);
  const { log, text: logText } = captureLog();
  const config = testConfig(dataDir, env);
  const connector = await startFakeConnector();
  const running = await startWaypoint(config, log, options);
  const counsellors: Counsellor[] = [];

  const rig: Rig = {
    running,
    connector,
    dataDir,
    logText,
    person: (conversationId) => new Person(rig, conversationId),
    signIn: (name) => signInToConsoleApi(running.url, name),
    async counsellor(name) {
      const { cookie, csrfToken } = await rig.signIn(name);
      const counsellor = await Counsellor.connect(running.url, cookie, csrfToken);
      counsellors.push(counsellor);
      return counsellor;
    },
    async close() {
      counsellors.forEach((c) => c.socket.terminate());
      await running.stop();
      await connector.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return rig;
}

/** A person in one conversation on the Bot Framework endpoint. */
export class Person {
  private seen = 0;

  constructor(
    /** Only where to post and where replies land: a person may talk to one instance of several. */
    private readonly rig: Pick<Rig, 'running' | 'connector'>,
    readonly conversationId: string,
  ) {}

  async join(): Promise<Activity[]> {
    await this.post({ type: 'conversationUpdate', membersAdded: [{ id: `user-${this.conversationId}` }] });
    return this.replies(2);
  }

  /** Sends a message and waits for at least `expected` replies in this conversation. */
  async say(text: string, expected = 1): Promise<Activity[]> {
    await this.post({ type: 'message', text });
    return this.replies(expected);
  }

  async post(extra: Record<string, unknown>): Promise<number> {
    const res = await fetch(`${this.rig.running.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        channelId: 'emulator',
        serviceUrl: this.rig.connector.serviceUrl,
        conversation: { id: this.conversationId },
        from: { id: `user-${this.conversationId}` },
        recipient: { id: 'waypoint', name: 'Waypoint' },
        id: `act-${Math.random().toString(16).slice(2)}`,
        timestamp: new Date().toISOString(),
        locale: 'en-GB',
        ...extra,
      }),
    });
    if (res.status >= 300) throw new Error(`POST /api/messages answered ${res.status}`);
    return res.status;
  }

  /** Waits until `count` new activities have reached this conversation, and returns them (and any more that came). */
  async replies(count: number): Promise<Activity[]> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const all = this.all();
      if (all.length - this.seen >= count) {
        // A moment for the rest of a burst, so one call returns a whole answer.
        await new Promise((r) => setTimeout(r, 50));
        const fresh = this.all().slice(this.seen);
        this.seen += fresh.length;
        return fresh;
      }
      if (Date.now() > deadline) throw new Error(`expected ${count} new replies in ${this.conversationId}, got ${all.length - this.seen}: ${describe(all.slice(this.seen))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits for a message whose text matches. */
  async waitForText(pattern: RegExp): Promise<Activity[]> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const fresh = this.all().slice(this.seen);
      const index = fresh.findIndex((a) => a.type === 'message' && pattern.test(a.text ?? ''));
      if (index >= 0) {
        await new Promise((r) => setTimeout(r, 50));
        const burst = this.all().slice(this.seen);
        this.seen += burst.length;
        return burst;
      }
      if (Date.now() > deadline) throw new Error(`no reply matching ${pattern} in ${this.conversationId}: ${describe(fresh)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private all(): Activity[] {
    return this.rig.connector.received.filter((a) => a.conversation?.id === this.conversationId);
  }
}

/** A counsellor's console connection: every frame is kept, and can be waited for by type. */
export class Counsellor {
  readonly frames: ConsoleFrame[] = [];
  private read = 0;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.frames.push(JSON.parse(String(data)) as ConsoleFrame));
  }

  static async connect(url: string, cookie: string, csrfToken: string, origin?: string): Promise<Counsellor> {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/console/ws?csrf=${encodeURIComponent(csrfToken)}`, {
      headers: { cookie, ...(origin ? { origin } : {}) },
    });
    const counsellor = new Counsellor(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      socket.once('error', reject);
    });
    return counsellor;
  }

  send(frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** The next unread frame of that type (matching `where`), skipping others; waits for it. */
  async next<T extends ConsoleFrame['type']>(type: T, where: (frame: Extract<ConsoleFrame, { type: T }>) => boolean = () => true): Promise<Extract<ConsoleFrame, { type: T }>> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      for (let i = this.read; i < this.frames.length; i++) {
        const frame = this.frames[i]!;
        if (frame.type === type && where(frame as Extract<ConsoleFrame, { type: T }>)) {
          this.read = i + 1;
          return frame as Extract<ConsoleFrame, { type: T }>;
        }
      }
      if (Date.now() > deadline) throw new Error(`no "${type}" frame; got ${this.frames.slice(this.read).map((f) => f.type).join(', ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The latest queue frame received so far (after waiting for one matching `where`). */
  async queue(where: (entries: Extract<ConsoleFrame, { type: 'queue' }>['entries']) => boolean) {
    return (await this.next('queue', (frame) => where(frame.entries))).entries;
  }

  /** The queue as the page would show it now: the last queue frame received. */
  latestQueue(): Extract<ConsoleFrame, { type: 'queue' }>['entries'] {
    const last = this.frames.filter((f): f is Extract<ConsoleFrame, { type: 'queue' }> => f.type === 'queue').at(-1);
    return last?.entries ?? [];
  }
}

export function texts(activities: readonly Activity[]): string[] {
  return activities.filter((a) => a.type === 'message').map((a) => a.text ?? '');
}

export function buttons(activities: readonly Activity[]): string[] {
  const last = activities.filter((a) => (a.suggestedActions?.actions ?? []).length > 0).at(-1);
  return (last?.suggestedActions?.actions ?? []).map((a) => String(a.title));
}

function describe(activities: readonly Activity[]): string {
  return JSON.stringify(activities.map((a) => (a.type === 'message' ? a.text : `${a.type}:${a.name ?? ''}`)));
}
