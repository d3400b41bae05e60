/**
 * Our Direct Line 3.0 service as Web Chat meets it: the real client library
 * (botframework-directlinejs) over WebSocket and over polling, plus the token calls a site's
 * own server makes with its secret.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  bubbles,
  errorCode,
  openStream,
  sequenceOf,
  startDirectLineRig,
  type WaypointDirectLine,
} from '../../support/directLineRig.js';
import type { DirectLineClient } from '../../support/directLineClient.js';

const SECRET = 'a-direct-line-secret-used-only-by-these-tests';
const MINUTE = 60_000;

let rig: WaypointDirectLine;
beforeAll(async () => {
  rig = await startDirectLineRig({ DIRECT_LINE_SECRET: SECRET, DIRECT_LINE_TOKEN_MINUTES: '30', WIDGET_TOKENS_PER_MINUTE: '1000' });
});
afterAll(() => rig.close());

const botMessages = (client: DirectLineClient) => client.received.filter((a) => a.type === 'message' && a.from?.role === 'bot').map((a) => a.text);
const conversationPath = (conversationId: string) => `/v3/directline/conversations/${encodeURIComponent(conversationId)}`;

describe.each([
  ['WebSocket', true],
  ['polling', false],
])('Direct Line with the real client library over %s', (_transport, webSocket) => {
  it('welcomes the person, asks for consent, and shows the menu after "Yes, continue"', async () => {
    const { welcome, consent, menu } = rig.messages;
    const { token, conversationId } = await rig.widgetToken();
    const client = rig.client({ token, webSocket });

    await client.waitForText(consent.question);
    expect(botMessages(client)).toEqual([...bubbles(welcome), ...bubbles(consent.text), consent.question]);
    expect(client.received.every((activity) => activity.conversation?.id === conversationId)).toBe(true);

    await client.post(consent.agree);
    const prompt = await client.waitForText(menu.prompt);
    expect(prompt.suggestedActions?.actions.map((action) => action.title)).toContain(menu.myPlan);
  });

  it("echoes the person's own message back with its id and the same clientActivityID", async () => {
    const { token, conversationId } = await rig.widgetToken();
    const client = rig.client({ token, webSocket });
    await client.waitForText(rig.messages.consent.question);

    const id = await client.post(rig.messages.consent.agree, 'web-chat-activity-1');
    const echo = await client.waitForEcho('web-chat-activity-1');
    expect(id).toMatch(new RegExp(`^${escape(conversationId)}\\|\\d+$`));
    expect(echo).toMatchObject({ id, type: 'message', text: rig.messages.consent.agree, from: { role: 'user' } });
    expect(echo.serviceUrl).toBeUndefined();
    // The echo comes before the answer, so Web Chat shows the message as sent before the reply.
    await client.waitForText(rig.messages.menu.prompt);
    const order = client.received.map((activity) => activity.id);
    expect(order.indexOf(id)).toBeLessThan(order.indexOf(client.received.find((a) => a.text === rig.messages.menu.prompt)!.id));
  });

  it('sends a client that reconnects with a watermark only what came after it', async () => {
    const { consent, menu } = rig.messages;
    const { token, conversationId } = await rig.widgetToken();
    const first = rig.client({ token, webSocket });
    const question = await first.waitForText(consent.question);
    await waitUntil(() => first.watermark === String(sequenceOf(question)));
    const watermark = first.watermark;
    first.end();

    // The person answers from another tab while this one is away.
    expect((await rig.say({ conversationId, token }, consent.agree)).status).toBe(200);
    const second = rig.client({ token, conversationId, watermark, webSocket });
    await second.waitForText(menu.prompt);

    const delivered = second.received.filter((activity) => activity.type !== 'typing');
    expect(delivered.length).toBeGreaterThan(1);
    expect(delivered.every((activity) => sequenceOf(activity) > Number(watermark))).toBe(true);
    expect(delivered[0]).toMatchObject({ text: consent.agree, from: { role: 'user' } });
    expect(delivered.map((activity) => activity.text)).not.toContain(consent.question);
  });
});

describe('GET /v3/directline/conversations/{id}?watermark=N', () => {
  it('hands out a new stream URL for this conversation that resumes after N', async () => {
    const conversation = await rig.startConversation();
    const { activities } = await rig.activities(conversation);
    expect(activities.length).toBeGreaterThan(3);
    const n = sequenceOf(activities[2]!);

    const answer = await rig.call('GET', `${conversationPath(conversation.conversationId)}?watermark=${n}`, { token: conversation.token });
    expect(answer.status).toBe(200);
    const json = answer.json as { conversationId: string; token: string; expires_in: number; streamUrl: string };
    expect(json.conversationId).toBe(conversation.conversationId);
    expect(json.token).toBe(conversation.token);
    const streamUrl = new URL(json.streamUrl);
    expect(`${streamUrl.protocol}//${streamUrl.host}`).toBe(rig.url.replace(/^http/, 'ws'));
    expect(streamUrl.pathname).toBe(`${conversationPath(conversation.conversationId)}/stream`);
    expect(streamUrl.searchParams.get('watermark')).toBe(String(n));
    expect(streamUrl.searchParams.get('t')).not.toBe(conversation.token);

    const stream = await openStream(json.streamUrl);
    try {
      await stream.waitFor((activity) => activity.id === activities.at(-1)!.id);
      expect(stream.groups[0]!.activities.map(sequenceOf)).toEqual(activities.slice(3).map(sequenceOf));
      expect(stream.groups[0]!.watermark).toBe(String(sequenceOf(activities.at(-1)!)));
    } finally {
      stream.socket.close();
    }
  });

  it('refuses a watermark the service never issued', async () => {
    const conversation = await rig.startConversation();
    for (const watermark of ['-1', 'abc', '1.5', '9'.repeat(16)]) {
      const answer = await rig.call('GET', `${conversationPath(conversation.conversationId)}?watermark=${watermark}`, { token: conversation.token });
      expect([answer.status, errorCode(answer)]).toEqual([400, 'BAD_WATERMARK']);
    }
  });
});

describe('token refresh', () => {
  it('gives a new token that works and expires later, while the old one still expires on time', async () => {
    const conversation = await rig.startConversation();
    expect(conversation.expiresIn).toBe(30 * 60);
    rig.clock.advance(10 * MINUTE);

    const status = await rig.call('GET', conversationPath(conversation.conversationId), { token: conversation.token });
    expect((status.json as { expires_in: number }).expires_in).toBe(20 * 60);
    const refreshed = await rig.call('POST', '/v3/directline/tokens/refresh', { token: conversation.token });
    expect(refreshed.status).toBe(200);
    const fresh = refreshed.json as { conversationId: string; token: string; expires_in: number };
    expect(fresh.conversationId).toBe(conversation.conversationId);
    expect(fresh.token).not.toBe(conversation.token);
    expect(fresh.expires_in).toBe(30 * 60);

    rig.clock.advance(25 * MINUTE);
    const withOld = await rig.call('GET', `${conversationPath(conversation.conversationId)}/activities`, { token: conversation.token });
    expect([withOld.status, errorCode(withOld)]).toEqual([403, 'TOKEN_EXPIRED']);
    const withFresh = await rig.call('GET', `${conversationPath(conversation.conversationId)}/activities`, { token: fresh.token });
    expect(withFresh.status).toBe(200);
    expect((await rig.say({ conversationId: conversation.conversationId, token: fresh.token }, 'menu')).status).toBe(200);
  });

  it("works through the library's own refresh call, as Web Chat makes it", async () => {
    const { token, conversationId } = await rig.widgetToken();
    const client = rig.client({ token, webSocket: false });
    await client.waitForText(rig.messages.consent.question);
    rig.clock.advance(15 * MINUTE);

    const fresh = await client.refreshToken();
    expect(fresh).not.toBe(token);
    rig.clock.advance(20 * MINUTE);
    expect(errorCode(await rig.call('GET', `${conversationPath(conversationId)}/activities`, { token }))).toBe('TOKEN_EXPIRED');
    expect((await rig.call('GET', `${conversationPath(conversationId)}/activities`, { token: fresh })).status).toBe(200);
  });

  it('refuses to refresh the secret', async () => {
    const answer = await rig.call('POST', '/v3/directline/tokens/refresh', { token: SECRET });
    expect([answer.status, errorCode(answer)]).toEqual([400, 'TOKEN_REQUIRED']);
  });
});

describe("the site's secret", () => {
  it('is the only key to POST /tokens/generate', async () => {
    const generated = await rig.call('POST', '/v3/directline/tokens/generate', { token: SECRET });
    expect(generated.status).toBe(200);
    expect(generated.json).toEqual({ conversationId: expect.any(String), token: expect.any(String), expires_in: 30 * 60 });

    const { token } = await rig.widgetToken();
    const byToken = await rig.call('POST', '/v3/directline/tokens/generate', { token });
    expect([byToken.status, errorCode(byToken)]).toEqual([403, 'SECRET_REQUIRED']);
    const anonymous = await rig.call('POST', '/v3/directline/tokens/generate');
    expect([anonymous.status, errorCode(anonymous)]).toEqual([401, 'AUTH_MISSING']);
    const wrongSecret = await rig.call('POST', '/v3/directline/tokens/generate', { token: `${SECRET.slice(0, -1)}X` });
    expect([wrongSecret.status, errorCode(wrongSecret)]).toEqual([403, 'TOKEN_INVALID']);
    expect(JSON.stringify([byToken.json, anonymous.json, wrongSecret.json])).not.toContain(SECRET.slice(0, 12));
  });

  it('generates a token that opens its own conversation, as the site named the user, and no other', async () => {
    const generated = (await rig.call('POST', '/v3/directline/tokens/generate', { token: SECRET, json: { user: { id: 'site-user_42' } } })).json as {
      conversationId: string;
      token: string;
    };
    const client = rig.client({ token: generated.token, webSocket: true });
    await client.waitForText(rig.messages.consent.question);
    expect(client.received[0]!.conversation.id).toBe(generated.conversationId);
    await client.post(rig.messages.consent.agree, 'site-user-echo');
    expect((await client.waitForEcho('site-user-echo')).from.id).toBe('site-user_42');

    const other = await rig.startConversation();
    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/activities'],
    ] as const) {
      const answer = await rig.call(method, `${conversationPath(other.conversationId)}${suffix}`, { token: generated.token });
      expect([answer.status, errorCode(answer)]).toEqual([403, 'CONVERSATION_FORBIDDEN']);
    }
  });

  it('refuses a user id it could not hand back safely', async () => {
    for (const id of ['<script>', 'x'.repeat(65), 42]) {
      const answer = await rig.call('POST', '/v3/directline/tokens/generate', { token: SECRET, json: { user: { id } } });
      expect([answer.status, errorCode(answer)]).toEqual([400, 'BAD_REQUEST']);
    }
  });

  it('starts a conversation when used directly as the bearer, and the library can talk in it', async () => {
    const started = await rig.call('POST', '/v3/directline/conversations', { token: SECRET });
    expect(started.status).toBe(201);
    const json = started.json as { conversationId: string; token: string; streamUrl: string };
    expect(json.token).not.toBe(SECRET);
    expect((await rig.call('GET', `${conversationPath(json.conversationId)}/activities`, { token: json.token })).status).toBe(200);

    const client = rig.client({ secret: SECRET, webSocket: true });
    await client.waitForText(rig.messages.consent.question);
    await client.post(rig.messages.consent.agree);
    await client.waitForText(rig.messages.menu.prompt);
    expect(client.token).toBe(SECRET);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the condition never held');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
