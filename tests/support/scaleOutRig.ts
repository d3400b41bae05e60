/**
 * Several whole Waypoints in this process (startWaypoint each, as index.ts composes it) sharing
 * one redis-server, for live-chat tests across instances: people talk to one instance over
 * Direct Line with the real client library (what Web Chat uses), counsellors to another through
 * the console's real WebSocket. Each instance has its own data folder, log and (optionally) clock;
 * they share the pseudonym secret, as REDIS_URL requires.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Activity } from 'botbuilder';
import { captureLog } from './capturedLog.js';
import { testConfig } from './testConfig.js';
import { DirectLineClient } from './directLineClient.js';
import { Counsellor, PASSWORD, signInToConsoleApi } from './liveChatRig.js';
import { startWaypoint, type RunningWaypoint, type StartOptions } from '../../bot/index.js';
import { openStaffAccounts, type StaffRole } from '../../bot/handover/staffAccounts.js';
import type { Messages } from '../../bot/content/schema.js';

const WAIT_MS = 8000;

export interface Instance {
  readonly running: RunningWaypoint;
  readonly url: string;
  readonly dataDir: string;
  logText(): string;
}

export interface ScaleOutRig {
  readonly instances: readonly Instance[];
  /** The English messages, as the content files say them. */
  readonly messages: Messages;
  /** A person starting a Web Chat conversation on that instance. */
  person(on: Instance): Promise<WebChatPerson>;
  /** Signs in on that instance and opens the console's WebSocket there. */
  counsellor(on: Instance, name: string): Promise<Counsellor>;
  signIn(on: Instance, name: string): Promise<{ cookie: string; csrfToken: string }>;
  /** Every instance's log, one after the other. */
  logText(): string;
  close(): Promise<void>;
}

export interface ScaleOutOptions {
  readonly staff: readonly { readonly name: string; readonly role: StaffRole }[];
  readonly instances?: number;
  readonly env?: Record<string, string>;
  readonly options?: StartOptions;
}

export async function startScaleOutRig(redisUrl: string, { staff, instances: count = 2, env = {}, options = {} }: ScaleOutOptions): Promise<ScaleOutRig> {
  const secret = randomBytes(24).toString('base64url');
  const instances: Instance[] = [];
  const people: WebChatPerson[] = [];
  const counsellors: Counsellor[] = [];
  for (let i = 0; i < count; i++) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `waypoint-desk-${i}-`));
    // Every instance must know the same staff; here each has a copy of the accounts file.
    const accounts = openStaffAccounts(dataDir, { scryptCost: 2 ** 10 });
    for (const member of staff) await accounts.add(member.name, PASSWORD, member.role);
    const { log, text } = captureLog();
    const config = testConfig(dataDir, { REDIS_URL: redisUrl, PSEUDONYM_SECRET: secret, ...env });
    const running = await startWaypoint(config, log, options);
    instances.push({ running, url: running.url, dataDir, logText: text });
  }
  const messages = instances[0]!.running.runtime.content.forLocale('en').messages;

  const rig: ScaleOutRig = {
    instances,
    messages,
    async person(on) {
      const res = await fetch(`${on.url}/webchat/token`, { method: 'POST' });
      if (res.status !== 200) throw new Error(`widget token on ${on.url} answered ${res.status}`);
      const { token, conversationId } = (await res.json()) as { token: string; conversationId: string };
      const person = new WebChatPerson(new DirectLineClient({ baseUrl: on.url, token, webSocket: true }), conversationId);
      people.push(person);
      return person;
    },
    signIn: (on, name) => signInToConsoleApi(on.url, name),
    async counsellor(on, name) {
      const { cookie, csrfToken } = await rig.signIn(on, name);
      const counsellor = await Counsellor.connect(on.url, cookie, csrfToken);
      counsellors.push(counsellor);
      return counsellor;
    },
    logText: () => instances.map((instance) => instance.logText()).join(''),
    async close() {
      for (const person of people) person.client.end();
      for (const counsellor of counsellors) counsellor.socket.terminate();
      for (const instance of instances) await instance.running.stop();
      for (const instance of instances) await rm(instance.dataDir, { recursive: true, force: true });
    },
  };
  return rig;
}

/** A person in one Web Chat conversation: what the bot sent is read in order, each activity once. */
export class WebChatPerson {
  private seen = 0;

  constructor(
    readonly client: DirectLineClient,
    readonly conversationId: string,
  ) {}

  /** Sends a message as Web Chat does and waits for the service to take it. */
  async say(text: string): Promise<void> {
    await this.client.post(text);
  }

  async typing(): Promise<void> {
    await this.client.postActivity({ type: 'typing', from: { id: 'me', role: 'user' } });
  }

  /** Waits for a new bot activity that matches; returns every new bot activity up to it (and a burst after). */
  async next(match: (activity: Activity) => boolean, what = 'a matching activity', timeoutMs = WAIT_MS): Promise<Activity[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const fresh = this.fromBot().slice(this.seen);
      const index = fresh.findIndex(match);
      if (index >= 0) {
        this.seen += index + 1;
        return fresh.slice(0, index + 1);
      }
      if (Date.now() > deadline) throw new Error(`no ${what} in ${this.conversationId}; new: ${JSON.stringify(fresh.map((a) => a.text ?? a.type))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Waits for a bot message whose text matches. */
  waitForText(pattern: RegExp | string, timeoutMs?: number): Promise<Activity[]> {
    const matches = (text: string) => (typeof pattern === 'string' ? text === pattern : pattern.test(text));
    return this.next((activity) => activity.type === 'message' && matches(activity.text ?? ''), `message matching ${String(pattern)}`, timeoutMs);
  }

  /** Marks everything received so far as read. */
  skipUnread(): void {
    this.seen = this.fromBot().length;
  }

  /** Bot messages not yet read, without waiting. */
  unread(): Activity[] {
    return this.fromBot().slice(this.seen);
  }

  private fromBot(): Activity[] {
    return this.client.received.filter((activity) => activity.from?.role === 'bot');
  }
}

export function texts(activities: readonly Activity[]): string[] {
  return activities.filter((a) => a.type === 'message').map((a) => a.text ?? '');
}
