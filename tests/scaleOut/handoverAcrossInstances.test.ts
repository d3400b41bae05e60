/**
 * Live chat across instances: two Waypoints share one redis-server; a person talks to instance
 * A over Direct Line (the real client library), their counsellor to instance B through the
 * console's WebSocket, and they talk as if both were on one. The queue keeps its order across
 * instances, one person is never given to two counsellors, a Redis restart mid-wait recovers by
 * itself, and nothing either side typed is in any Redis key or value.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openStaffAccounts } from '../../bot/handover/staffAccounts.js';
import { connectRedis } from '../../bot/redis/redisConnection.js';
import type { Redis } from 'ioredis';
import { captureLog } from '../support/capturedLog.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer.js';
import { startScaleOutRig, texts, WebChatPerson, type Instance, type ScaleOutRig } from '../support/scaleOutRig.js';
import { Counsellor, PASSWORD } from '../support/liveChatRig.js';
import { DirectLineClient } from '../support/directLineClient.js';
import { ALWAYS_OPEN } from '../support/testConfig.js';
import { startWaypointProcess, type WaypointProcess } from '../support/waypointProcess.js';
import { startRoundRobinProxy } from '../support/roundRobinProxy.js';

const STAFF = [
  { name: 'Sam', role: 'counsellor' },
  { name: 'Alex', role: 'counsellor' },
  { name: 'Pat', role: 'supervisor' },
] as const;

let prefixes = 0;
/** Each test has its own keys, so nothing one leaves behind is seen by the next. */
const freshPrefix = () => `t${++prefixes}:`;

describeWithRedis('live chat with the person on one instance and the counsellor on another', () => {
  let redis: RedisServer;
  let rig: ScaleOutRig | undefined;

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function start(env: Record<string, string> = {}): Promise<{ a: Instance; b: Instance; rig: ScaleOutRig }> {
    rig = await startScaleOutRig(redis.url, { staff: STAFF, env: { REDIS_KEY_PREFIX: freshPrefix(), ...env } });
    const [a, b] = rig.instances as [Instance, Instance];
    return { a, b, rig };
  }

  /** A person at the menu of a new Web Chat conversation. */
  async function atMenu(on: Instance): Promise<WebChatPerson> {
    const { consent, menu } = rig!.messages;
    const person = await rig!.person(on);
    await person.waitForText(consent.question);
    await person.say(consent.agree);
    await person.waitForText(menu.prompt);
    return person;
  }

  /** Asks for a person and says yes; resolves to what the bot said about the queue. */
  async function queueUp(person: WebChatPerson, ask = 'talk to a person'): Promise<string[]> {
    await person.say(ask);
    await person.waitForText(/find you a counsellor\?/);
    await person.say('Yes, find me a counsellor');
    return texts(await person.waitForText(/in the queue, number/));
  }

  async function availableCounsellor(on: Instance, name: string): Promise<Counsellor> {
    const counsellor = await rig!.counsellor(on, name);
    await counsellor.next('hello');
    counsellor.send({ type: 'availability', available: true });
    return counsellor;
  }

  it('queues a person on A for a counsellor on B, connects them, relays words and typing both ways with the risk flag, and ends', async () => {
    const { a, b } = await start();
    const sam = await availableCounsellor(b, 'Sam');
    await sam.next('chats', (f) => f.chats.length === 0);

    const person = await atMenu(a);
    const queued = await queueUp(person);
    expect(queued.join(' ')).toMatch(/number 1\b/);

    const [entry] = await sam.queue((entries) => entries.length === 1);
    expect(entry!.priority).toBe('other');
    expect(entry!.card).toMatchObject({ reason: { category: 'human', level: 'low' }, modulesCompleted: [], safetyPlan: false });

    sam.send({ type: 'accept', ticket: entry!.ticket });
    const { chatId } = (await sam.next('chat.opened')).chat;
    await person.waitForText(/Sam, a counsellor, has joined/);

    await person.say('hello, canary-a71c person words');
    expect(await sam.next('message')).toEqual({ type: 'message', chatId, text: 'hello, canary-a71c person words' });

    await person.typing();
    await sam.next('typing', (f) => f.chatId === chatId);

    sam.send({ type: 'message', chatId, text: 'Hi, canary-b93e counsellor words. Take your time.', ref: 'r1' });
    expect(texts(await person.waitForText(/canary-b93e/)).at(-1)).toBe('Sam: Hi, canary-b93e counsellor words. Take your time.');
    expect(await sam.next('delivered')).toEqual({ type: 'delivered', chatId, ref: 'r1' });

    sam.send({ type: 'typing', chatId });
    await person.next((activity) => activity.type === 'typing', 'typing from the counsellor');

    // The bot's risk screen still reads every message on A, and B's counsellor hears of it first.
    await person.say('i have the pills here and im going to take them all tonight');
    const flag = await sam.next('risk');
    expect(flag).toMatchObject({ chatId, category: 'suicide' });
    expect(await sam.next('message')).toMatchObject({ chatId });

    sam.send({ type: 'end', chatId, suggestModule: 'urges' });
    expect(await sam.next('chat.ended')).toEqual({ type: 'chat.ended', chatId, by: 'counsellor' });
    const ended = await person.waitForText(/How helpful/);
    expect(texts(ended)).toEqual(["The counsellor has ended the chat. You're back with Waypoint.", expect.stringMatching(/How helpful/)]);

    expect(a.logText()).toContain('handover.queued');
    expect(b.logText()).toContain('handover.connected');

    // Words were published, never stored: no key or value in Redis holds them, and no log line.
    const stored = await everythingIn(redis.url);
    expect(stored.length).toBeGreaterThan(0);
    for (const canary of ['canary-a71c', 'canary-b93e', 'pills here', person.conversationId]) {
      expect(stored).not.toContain(canary);
      expect(rig!.logText()).not.toContain(canary);
    }
  }, 60_000);

  it('answers the most urgent person first whichever instance they are on, and gives one person to only one of two counsellors accepting at once', async () => {
    const { a, b } = await start();
    const sam = await availableCounsellor(a, 'Sam');
    const alex = await availableCounsellor(b, 'Alex');

    const early = await atMenu(a);
    expect((await queueUp(early)).join(' ')).toMatch(/number 1\b/);
    const urgent = await atMenu(b);
    await urgent.say('im meeting a 13 year old girl from discord tonight');
    await urgent.next((activity) => buttonTitles(activity).includes('United Kingdom'), 'the country question');
    await urgent.say('United Kingdom');
    await urgent.next((activity) => buttonTitles(activity).includes('Talk to a counsellor'), 'the offer of a counsellor');
    expect((await queueUp(urgent, 'Talk to a counsellor')).join(' ')).toMatch(/number 1\b/);

    const onA = await sam.queue((e) => e.length === 2);
    const onB = await alex.queue((e) => e.length === 2);
    expect(onA.map((e) => [e.priority, e.card.reason.category])).toEqual([
      ['child_imminent', 'child_at_risk'],
      ['other', 'human'],
    ]);
    expect(onB.map((e) => e.ticket)).toEqual(onA.map((e) => e.ticket));
    // The person who came first hears that someone went ahead of them (positions are told at most once a minute; this is the first).

    // Both counsellors press "accept" on the urgent person at the same moment, on different instances.
    sam.send({ type: 'accept', ticket: onA[0]!.ticket });
    alex.send({ type: 'accept', ticket: onA[0]!.ticket });
    const outcome = await Promise.race([
      sam.next('chat.opened').then((f) => ({ winner: sam, loser: alex, chatId: f.chat.chatId, name: 'Sam' })),
      alex.next('chat.opened').then((f) => ({ winner: alex, loser: sam, chatId: f.chat.chatId, name: 'Alex' })),
    ]);
    expect(await outcome.loser.next('error')).toMatchObject({ code: 'TICKET_GONE' });
    await urgent.waitForText(new RegExp(`${outcome.name}, a counsellor, has joined`));

    // The loser takes the next person instead.
    outcome.loser.send({ type: 'accept', ticket: onA[1]!.ticket });
    const other = (await outcome.loser.next('chat.opened')).chat.chatId;
    await early.waitForText(/a counsellor, has joined/);

    // Each counsellor hears only their own chat, and cannot write into the other's.
    await urgent.say('only for the first counsellor');
    expect(await outcome.winner.next('message')).toEqual({ type: 'message', chatId: outcome.chatId, text: 'only for the first counsellor' });
    outcome.loser.send({ type: 'message', chatId: outcome.chatId, text: 'not yours', ref: 'x1' });
    expect(await outcome.loser.next('error')).toMatchObject({ code: 'NOT_YOUR_CHAT', ref: 'x1' });
    outcome.loser.send({ type: 'end', chatId: outcome.chatId });
    expect(await outcome.loser.next('error')).toMatchObject({ code: 'NOT_YOUR_CHAT' });
    expect(outcome.loser.frames.some((f) => f.type === 'message' && f.chatId === outcome.chatId)).toBe(false);

    // The person ends their chat on their own instance; the counsellor on the other hears it.
    await early.say('end chat');
    await early.waitForText(/You've left the chat with the counsellor/);
    expect(await outcome.loser.next('chat.ended')).toEqual({ type: 'chat.ended', chatId: other, by: 'person' });
  }, 90_000);

  it('keeps a chat through a reload onto the other instance, and puts the person back at the front within 5 seconds when the counsellor goes', async () => {
    const { a, b } = await start();
    const sam = await availableCounsellor(b, 'Sam');
    const person = await atMenu(a);
    await queueUp(person);
    const [entry] = await sam.queue((e) => e.length === 1);
    sam.send({ type: 'accept', ticket: entry!.ticket });
    const { chatId } = (await sam.next('chat.opened')).chat;
    await person.waitForText(/has joined/);

    // A reload that lands on the other instance, within the grace period: the chat is still there.
    const { cookie, csrfToken } = await rig!.signIn(a, 'Sam');
    sam.socket.close();
    await new Promise((r) => setTimeout(r, 300));
    await person.say('are you still there');
    await new Promise((r) => setTimeout(r, 200));
    const reloaded = await rig!.counsellor(a, 'Sam');
    expect((await reloaded.next('chats')).chats.map((c) => c.chatId)).toEqual([chatId]);
    expect(reloaded.frames.find((f) => f.type === 'hello')).toMatchObject({ available: true });
    // What the person wrote while the page was away is handed over, once.
    expect(await reloaded.next('message')).toMatchObject({ chatId, text: 'are you still there' });
    await new Promise((r) => setTimeout(r, 300));
    expect(reloaded.frames.filter((f) => f.type === 'message')).toHaveLength(1);
    void cookie;
    void csrfToken;

    // Now the network goes for good.
    const pat = await rig!.counsellor(b, 'Pat');
    await pat.next('hello');
    const gone = Date.now();
    reloaded.socket.terminate();
    await person.waitForText(/back at the front of the queue/);
    expect(Date.now() - gone).toBeLessThan(5000);
    const queue = await pat.queue((e) => e.length === 1);
    const presence = await pat.next('presence', (f) => f.queueLength === 1 && f.liveChats === 0);
    expect(presence.counsellors.map((c) => c.name)).toEqual(['Pat']);
    pat.send({ type: 'availability', available: true });
    pat.send({ type: 'accept', ticket: queue[0]!.ticket });
    await person.waitForText(/Pat, a counsellor, has joined/);
  }, 60_000);

  it('tells a waiting person their new place, and times their wait out, once, from their own instance (injected clock)', async () => {
    let now = Date.now();
    rig = await startScaleOutRig(redis.url, { staff: STAFF, env: { REDIS_KEY_PREFIX: freshPrefix() }, options: { now: () => now } });
    const [a, b] = rig.instances as [Instance, Instance];
    const tickAll = () => Promise.all(rig!.instances.map((instance) => instance.running.runtime.desk.tick()));
    const sam = await availableCounsellor(b, 'Sam');
    const early = await atMenu(a);
    await queueUp(early);
    const urgent = await atMenu(b);
    await urgent.say('i have the pills here and im going to take them all tonight');
    await urgent.next((activity) => buttonTitles(activity).includes('United Kingdom'), 'the country question');
    await urgent.say('United Kingdom');
    await urgent.next((activity) => buttonTitles(activity).includes('Talk to a counsellor'), 'the offer of a counsellor');
    await queueUp(urgent, 'Talk to a counsellor');
    expect((await sam.queue((e) => e.length === 2)).map((e) => e.priority)).toEqual(['suicide', 'other']);

    // Both instances tick; only the person's own instance speaks to them, and only once a minute.
    await new Promise((r) => setTimeout(r, 300));
    early.skipUnread();
    await tickAll();
    await new Promise((r) => setTimeout(r, 200));
    expect(texts(early.unread())).toEqual([]);
    now += 61_000;
    await tickAll();
    await tickAll();
    const update = await early.waitForText(/now number 2/);
    expect(texts(update)).toEqual([expect.stringMatching(/^Update: you are now number 2 in the queue \(about \d+ minutes, roughly\)\.$/)]);
    await new Promise((r) => setTimeout(r, 200));
    expect(texts(early.unread()).filter((t) => /now number/.test(t))).toEqual([]);

    // 20 minutes on, both waits time out, each once, each by its own instance.
    now += 20 * 60_000;
    await tickAll();
    await tickAll();
    expect(texts(await early.waitForText(/no counsellor was able to take your chat in time/)).join(' ')).not.toMatch(/number/);
    await urgent.waitForText(/no counsellor was able to take your chat in time/);
    await sam.queue((e) => e.length === 0);
    await new Promise((r) => setTimeout(r, 200));
    for (const person of [early, urgent]) expect(texts(person.unread()).filter((t) => /in time/.test(t))).toEqual([]);
    expect(a.logText().match(/handover\.timedOut/g)).toHaveLength(1);
    expect(b.logText().match(/handover\.timedOut/g)).toHaveLength(1);
  }, 90_000);

  it('works behind a balancer with no sticky sessions: sign-in, session, console socket, lockout and sign-out span the instances, and so does the chat', async () => {
    await start();
    const proxy = await startRoundRobinProxy(rig!.instances.map((instance) => instance.url));
    try {
      const login = (password: string) =>
        fetch(`${proxy.url}/console/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Sam', password }) });
      const signedIn = await login(PASSWORD);
      expect(signedIn.status).toBe(200);
      const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;
      const { csrfToken } = (await signedIn.json()) as { csrfToken: string };
      const session = await fetch(`${proxy.url}/console/api/session`, { headers: { cookie } });
      expect(session.status).toBe(200);
      expect(await session.json()).toMatchObject({ name: 'Sam', role: 'counsellor' });
      const [login1, session1] = proxy.routed.filter((r) => r.path.startsWith('/console/api/'));
      expect(session1!.backend).not.toBe(login1!.backend);

      // The console's socket opens on whichever instance the balancer picks.
      proxy.pickUpgrade = () => 1 - login1!.backend;
      const sam = await Counsellor.connect(proxy.url, cookie, csrfToken);
      await sam.next('hello');
      sam.send({ type: 'availability', available: true });

      // A person's Web Chat through the same balancer: their requests alternate between the instances.
      proxy.pickUpgrade = undefined;
      const { token } = (await (await fetch(`${proxy.url}/webchat/token`, { method: 'POST' })).json()) as { token: string };
      const person = new WebChatPerson(new DirectLineClient({ baseUrl: proxy.url, token, webSocket: true }), 'balanced-person');
      try {
        await person.waitForText(rig!.messages.consent.question);
        await person.say(rig!.messages.consent.agree);
        await person.waitForText(rig!.messages.menu.prompt);
        await queueUp(person);
        const [entry] = await sam.queue((e) => e.length === 1);
        sam.send({ type: 'accept', ticket: entry!.ticket });
        const { chatId } = (await sam.next('chat.opened')).chat;
        await person.waitForText(/Sam, a counsellor, has joined/);
        await person.say('through the balancer');
        expect(await sam.next('message')).toEqual({ type: 'message', chatId, text: 'through the balancer' });
        sam.send({ type: 'message', chatId, text: 'heard you', ref: 'lb1' });
        await person.waitForText('Sam: heard you');
      } finally {
        person.client.end();
      }

      // Signing out through one instance closes the socket held by the other.
      const closed = new Promise<number>((resolve) => sam.socket.once('close', (code) => resolve(code)));
      const logout = await fetch(`${proxy.url}/console/api/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken } });
      expect(logout.status).toBe(204);
      expect(await closed).toBe(4001);
      expect((await fetch(`${proxy.url}/console/api/session`, { headers: { cookie } })).status).toBe(401);

      // Guessing a password is counted across the instances: the sixth try is locked out, wherever it lands.
      const tries: number[] = [];
      for (let i = 0; i < 6; i++) tries.push((await login('not the password at all')).status);
      expect(tries).toEqual([401, 401, 401, 401, 401, 429]);
      expect((await login(PASSWORD)).status).toBe(429);
    } finally {
      await proxy.close();
    }
  }, 90_000);

  it('signs a disabled account out on every instance, closing its console wherever it is open', async () => {
    rig = await startScaleOutRig(redis.url, {
      staff: STAFF,
      env: { REDIS_KEY_PREFIX: freshPrefix() },
      options: { console: { sessions: { accountCheckIntervalMs: 200 } } },
    });
    const [a, b] = rig.instances as [Instance, Instance];
    const { cookie, csrfToken } = await rig.signIn(a, 'Alex');
    const alex = await Counsellor.connect(b.url, cookie, csrfToken);
    await alex.next('hello');
    const closed = new Promise<number>((resolve) => alex.socket.once('close', (code) => resolve(code)));
    // Every instance reads the same accounts (here each has a copy, changed alike).
    for (const instance of rig.instances) await openStaffAccounts(instance.dataDir, { scryptCost: 2 ** 10 }).disable('Alex');
    expect(await closed).toBe(4001);
    // Each instance may trust a session it checked within the last second; by then it is gone everywhere.
    for (const instance of rig.instances) {
      const statusSoon = async (): Promise<number> => {
        const deadline = Date.now() + 3000;
        for (;;) {
          const { status } = await fetch(`${instance.url}/console/api/session`, { headers: { cookie } });
          if (status === 401 || Date.now() > deadline) return status;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      expect(await statusSoon()).toBe(401);
    }
  }, 60_000);

  it('says live chat is temporarily unavailable while Redis is down, and gives the waiting person their place back when it returns empty', async () => {
    const { a, b } = await start();
    const sam = await availableCounsellor(b, 'Sam');
    const waiting = await atMenu(a);
    await queueUp(waiting);
    const asker = await atMenu(a);
    await sam.queue((e) => e.length === 1);

    await redis.kill();
    expect(await sam.next('error', (f) => f.code === 'LIVE_CHAT_UNAVAILABLE')).toBeTruthy();
    await asker.say('talk to a person');
    expect(texts(await asker.waitForText(/temporarily unavailable/)).join(' ')).toMatch(/live chat with a counsellor is temporarily unavailable/i);

    await redis.start();
    // Each instance writes back what it knows: the waiting person, the counsellor and their availability.
    const [entry] = await sam.queue((e) => e.length === 1);
    sam.send({ type: 'accept', ticket: entry!.ticket });
    const { chatId } = (await sam.next('chat.opened')).chat;
    await waiting.waitForText(/Sam, a counsellor, has joined/);
    await waiting.say('glad that worked');
    expect(await sam.next('message')).toEqual({ type: 'message', chatId, text: 'glad that worked' });
    expect(a.logText()).toContain('handover.restored');
  }, 90_000);
});

describeWithRedis('live chat across two Waypoint processes', () => {
  let redis: RedisServer;
  const processes: WaypointProcess[] = [];
  const dataDirs: string[] = [];
  const people: WebChatPerson[] = [];
  const consoles: Counsellor[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    const secret = randomBytes(24).toString('base64url');
    for (let i = 0; i < 2; i++) {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), `waypoint-desk-process-${i}-`));
      dataDirs.push(dataDir);
      const accounts = openStaffAccounts(dataDir, { scryptCost: 2 ** 10 });
      for (const member of STAFF) await accounts.add(member.name, PASSWORD, member.role);
    }
    // Side by side: each is its own process, so their start-ups overlap.
    const started = await Promise.allSettled(
      dataDirs.map((dataDir) =>
        startWaypointProcess({ REDIS_URL: redis.url, PSEUDONYM_SECRET: secret, DATA_DIR: dataDir, HANDOVER_FILE: ALWAYS_OPEN, PRIVACY_GUARD: 'throw', LOG_LEVEL: 'info' }),
      ),
    );
    for (const outcome of started) if (outcome.status === 'fulfilled') processes.push(outcome.value);
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  }, 90_000);

  afterAll(async () => {
    for (const person of people) person.client.end();
    for (const counsellor of consoles) counsellor.socket.terminate();
    await Promise.all(processes.map((waypoint) => waypoint.stop()));
    await redis?.stop();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  async function counsellorOn(waypoint: WaypointProcess, name: string): Promise<Counsellor> {
    const res = await fetch(`${waypoint.url}/console/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    const { csrfToken } = (await res.json()) as { csrfToken: string };
    const counsellor = await Counsellor.connect(waypoint.url, (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrfToken);
    consoles.push(counsellor);
    await counsellor.next('hello');
    counsellor.send({ type: 'availability', available: true });
    return counsellor;
  }

  it('connects a person on one process with a counsellor on the other, and puts the person back in the queue when that process is killed', async () => {
    const [a, b] = processes as [WaypointProcess, WaypointProcess];
    const sam = await counsellorOn(b, 'Sam');
    const { token } = (await (await fetch(`${a.url}/webchat/token`, { method: 'POST' })).json()) as { token: string };
    const person = new WebChatPerson(new DirectLineClient({ baseUrl: a.url, token, webSocket: true }), 'process-person');
    people.push(person);
    await person.waitForText(/happy to continue/);
    await person.say('Yes, continue');
    await person.waitForText(/What would you like to look at/);
    await person.say('talk to a person');
    await person.waitForText(/find you a counsellor\?/);
    await person.say('Yes, find me a counsellor');
    await person.waitForText(/in the queue, number 1\b/);

    const [entry] = await sam.queue((e) => e.length === 1);
    sam.send({ type: 'accept', ticket: entry!.ticket });
    const { chatId } = (await sam.next('chat.opened')).chat;
    await person.waitForText(/Sam, a counsellor, has joined/);
    await person.say('canary-c4d0 from the person');
    expect(await sam.next('message')).toEqual({ type: 'message', chatId, text: 'canary-c4d0 from the person' });
    sam.send({ type: 'message', chatId, text: 'canary-e5f1 from the counsellor', ref: 'p1' });
    await person.waitForText('Sam: canary-e5f1 from the counsellor');
    expect(await sam.next('delivered')).toEqual({ type: 'delivered', chatId, ref: 'p1' });

    // The counsellor's process crashes: its presence lapses, and the person's process puts them back at the front.
    await b.kill();
    await person.waitForText(/back at the front of the queue/, 30_000);
    const alex = await counsellorOn(a, 'Alex');
    const [again] = await alex.queue((e) => e.length === 1);
    expect(again!.card.reason.category).toBe('human');
    alex.send({ type: 'accept', ticket: again!.ticket });
    await person.waitForText(/Alex, a counsellor, has joined/);

    const stored = await everythingIn(redis.url);
    for (const canary of ['canary-c4d0', 'canary-e5f1']) {
      expect(stored).not.toContain(canary);
      expect(a.output()).not.toContain(canary);
      expect(b.output()).not.toContain(canary);
    }
  }, 90_000);
});

function buttonTitles(activity: { suggestedActions?: { actions?: { title?: string }[] } }): string[] {
  return (activity.suggestedActions?.actions ?? []).map((action) => String(action.title));
}

/** Every key and every value in Redis, as one text to search. */
async function everythingIn(url: string): Promise<string> {
  const { log } = captureLog();
  const client: Redis = connectRedis(url, { log, name: 'test-scan' });
  try {
    const parts: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'COUNT', 200);
      cursor = next;
      for (const key of keys) {
        parts.push(key);
        const type = await client.type(key);
        if (type === 'string') parts.push((await client.get(key)) ?? '');
        else if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(key)));
        else if (type === 'zset') parts.push(JSON.stringify(await client.zrange(key, '0', '-1', 'WITHSCORES')));
        else if (type === 'list') parts.push(JSON.stringify(await client.lrange(key, '0', '-1')));
        else if (type === 'set') parts.push(JSON.stringify(await client.smembers(key)));
        else if (type === 'stream') parts.push(JSON.stringify(await client.xrange(key, '-', '+')));
        else parts.push(`<${type}>`);
      }
    } while (cursor !== '0');
    return parts.join('\n');
  } finally {
    client.disconnect();
  }
}
