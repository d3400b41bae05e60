/**
 * Who may read and write a Direct Line conversation, and for how long: tokens are scoped to one
 * conversation and expire, ended conversations stay gone, files are refused unread, and the
 * delivery buffer stays small and short-lived.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ActivityTypes, type TurnContext } from 'botbuilder';
import {
  bubbles,
  errorCode,
  openStream,
  sequenceOf,
  startBareDirectLine,
  startDirectLineRig,
  upgradeStatus,
  type Answer,
  type StartedConversation,
  type WaypointDirectLine,
} from '../../support/directLineRig.js';
import { ConnectionStatus } from '../../support/directLineClient.js';

const SECRET = 'a-direct-line-secret-used-only-by-these-tests';
const TOKEN_MINUTES = 20;
const BUFFER_ACTIVITIES = 5;
const WIDGET_TOKENS_PER_MINUTE = 40;
const MINUTE = 60_000;

let rig: WaypointDirectLine;
beforeAll(async () => {
  rig = await startDirectLineRig({
    DIRECT_LINE_SECRET: SECRET,
    DIRECT_LINE_TOKEN_MINUTES: String(TOKEN_MINUTES),
    DIRECT_LINE_BUFFER_ACTIVITIES: String(BUFFER_ACTIVITIES),
    DIRECT_LINE_BUFFER_MINUTES: '1',
    WIDGET_TOKENS_PER_MINUTE: String(WIDGET_TOKENS_PER_MINUTE),
  });
});
afterAll(() => rig.close());

const path = (conversationId: string, suffix = '') => `/v3/directline/conversations/${encodeURIComponent(conversationId)}${suffix}`;
const codeOf = (answer: Answer) => [answer.status, errorCode(answer)];

/** Every way in to one conversation, as the holder of `token` would try it. */
function everyDoorOf(conversationId: string, token: string): Promise<Answer>[] {
  return [
    rig.call('GET', path(conversationId), { token }),
    rig.call('GET', path(conversationId, '/activities?watermark=0'), { token }),
    rig.call('POST', path(conversationId, '/activities'), { token, json: { type: 'message', text: 'hello from elsewhere' } }),
    rig.call('POST', path(conversationId, '/upload?userId=me'), { token, body: multipart('a file'), headers: { 'content-type': MULTIPART } }),
  ];
}

/** A stream URL with its ticket swapped for another conversation's. */
function withTicketOf(streamUrl: string, ticketSource: string): string {
  const url = new URL(streamUrl);
  url.searchParams.set('t', new URL(ticketSource).searchParams.get('t')!);
  return url.toString();
}

describe('a token opens only its own conversation', () => {
  it("refuses A's token on all of B's doors and its stream, and nothing of B leaks", async () => {
    const a = await rig.startConversation();
    const b = await rig.startConversation();
    const canary = 'canary-of-b-5f1e2d';
    expect((await rig.say(b, canary)).status).toBe(200);
    const before = await rig.activitiesUntil(b, (set) => set.activities.some((activity) => activity.text === canary));
    const bUserId = before.activities.find((activity) => activity.text === canary)!.from.id;

    const answers = await Promise.all(everyDoorOf(b.conversationId, a.token));
    for (const answer of answers) {
      expect(codeOf(answer)).toEqual([403, 'CONVERSATION_FORBIDDEN']);
      for (const secret of [canary, b.token, bUserId, new URL(b.streamUrl).searchParams.get('t')!]) expect(answer.text).not.toContain(secret);
    }
    expect(await upgradeStatus(withTicketOf(b.streamUrl, a.streamUrl))).toBe(403);
    expect(await upgradeStatus(b.streamUrl)).toBe(101);

    const after = await rig.activities(b);
    expect(after.watermark).toBe(before.watermark);
    expect(JSON.stringify(after)).not.toContain('hello from elsewhere');
  });

  it('does not take a stream ticket as a token', async () => {
    const a = await rig.startConversation();
    const ticket = new URL(a.streamUrl).searchParams.get('t')!;
    expect(codeOf(await rig.call('GET', path(a.conversationId, '/activities'), { token: ticket }))).toEqual([403, 'TOKEN_INVALID']);
  });

  it('refuses a token that was tampered with, forged or garbled', async () => {
    const a = await rig.startConversation();
    const b = await rig.startConversation();
    const [payload, signature] = a.token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const reSigned = (changed: Record<string, unknown>) => `${Buffer.from(JSON.stringify({ ...claims, ...changed })).toString('base64url')}.${signature}`;
    const flipped = signature.slice(0, 5) + (signature[5] === 'A' ? 'Q' : 'A') + signature.slice(6);

    for (const token of [`${payload}.${flipped}`, reSigned({ c: b.conversationId }), reSigned({ e: 9_999_999_999 }), `${a.token}.extra`, 'not-a-token', `${payload}.`]) {
      expect(codeOf(await rig.call('GET', path(b.conversationId, '/activities'), { token }))).toEqual([403, 'TOKEN_INVALID']);
    }
    for (const authorization of ['', 'Bearer', 'Bearer ', `Basic ${a.token}`, `Bearer ${a.token} more`]) {
      const answer = await rig.call('GET', path(a.conversationId, '/activities'), { headers: { authorization } });
      expect(codeOf(answer)).toEqual([401, 'AUTH_MISSING']);
    }
  });

  it('answers 404 for a conversation that was never started or does not exist', async () => {
    const { conversationId, token } = await rig.widgetToken();
    for (const answer of await Promise.all(everyDoorOf(conversationId, token))) expect(codeOf(answer)).toEqual([404, 'CONVERSATION_NOT_FOUND']);
    expect(codeOf(await rig.call('GET', path('no-such-conversation'), { token: SECRET }))).toEqual([404, 'CONVERSATION_NOT_FOUND']);
  });
});

describe('an expired token', () => {
  it('is refused everywhere, refresh and stream included', async () => {
    const conversation = await rig.startConversation();
    rig.clock.advance(TOKEN_MINUTES * MINUTE + 1000);

    for (const answer of await Promise.all(everyDoorOf(conversation.conversationId, conversation.token))) {
      expect(codeOf(answer)).toEqual([403, 'TOKEN_EXPIRED']);
    }
    expect(codeOf(await rig.call('POST', '/v3/directline/tokens/refresh', { token: conversation.token }))).toEqual([403, 'TOKEN_EXPIRED']);
    expect(codeOf(await rig.call('POST', '/v3/directline/conversations', { token: conversation.token }))).toEqual([403, 'TOKEN_EXPIRED']);
    expect(await upgradeStatus(conversation.streamUrl)).toBe(403);

    const fresh = await rig.startConversation();
    expect((await rig.activities(fresh)).activities.length).toBeGreaterThan(0);
  });
});

describe('a conversation the person ends', () => {
  it('is gone: its stream closes, and every door, refresh and restart answer 404', async () => {
    const conversation = await rig.startConversation();
    const stream = await openStream(conversation.streamUrl);
    await stream.waitFor((activity) => activity.text === rig.messages.consent.question);

    const ended = await rig.call('POST', path(conversation.conversationId, '/activities'), { token: conversation.token, json: { type: 'endOfConversation' } });
    expect(ended.status).toBe(200);
    expect(await stream.closed).toBe(1000);
    expect(rig.running.directLine.conversations.get(conversation.conversationId)).toBeUndefined();

    const doors = await Promise.all([
      ...everyDoorOf(conversation.conversationId, conversation.token),
      rig.call('POST', '/v3/directline/tokens/refresh', { token: conversation.token }),
      rig.call('POST', '/v3/directline/conversations', { token: conversation.token }),
    ]);
    for (const answer of doors) expect(codeOf(answer)).toEqual([404, 'CONVERSATION_NOT_FOUND']);
    expect(await upgradeStatus(conversation.streamUrl)).toBe(404);
  });

  it('is seen as ended by a polling client of the real library, ended from another tab', async () => {
    const { token, conversationId } = await rig.widgetToken();
    const client = rig.client({ token, webSocket: false });
    await client.waitForText(rig.messages.consent.question);

    const ended = await rig.call('POST', path(conversationId, '/activities'), { token, json: { type: 'endOfConversation' } });
    expect(ended.status).toBe(200);
    await client.waitForStatus(ConnectionStatus.Ended);
    await until(() => client.failure !== undefined);
    expect(String(client.failure)).toMatch(/conversation ended/);
  });
});

describe('files', () => {
  it('refuses an upload with 415 and never echoes the file', async () => {
    const conversation = await rig.startConversation();
    const canary = 'file-bytes-canary-93ab17';
    const answer = await rig.call('POST', path(conversation.conversationId, '/upload?userId=me'), {
      token: conversation.token,
      body: multipart(canary),
      headers: { 'content-type': MULTIPART },
    });
    expect(codeOf(answer)).toEqual([415, 'FILES_NOT_ACCEPTED']);
    expect(answer.text).not.toContain(canary);
    expect(JSON.stringify(await rig.activities(conversation))).not.toContain(canary);
    expect(rig.logText()).not.toContain(canary);
  });

  it("answers a photo sent as an attachment with the media refusal, and never repeats the photo's address", async () => {
    const conversation = await rig.startConversation();
    const photos = [
      { contentType: 'image/jpeg', contentUrl: 'https://images.example/photo-canary-7c1d.jpg', name: 'photo-canary-7c1d.jpg' },
      { contentType: 'image/png', contentUrl: 'data:image/png;base64,cGhvdG8tY2FuYXJ5LTdjMWQ=', thumbnailUrl: 'blob:photo-canary-7c1d' },
    ];
    const refusal = bubbles(rig.messages.media.refused);
    expect((await rig.say(conversation, undefined, { attachments: photos })).status).toBe(200);
    const { activities } = await rig.activitiesUntil(conversation, (set) => set.activities.some((activity) => activity.text === refusal.at(-1)));
    expect(activities.map((activity) => activity.text)).toEqual(expect.arrayContaining(refusal));
    expect(JSON.stringify(activities)).not.toMatch(/photo-canary-7c1d|cGhvdG8tY2FuYXJ5LTdjMWQ/);
    expect(rig.logText()).not.toMatch(/photo-canary-7c1d|cGhvdG8tY2FuYXJ5LTdjMWQ/);
  });
});

describe("a client's events", () => {
  it('acknowledges them but never runs them as turns: a person cannot pose as the contact centre', async () => {
    const seen: string[] = [];
    const bare = await startBareDirectLine({ bot: { run: async (context) => void seen.push(context.activity.type) } });
    try {
      const conversation = await bare.startConversation();
      const answer = await bare.call('POST', path(conversation.conversationId, '/activities'), {
        token: conversation.token,
        json: { type: 'event', name: 'handoff.status', value: { state: 'completed' } },
      });
      expect(answer.status).toBe(200);
      expect((await bare.say(conversation, 'hello')).status).toBe(200);
      expect(seen).toEqual(['conversationUpdate', 'message']);
      const { activities } = await bare.activities(conversation);
      expect(activities.find((activity) => activity.type === 'event')).toMatchObject({ name: 'handoff.status' });
      expect(JSON.stringify(activities)).not.toContain('completed');
    } finally {
      await bare.close();
    }
  });
});

describe('the delivery buffer', () => {
  it(`holds at most DIRECT_LINE_BUFFER_ACTIVITIES (${BUFFER_ACTIVITIES}), the latest`, async () => {
    const conversation = await rig.startConversation();
    expect((await rig.say(conversation, rig.messages.consent.agree)).status).toBe(200);
    const latest = await rig.activitiesUntil(conversation, (set) => set.activities.some((activity) => activity.text === rig.messages.menu.prompt));

    expect(Number(latest.watermark)).toBeGreaterThan(2 * BUFFER_ACTIVITIES);
    for (const watermark of [undefined, '0']) {
      const { activities } = await rig.activities(conversation, watermark);
      expect(activities).toHaveLength(BUFFER_ACTIVITIES);
      expect(activities.map(sequenceOf)).toEqual([0, 1, 2, 3, 4].map((i) => Number(latest.watermark) - 4 + i));
    }
  });

  it('forgets activities older than DIRECT_LINE_BUFFER_MINUTES, keeping the watermark', async () => {
    const conversation = await rig.startConversation();
    const before = await rig.activities(conversation);
    expect(before.activities.length).toBeGreaterThan(0);
    rig.clock.advance(MINUTE + 1000);

    expect(await rig.activities(conversation)).toEqual({ activities: [], watermark: before.watermark });
    expect((await rig.say(conversation, rig.messages.consent.agree)).status).toBe(200);
    const after = await rig.activities(conversation, '0');
    expect(after.activities.length).toBeGreaterThan(0);
    expect(after.activities.every((activity) => sequenceOf(activity) > Number(before.watermark))).toBe(true);
  });
});

describe('POST /webchat/token', () => {
  it('answers 429 with Retry-After once a client has had WIDGET_TOKENS_PER_MINUTE tokens in a minute', async () => {
    rig.clock.advance(MINUTE);
    try {
      const answers = await Promise.all(Array.from({ length: WIDGET_TOKENS_PER_MINUTE }, () => rig.call('POST', '/webchat/token')));
      expect(answers.map((answer) => answer.status)).toEqual(Array(WIDGET_TOKENS_PER_MINUTE).fill(200));

      const refused = await rig.call('POST', '/webchat/token');
      expect(codeOf(refused)).toEqual([429, 'RATE_LIMITED']);
      expect(refused.headers.get('retry-after')).toBe('60');
      rig.clock.advance(45_000);
      expect((await rig.call('POST', '/webchat/token')).headers.get('retry-after')).toBe('15');
      rig.clock.advance(15_000);
      expect((await rig.call('POST', '/webchat/token')).status).toBe(200);
    } finally {
      rig.clock.advance(MINUTE);
    }
  });
});

describe('the idle sweep', () => {
  it('ends a conversation nobody touched for the idle time, tells the bot, and spares open streams', async () => {
    const ended: string[] = [];
    const bot = {
      async run(context: TurnContext) {
        if (context.activity.type === ActivityTypes.EndOfConversation) ended.push(context.activity.conversation.id);
      },
    };
    // 4 s of idle time makes the sweep run every (real) second; the clock says when 4 s have passed.
    const bare = await startBareDirectLine({ bot, settings: { idleMs: 4000 }, keepAliveMs: 60_000 });
    try {
      const [idle, streaming, recent] = [await bare.startConversation(), await bare.startConversation(), await bare.startConversation()];
      const stream = await openStream(streaming.streamUrl);
      bare.clock.advance(5000);
      // Touched in the same tick as the clock moved, so no sweep can come between.
      bare.channel.conversations.get(recent.conversationId)!.touch();

      await until(() => bare.channel.conversations.get(idle.conversationId) === undefined);
      expect(ended).toEqual([idle.conversationId]);
      expect(codeOf(await bare.call('GET', path(idle.conversationId, '/activities'), { token: idle.token }))).toEqual([404, 'CONVERSATION_NOT_FOUND']);
      for (const alive of [streaming, recent] satisfies StartedConversation[]) expect(bare.channel.conversations.get(alive.conversationId)).toBeDefined();
      stream.socket.close();
    } finally {
      await bare.close();
    }
  });
});

const MULTIPART = 'multipart/form-data; boundary=waypoint-test-boundary';

function multipart(fileText: string): string {
  return [
    '--waypoint-test-boundary',
    'Content-Disposition: form-data; name="file"; filename="picture.png"',
    'Content-Type: image/png',
    '',
    fileText,
    '--waypoint-test-boundary--',
    '',
  ].join('\r\n');
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the condition never held');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
