import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Channels } from 'botbuilder';
import { HTTP_ERRORS } from '../../bot/httpErrors.js';
import { FreeText } from '../../bot/privacy/freeText.js';
import { runInTurnScope } from '../../bot/privacy/turnScope.js';
import { startWaypoint } from '../../bot/index.js';
import { testConfig } from '../support/testConfig.js';
import { captureLog } from '../support/capturedLog.js';
import { startDirectLineRig, errorCode, type WaypointDirectLine } from '../support/directLineRig.js';
import { startFakeConnector, type FakeConnector } from '../support/fakeConnector.js';
import { startRig, type Rig } from '../support/liveChatRig.js';
import { parsePrometheusText, valueOf, type Exposition } from '../support/prometheusText.js';

/** Every one of these is put somewhere a person or a channel controls; none may come out of /metrics. */
const CANARY = {
  text: 'canary-text-51c9 i keep thinking about it',
  channelId: 'canary-channel-62da',
  conversationId: 'canary-conversation-73eb',
  userId: 'canary-user-84fc',
  locale: 'canary-locale-950d',
  serviceUrlPath: 'canary-serviceurl-a61e',
  directLineUser: 'canary-dl-user-b72f',
  directLineLocale: 'en-GB-x-cnryc83',
};
const CANARY_MARKS = ['canary', '51c9', '62da', '73eb', '84fc', '950d', 'a61e', 'b72f', 'c83'];

const SECRET = 'metrics-test-direct-line-secret-0123456789';
const WAYPOINT_FAMILIES = [
  'waypoint_turns_total',
  'waypoint_turn_duration_seconds',
  'waypoint_active_conversations',
  'waypoint_directline_conversations_open',
  'waypoint_handover_queue_length',
  'waypoint_handover_live_chats',
  'waypoint_counsellors_online',
  'waypoint_errors_total',
  'waypoint_privacy_guard_rejections_total',
];

/**
 * The only values each label may take, written out here rather than taken from the module under
 * test: a label that is not listed, or a value that is not allowed, fails.
 */
const [NODE_MAJOR, NODE_MINOR, NODE_PATCH] = process.versions.node.split('.');
const ALLOWED_LABEL_VALUES: Record<string, (value: string) => boolean> = {
  channel: (v) => (Object.values(Channels) as string[]).includes(v) || v === 'other',
  code: (v) => Object.keys(HTTP_ERRORS).includes(v) || v === 'TURN_FAILED',
  le: (v) => v === '+Inf' || /^\d+(\.\d+)?(e-?\d+)?$/.test(v),
  // Process metrics: GC kinds, V8 heap spaces, libuv resource types, the Node.js version.
  kind: (v) => ['major', 'minor', 'incremental', 'weakcb'].includes(v),
  space: (v) => /^[a-z_]{1,40}$/.test(v),
  type: (v) => /^[A-Za-z]{1,40}$/.test(v),
  version: (v) => v === process.version,
  major: (v) => v === NODE_MAJOR,
  minor: (v) => v === NODE_MINOR,
  patch: (v) => v === NODE_PATCH,
};

function expectOnlyAllowedLabels(exposition: Exposition): void {
  for (const { name, labels } of exposition.samples) {
    for (const [label, value] of Object.entries(labels)) {
      const allowed = ALLOWED_LABEL_VALUES[label];
      expect({ name, label, allowed: allowed !== undefined }).toEqual({ name, label, allowed: true });
      expect({ name, label, value, allowed: allowed!(value) }).toEqual({ name, label, value, allowed: true });
    }
  }
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Exposition & { text: string }> {
  const res = await fetch(`${url}/metrics`, { headers });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${text}`);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return { ...parsePrometheusText(text), text };
}

const turns = (e: Exposition, channel: string) => valueOf(e, 'waypoint_turns_total', { channel });
const timedTurns = (e: Exposition, channel: string) => valueOf(e, 'waypoint_turn_duration_seconds_count', { channel });
const errors = (e: Exposition, code: string) => valueOf(e, 'waypoint_errors_total', { code });

describe('GET /metrics on a Waypoint serving /api/messages and Direct Line', () => {
  let connector: FakeConnector;
  let rig: WaypointDirectLine;

  beforeAll(async () => {
    connector = await startFakeConnector();
    rig = await startDirectLineRig({ DIRECT_LINE_SECRET: SECRET });
  });
  afterAll(async () => {
    await rig?.close();
    await connector?.close();
  });

  const post = async (extra: Record<string, unknown>) => {
    const res = await fetch(`${rig.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'message',
        channelId: 'emulator',
        serviceUrl: connector.serviceUrl,
        conversation: { id: CANARY.conversationId },
        from: { id: CANARY.userId },
        recipient: { id: 'waypoint' },
        locale: CANARY.locale,
        ...extra,
      }),
    });
    expect(res.status).toBeLessThan(300);
  };

  it('counts every turn by channel, and no label value came from what a person sent or a channel id', async () => {
    const before = await scrape(rig.url);
    expect([...before.types.keys()]).toEqual(expect.arrayContaining(WAYPOINT_FAMILIES));

    // Bot Framework endpoint: 4 turns as the Emulator, 1 from a channel nobody knows, and a typing indicator (not a turn).
    await post({ type: 'conversationUpdate', membersAdded: [{ id: CANARY.userId }] });
    await post({ text: CANARY.text });
    await post({ type: 'typing' });
    await post({ channelId: CANARY.channelId, text: CANARY.text });
    await post({ conversation: { id: `${CANARY.conversationId}-2` }, text: 'Yes, continue' });
    // Replies to this one cannot be delivered: the turn fails and is counted as failed.
    await post({ conversation: { id: `${CANARY.conversationId}-3` }, serviceUrl: `${connector.serviceUrl}/${CANARY.serviceUrlPath}`, text: CANARY.text });

    // Direct Line: the welcome turn when the conversation starts, then 2 messages.
    const started = await rig.call('POST', '/v3/directline/conversations', {
      token: SECRET,
      json: { user: { id: CANARY.directLineUser }, locale: CANARY.directLineLocale },
    });
    expect(started.status).toBe(201);
    const conversation = started.json as { conversationId: string; token: string };
    expect((await rig.say(conversation, CANARY.text, { from: { id: CANARY.directLineUser }, locale: CANARY.directLineLocale })).status).toBe(200);
    expect((await rig.say(conversation, 'Yes, continue')).status).toBe(200);

    const after = await scrape(rig.url);
    expect(turns(after, 'emulator') - turns(before, 'emulator')).toBe(4);
    expect(turns(after, 'other') - turns(before, 'other')).toBe(1);
    expect(turns(after, 'directline') - turns(before, 'directline')).toBe(3);
    expect(timedTurns(after, 'emulator') - timedTurns(before, 'emulator')).toBe(4);
    expect(timedTurns(after, 'directline') - timedTurns(before, 'directline')).toBe(3);
    expect(errors(after, 'TURN_FAILED') - errors(before, 'TURN_FAILED')).toBe(1);
    expect(valueOf(after, 'waypoint_turn_duration_seconds_sum', { channel: 'directline' })).toBeGreaterThan(0);
    expect(valueOf(after, 'waypoint_active_conversations', { channel: 'emulator' })).toBe(3);
    expect(valueOf(after, 'waypoint_active_conversations', { channel: 'other' })).toBe(1);
    expect(valueOf(after, 'waypoint_active_conversations', { channel: 'directline' })).toBe(1);
    expect(valueOf(after, 'waypoint_directline_conversations_open')).toBe(1);
    expect(valueOf(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

    expectOnlyAllowedLabels(after);
    const lower = after.text.toLowerCase();
    for (const mark of CANARY_MARKS) expect(lower).not.toContain(mark);
  });

  it('counts error answers by their code from the catalogue, and nothing else', async () => {
    const before = await scrape(rig.url);
    expect((await fetch(`${rig.url}/nothing-here`)).status).toBe(404);
    const broken = await fetch(`${rig.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"text": "${CANARY.text}` });
    expect(broken.status).toBe(400);
    expect(errorCode(await rig.call('GET', `/v3/directline/conversations/${CANARY.conversationId}/activities`))).toBe('AUTH_MISSING');
    const after = await scrape(rig.url);

    const increased = after.samples
      .filter((s) => s.name === 'waypoint_errors_total' && s.value !== errors(before, s.labels.code!))
      .map((s) => [s.labels.code, s.value - errors(before, s.labels.code!)]);
    expect(Object.fromEntries(increased)).toEqual({ NOT_FOUND: 1, BAD_JSON: 1, AUTH_MISSING: 1 });
    // Every code is there from zero, so an alert on its rate sees the first one.
    expect(after.samples.filter((s) => s.name === 'waypoint_errors_total').length).toBe(Object.keys(HTTP_ERRORS).length + 1);
    expectOnlyAllowedLabels(after);
  });

  it('counts privacy-guard refusals without saying what was refused', async () => {
    const before = await scrape(rig.url);
    const typed = FreeText.of(CANARY.text);
    await expect(
      runInTurnScope(typed, () => rig.running.runtime.storage.write({ 'canary-key-d94a': { note: CANARY.text } })),
    ).rejects.toThrow();
    const after = await scrape(rig.url);
    expect(valueOf(after, 'waypoint_privacy_guard_rejections_total') - valueOf(before, 'waypoint_privacy_guard_rejections_total')).toBe(1);
    expect(after.text).not.toContain('d94a');
  });

  it('forgets a conversation as active after 15 quiet minutes', async () => {
    await post({ conversation: { id: `${CANARY.conversationId}-4` }, text: 'Yes, continue' });
    const now = await scrape(rig.url);
    expect(valueOf(now, 'waypoint_active_conversations', { channel: 'emulator' })).toBeGreaterThanOrEqual(1);
    rig.clock.advance(15 * 60_000 + 1);
    const later = await scrape(rig.url);
    expect(valueOf(later, 'waypoint_active_conversations', { channel: 'emulator' })).toBe(0);
    expect(later.samples.filter((s) => s.name === 'waypoint_active_conversations')).toEqual([]);
  });

  it('refuses a request that a proxy on this machine passed on, when no token is set', async () => {
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
      const res = await fetch(`${rig.url}/metrics`, { headers: { [header]: header === 'forwarded' ? 'for=127.0.0.1' : '127.0.0.1' } });
      expect(res.status).toBe(403);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('METRICS_LOOPBACK_ONLY');
      expect(body.error.message).toMatch(/METRICS_TOKEN/);
    }
  });
});

describe('GET /metrics with METRICS_TOKEN set', () => {
  const TOKEN = 'metrics-token-0f1e2d3c4b5a69788796';
  let dataDir: string;
  let running: Awaited<ReturnType<typeof startWaypoint>>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-metrics-'));
    running = await startWaypoint(testConfig(dataDir, { METRICS_TOKEN: TOKEN }), captureLog().log);
  });
  afterAll(async () => {
    await running?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['no Authorization header', undefined],
    ['a wrong token of the same length', `Bearer ${TOKEN.slice(0, -1)}x`],
    ['a wrong token of another length', 'Bearer short'],
    ['the token without "Bearer"', TOKEN],
    ['the token as Basic credentials', `Basic ${TOKEN}`],
  ])('answers 401 with a reason to %s', async (_name, authorization) => {
    const res = await fetch(`${running.url}/metrics`, { headers: authorization ? { authorization } : {} });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('METRICS_TOKEN_INVALID');
    expect(body.error.message).toMatch(/Authorization: Bearer/);
    expect(JSON.stringify(body)).not.toContain(TOKEN);
  });

  it('refuses to start with a token too short to be secret, without quoting it', () => {
    expect(() => testConfig(dataDir, { METRICS_TOKEN: 'short-b1a2' })).toThrow(/METRICS_TOKEN: must be 16 to 256 printable characters/);
    expect(() => testConfig(dataDir, { METRICS_TOKEN: 'short-b1a2' })).not.toThrow(/b1a2/);
  });

  it('answers the scraper that sends the token, and counts the refusals before it', async () => {
    const exposition = await scrape(running.url, { authorization: `Bearer ${TOKEN}` });
    expect(errors(exposition, 'METRICS_TOKEN_INVALID')).toBe(5);
    // Its own registry: the turns the Waypoint above ran in this same process are not here.
    expect(exposition.samples.filter((s) => s.name === 'waypoint_turns_total')).toEqual([]);
    expectOnlyAllowedLabels(exposition);
  });
});

/** An address of this machine that is not loopback, if it has one (CI containers usually do). */
const outsideAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && !i.internal && i.family === 'IPv4')?.address;

describe('GET /metrics without a token, by where the request comes from', () => {
  async function statusFrom(host: string): Promise<{ status: number; code?: string }> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-metrics-peer-'));
    const running = await startWaypoint(testConfig(dataDir, { HOST: host }), captureLog().log);
    try {
      const res = await fetch(`${running.url}/metrics`);
      const body = res.status === 200 ? undefined : ((await res.json()) as { error: { code: string } });
      return { status: res.status, code: body?.error.code };
    } finally {
      await running.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }

  (outsideAddress ? it : it.skip)(`refuses a peer that is not loopback (${outsideAddress ?? 'this machine has no such address'})`, async () => {
    expect(await statusFrom(outsideAddress!)).toEqual({ status: 403, code: 'METRICS_LOOPBACK_ONLY' });
  });

  it('answers loopback over IPv4, IPv6 and IPv4-mapped IPv6', async () => {
    expect(await statusFrom('127.0.0.1')).toEqual({ status: 200, code: undefined });
    expect(await statusFrom('::1')).toEqual({ status: 200, code: undefined });
    expect(await statusFrom('::ffff:127.0.0.1')).toEqual({ status: 200, code: undefined });
  });
});

describe("GET /metrics reads the counsellors' desk", () => {
  let rig: Rig;
  afterAll(async () => {
    await rig?.close();
  });

  it('shows counsellors online, people waiting and live chats as they change, and no word of the chat', async () => {
    rig = await startRig([{ name: 'Sam', role: 'counsellor' }]);
    const desk = async () => {
      const e = await scrape(rig.running.url);
      return {
        online: valueOf(e, 'waypoint_counsellors_online'),
        waiting: valueOf(e, 'waypoint_handover_queue_length'),
        live: valueOf(e, 'waypoint_handover_live_chats'),
        text: e.text,
      };
    };
    expect(await desk()).toMatchObject({ online: 0, waiting: 0, live: 0 });

    const sam = await rig.counsellor('Sam');
    await sam.next('hello');
    sam.send({ type: 'availability', available: true });
    const person = rig.person(CANARY.conversationId);
    await person.join();
    await person.say('Yes, continue');
    await person.say('talk to a person');
    await person.say('Yes, find me a counsellor');
    const [entry] = await sam.queue((entries) => entries.length === 1);
    expect(await desk()).toMatchObject({ online: 1, waiting: 1, live: 0 });

    sam.send({ type: 'accept', ticket: entry!.ticket });
    await sam.next('chat.opened');
    await person.waitForText(/has joined/);
    await person.post({ type: 'message', text: CANARY.text });
    await sam.next('message');
    const live = await desk();
    expect(live).toMatchObject({ online: 1, waiting: 0, live: 1 });
    for (const mark of CANARY_MARKS) expect(live.text.toLowerCase()).not.toContain(mark);
    expectOnlyAllowedLabels(parsePrometheusText(live.text));
  });
});
