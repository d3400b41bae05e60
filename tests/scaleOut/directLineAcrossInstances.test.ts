/**
 * Direct Line with two Waypoint processes on one Redis, behind a balancer that sends every
 * request to the other instance in turn: a person's conversation goes through consent and a
 * whole module while their posts (or polls) alternate between the instances, the stream is held
 * on one of them, and every reply reaches them exactly once. A conversation whose home instance
 * is killed goes on from the other. Nothing typed is in any Redis key or value.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Activity } from 'botbuilder';
import { loadContent } from '../../bot/content/loadContent.js';
import type { ContentLibrary, Messages } from '../../bot/content/schema.js';
import { REPO_ROOT } from '../support/botHarness.js';
import { DirectLineClient } from '../support/directLineClient.js';
import { everythingInRedis } from '../support/redisContents.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/roundRobinProxy.js';
import { ALWAYS_OPEN } from '../support/testConfig.js';
import { startWaypointProcess, type WaypointProcess } from '../support/waypointProcess.js';

const MODULE = 'relationships';
const markers: string[] = [];
/** Several words, so the privacy guard treats it as identifying text; the hex part is searched for. */
function canary(): string {
  const marker = randomBytes(6).toString('hex');
  markers.push(marker);
  return `canary ${marker} typed on some instance`;
}

describeWithRedis('Direct Line across two instances', () => {
  let redis: RedisServer;
  let content: ContentLibrary;
  let messages: Messages;
  const dataDirs: string[] = [];
  const instances: WaypointProcess[] = [];
  let proxy: RoundRobinProxy;
  const clients: DirectLineClient[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    content = await loadContent(path.join(REPO_ROOT, 'resources/content'), { defaultLocale: 'en' });
    messages = content.forLocale('en').messages;
    const secret = randomBytes(24).toString('base64url');
    for (let i = 0; i < 2; i++) dataDirs.push(await mkdtemp(path.join(os.tmpdir(), `waypoint-scale-${i}-`)));
    // Side by side: each is its own process, so their start-ups overlap.
    const started = await Promise.allSettled(
      dataDirs.map((dataDir) =>
        startWaypointProcess({
          REDIS_URL: redis.url,
          PSEUDONYM_SECRET: secret,
          DATA_DIR: dataDir,
          HANDOVER_FILE: ALWAYS_OPEN,
          PRIVACY_GUARD: 'throw',
          LOG_LEVEL: 'info',
          // The whole walk stays in the buffer, so the test can compare it with what the client got.
          DIRECT_LINE_BUFFER_ACTIVITIES: '1000',
        }),
      ),
    );
    for (const outcome of started) if (outcome.status === 'fulfilled') instances.push(outcome.value);
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    proxy = await startRoundRobinProxy(instances.map((instance) => instance.url));
  }, 90_000);

  afterAll(async () => {
    for (const client of clients) client.end();
    await proxy?.close();
    await Promise.all(instances.map((instance) => instance.stop()));
    await redis?.stop();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  /** The instance that started the conversation, i.e. holds its buffer. */
  function homeOf(routedFrom: number): number {
    const started = proxy.routed.slice(routedFrom).find((r) => r.method === 'POST' && r.path === '/v3/directline/conversations');
    if (!started) throw new Error('the conversation has not been started yet');
    return started.backend;
  }

  async function widgetToken(): Promise<{ token: string; conversationId: string }> {
    const answer = await fetch(`${proxy.url}/webchat/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"locale":"en-GB"}' });
    expect(answer.status).toBe(200);
    return (await answer.json()) as { token: string; conversationId: string };
  }

  function botMessages(client: DirectLineClient): Activity[] {
    return client.received.filter((a) => a.from?.role === 'bot' && a.type === 'message');
  }

  /** The sequence number of a buffered activity (`<conversation>|0000012`). */
  function seq(activity: Activity): number {
    return Number(/\|(\d+)$/.exec(activity.id ?? '')?.[1] ?? NaN);
  }

  /**
   * Consent, the menu, then the module to its end: a free-text canary wherever the bot asks a
   * reflective question, the first button everywhere else. Each post waits for the bot's next
   * buttons, which arrive over whichever instance the client listens to.
   */
  async function walk(client: DirectLineClient): Promise<void> {
    await client.waitForText(messages.consent.question, 15_000);
    await client.post(canary());
    await client.post(messages.consent.agree);
    await client.waitForText(messages.menu.prompt);
    let echoId = await client.post(content.forLocale('en').modules.get(MODULE)!.title);
    for (let step = 0; step < 60; step++) {
      const after = seq({ id: echoId } as Activity);
      const prompt = await client.waitFor((a) => seq(a) > after && (a.suggestedActions?.actions.length ?? 0) > 0, 10_000);
      const labels = prompt.suggestedActions!.actions.map((action) => String(action.title));
      if (labels.includes(messages.end.menu)) return;
      const answer = labels.includes(messages.reflect.skip) ? canary() : String(prompt.suggestedActions!.actions[0]!.value);
      echoId = await client.post(answer);
    }
    throw new Error('the module did not end within 60 steps');
  }

  /** Every activity the client got was buffered once, in order, none missing, none twice. */
  async function expectExactlyOnce(client: DirectLineClient, conversationId: string): Promise<void> {
    const buffered = client.received.filter((a) => a.id && !Number.isNaN(seq(a)));
    const ids = buffered.map((a) => a.id!);
    expect(new Set(ids).size).toBe(ids.length);
    const sequence = buffered.map(seq);
    expect(sequence).toEqual(sequence.map((_, i) => sequence[0]! + i));
    // The home's buffer (asked through the balancer, so possibly from the other instance) holds exactly the same.
    const answer = await fetch(`${proxy.url}/v3/directline/conversations/${conversationId}/activities`, { headers: { authorization: `Bearer ${client.token}` } });
    expect(answer.status).toBe(200);
    const { activities } = (await answer.json()) as { activities: Activity[] };
    expect(activities.map((a) => a.id)).toEqual(ids);
  }

  it.each([
    ['the one without the buffer', (home: number) => 1 - home],
    ['the one with the buffer', (home: number) => home],
  ])('walks consent and a module with posts alternating between instances and the stream held on %s', async (_, streamAt) => {
    const from = proxy.routed.length;
    proxy.pickUpgrade = () => streamAt(homeOf(from));
    const { token, conversationId } = await widgetToken();
    const person = new DirectLineClient({ baseUrl: proxy.url, token, webSocket: true });
    clients.push(person);
    await walk(person);
    const routed = proxy.routed.slice(from);
    // The stream stayed where it was put; the posts went to both.
    expect(routed.filter((r) => r.upgrade).map((r) => r.backend)).toEqual([streamAt(homeOf(from))]);
    const posts = routed.filter((r) => r.method === 'POST' && r.path.endsWith('/activities'));
    expect(new Set(posts.map((r) => r.backend))).toEqual(new Set([0, 1]));
    expect(botMessages(person).some((a) => a.text === messages.menu.prompt)).toBe(true);
    await expectExactlyOnce(person, conversationId);
    person.end();
  }, 90_000);

  it('walks consent and a module over polling, each poll going to the other instance', async () => {
    const from = proxy.routed.length;
    proxy.turnsPerMethod = true;
    const { token, conversationId } = await widgetToken();
    const person = new DirectLineClient({ baseUrl: proxy.url, token, webSocket: false });
    clients.push(person);
    await walk(person);
    const polls = proxy.routed.slice(from).filter((r) => r.method === 'GET' && r.path.endsWith('/activities'));
    expect(polls.filter((r) => r.backend === 0).length).toBeGreaterThan(3);
    expect(polls.filter((r) => r.backend === 1).length).toBeGreaterThan(3);
    const posts = proxy.routed.slice(from).filter((r) => r.method === 'POST' && r.path.endsWith('/activities'));
    expect(new Set(posts.map((r) => r.backend))).toEqual(new Set([0, 1]));
    await expectExactlyOnce(person, conversationId);
    person.end();
    proxy.turnsPerMethod = false;
  }, 90_000);

  it('writes nothing typed into Redis: no key or value holds a canary or a conversation id', async () => {
    expect(markers.length).toBeGreaterThan(4);
    const { keys, text } = await everythingInRedis(redis.url);
    expect(keys.some((key) => key.includes(':dl:home:'))).toBe(true);
    for (const marker of markers) expect(text).not.toContain(marker);
    for (const route of proxy.routed) {
      const id = /conversations\/([^/]+)/.exec(route.path)?.[1];
      if (id) expect(text).not.toContain(id);
    }
    // And no instance logged one either.
    for (const instance of instances) for (const marker of markers) expect(instance.output()).not.toContain(marker);
  });

  it('answers "try again" while Redis is down and needs nobody to step in once it is back, empty', async () => {
    const from = proxy.routed.length;
    const { token, conversationId } = await widgetToken();
    const started = await fetch(`${proxy.url}/v3/directline/conversations`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(started.status).toBe(201);
    const home = homeOf(from);
    const elsewhere = `${instances[1 - home]!.url}/v3/directline/conversations/${conversationId}/activities`;
    const say = (text: string) =>
      fetch(elsewhere, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'message', from: { id: 'me' }, text, channelData: { clientActivityID: `c-${text}` } }),
      });

    await redis.kill();
    const refused = await say(messages.menu.help);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('CONVERSATION_UNREACHABLE');
    expect(refused.headers.get('retry-after')).toBe('1');

    // Redis comes back without the homes it held (no persistence here); the home writes its own again.
    await redis.start();
    const deadline = Date.now() + 15_000;
    let answer = await say(messages.menu.help);
    while (answer.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      answer = await say(messages.menu.help);
    }
    expect(answer.status).toBe(200);
    const { id } = (await answer.json()) as { id: string };
    const polled = (await (await fetch(elsewhere, { headers: { authorization: `Bearer ${token}` } })).json()) as { activities: Activity[] };
    const afterEcho = polled.activities.slice(polled.activities.findIndex((a) => a.id === id) + 1);
    expect(afterEcho.some((a) => a.from?.role === 'bot' && a.type === 'message')).toBe(true);
    for (const instance of instances) expect((await fetch(`${instance.url}/healthz`)).status).toBe(200);
  }, 60_000);

  it('goes on from the other instance when the home of a conversation is killed', async () => {
    const from = proxy.routed.length;
    const { token, conversationId } = await widgetToken();
    const person = new DirectLineClient({ baseUrl: proxy.url, token, webSocket: false });
    clients.push(person);
    await person.waitForText(messages.consent.question, 15_000);
    await person.post(messages.consent.agree);
    await person.waitForText(messages.menu.prompt);
    person.end();
    const home = homeOf(from);
    const survivor = instances[1 - home]!;
    await instances[home]!.kill();
    const url = `${survivor.url}/v3/directline/conversations/${conversationId}/activities`;
    const posted = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', from: { id: 'me' }, text: messages.menu.help, channelData: { clientActivityID: 'after-the-crash' } }),
    });
    expect(posted.status).toBe(200);
    const { id } = (await posted.json()) as { id: string };
    const polled = (await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).json()) as { activities: Activity[] };
    // The buffer starts afresh on the survivor, above any watermark the old home gave out; the person is still past consent.
    expect(polled.activities[0]!.id).toBe(id);
    expect(seq(polled.activities[0]!)).toBeGreaterThan(1000);
    const replies = polled.activities.filter((a) => a.from?.role === 'bot').map((a) => a.text);
    expect(replies.length).toBeGreaterThan(0);
    expect(replies).not.toContain(messages.consent.question);
    expect(survivor.output()).toContain('"event":"directLine.adopted"');
  }, 60_000);
});
