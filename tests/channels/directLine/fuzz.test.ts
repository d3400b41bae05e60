/**
 * Hostile input at every Direct Line door: a seeded, repeatable run of a few hundred malformed
 * requests (broken JSON, bodies over the limit, wrong types in every field, unknown ids, odd
 * watermarks and Authorization headers, wrong content types, naughty strings), then bad stream
 * upgrades and garbage frames. The service must answer each with a calm 4xx in the catalogue's
 * words, never a 5xx or a stack trace, and keep serving people afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Activity } from 'botbuilder';
import WebSocket from 'ws';
import { HTTP_ERRORS, type HttpErrorCode } from '../../../bot/httpErrors.js';
import { REPO_ROOT } from '../../support/botHarness.js';
import { seededRandom } from '../../support/seededRandom.js';
import {
  openStream,
  rawExchange,
  sequenceOf,
  startDirectLineRig,
  upgradeStatus,
  type Answer,
  type StartedConversation,
  type WaypointDirectLine,
} from '../../support/directLineRig.js';

const SECRET = 'a-direct-line-secret-used-only-by-these-tests';
const SEED = 0x5eed_2024;

/** Strings that have broken chat services before: scripts, directions, invisible and enormous text. */
const NAUGHTY = [
  '',
  ' ',
  '\u0000',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '__proto__',
  'constructor',
  '\u202Eevil.exe\u202C',
  'مرحبا، كيف حالك؟',
  'שלום עולם',
  '\u200B\u200C\u200D\u2060\uFEFF',
  'Z\u0337\u0321\u031Ba\u0338\u0348l\u0336g\u0335o\u0337',
  '😀🧒🏽👨‍👩‍👧‍👦🏳️‍🌈',
  '𝕿𝖊𝖘𝖙 𝓽𝓮𝔁𝓽',
  '\uD800 lone surrogate \uDFFF',
  "'; DROP TABLE conversations; --",
  '" OR "1"="1',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  'javascript:alert(document.cookie)',
  '{{constructor.constructor("return process")()}}',
  '${process.exit(1)}',
  '../../../../etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '%E0%A4%A',
  '%00',
  'line one\r\nline two',
  'x'.repeat(10_000),
];

/** Values of every JSON type, to put where another type belongs. */
const WRONG_TYPES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, '', [], {}, [null], { nested: { deeper: [1, 'two'] } }, 'x'.repeat(2000)];

/** Bodies that are not JSON, or not quite. */
const BROKEN_JSON = ['{', '{"type":', '[1, 2', 'nul', '"\\u12"', '{"type": "message"}}', "{'type': 'message'}", '{"type": "message",}', '\uFEFF{}', '\u0000', 'NaN', '{"a": 01}'];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=b',
  'application/vnd.microsoft.activity',
  'application/*',
  '*/*',
  'garbage',
];

/** Authorization header values that are not a usable bearer token. */
const ODD_AUTHORIZATIONS = ['', 'Bearer', 'Bearer ', 'bearer x', 'Basic dXNlcjpwYXNz', 'Bearer a.b', 'Bearer ..', 'Bearer a.b.c', 'Bearer null', `Bearer ${'A'.repeat(4000)}`, 'Bearer \u00e9\u00e8', 'Token x'];

/** Activity fields a client might send, each to get a wrong type. */
const ACTIVITY_FIELDS = ['type', 'text', 'locale', 'name', 'channelData', 'channelData.clientActivityID', 'attachments', 'attachments.0', 'attachments.0.contentType', 'from', 'conversation', 'id', 'value', 'entities', 'suggestedActions'];

interface FuzzRequest {
  readonly label: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
}

let rig: WaypointDirectLine;
beforeAll(async () => {
  rig = await startDirectLineRig({ DIRECT_LINE_SECRET: SECRET, WIDGET_TOKENS_PER_MINUTE: '10000', DIRECT_LINE_BUFFER_ACTIVITIES: '20' });
});
afterAll(() => rig.close());

/** What is wrong with an answer, if anything: a 5xx, a 4xx outside the catalogue, or a trace of our internals. */
function problemsWith(answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`status ${answer.status}`);
  if (/\bat\s+\S+\s+\(|\.(ts|js|mjs|cjs):\d+|\b\w*Error:|node_modules|node:internal/.test(answer.text) || answer.text.includes(REPO_ROOT)) {
    problems.push('internals in the body');
  }
  if (answer.status >= 400) {
    const error = (answer.json as { error?: Record<string, unknown> } | undefined)?.error;
    const code = error?.code as HttpErrorCode | undefined;
    if (!answer.headers.get('content-type')?.startsWith('application/json')) problems.push('not JSON');
    else if (!error || !code || !(code in HTTP_ERRORS)) problems.push(`unknown code ${String(code)}`);
    else {
      if (HTTP_ERRORS[code].status !== answer.status) problems.push(`${code} with status ${answer.status}`);
      if (error.message !== HTTP_ERRORS[code].message) problems.push(`${code} with another message`);
      const extra = Object.keys(error).filter((key) => !['code', 'message', 'detail', 'errorId'].includes(key));
      if (extra.length > 0) problems.push(`extra fields ${extra.join(', ')}`);
    }
  }
  return problems;
}

/** Posts `text` and waits for the bot's first answer after it in the buffer. */
async function expectAnswer(conversation: StartedConversation, text: string): Promise<void> {
  const posted = await rig.say(conversation, text);
  expect(posted.status).toBe(200);
  const after = sequenceOf({ id: (posted.json as { id: string }).id } as Activity);
  await rig.activitiesUntil(conversation, (set) => set.activities.some((activity) => activity.from.role === 'bot' && sequenceOf(activity) > after));
}

/** The kinds of bad input; every endpoint gets every kind, several times over. */
const MUTATIONS = ['malformed JSON', 'huge body', 'wrong type', 'unknown id', 'odd watermark', 'odd authorization', 'wrong content type', 'naughty strings', 'broken encoding'] as const;
const ROUNDS = 4;

/** One door, and the request a well-behaved client would send to it. */
interface Door {
  readonly name: string;
  readonly method: string;
  /** The path for a conversation id (already escaped) and a query string. */
  path(conversationId: string, query: string): string;
  readonly auth: 'token' | 'secret' | 'none';
  /** The body a good client sends; undefined for a GET. */
  template?(): Record<string, unknown>;
  /** Fields of the template that a bad client might fill wrongly. */
  readonly fields: readonly string[];
  readonly contentType?: string;
}

const conversationDoor = (suffix: string) => (id: string, query: string) => `/v3/directline/conversations/${id}${suffix}${query}`;
const DOORS: readonly Door[] = [
  { name: 'tokens/generate', method: 'POST', path: (_id, q) => `/v3/directline/tokens/generate${q}`, auth: 'secret', template: () => ({ user: { id: 'site-user' } }), fields: ['user', 'user.id', 'trustedOrigins'] },
  { name: 'tokens/refresh', method: 'POST', path: (_id, q) => `/v3/directline/tokens/refresh${q}`, auth: 'token', template: () => ({}), fields: ['token'] },
  { name: 'conversations', method: 'POST', path: (_id, q) => `/v3/directline/conversations${q}`, auth: 'token', template: () => ({ user: { id: 'person' }, locale: 'en-GB' }), fields: ['user', 'user.id', 'locale'] },
  { name: 'conversation', method: 'GET', path: conversationDoor(''), auth: 'token', fields: [] },
  { name: 'activities GET', method: 'GET', path: conversationDoor('/activities'), auth: 'token', fields: [] },
  { name: 'activities POST', method: 'POST', path: conversationDoor('/activities'), auth: 'token', template: () => ({ type: 'message', from: { id: 'me' }, text: 'menu', locale: 'en-GB', channelData: { clientActivityID: 'c-1' } }), fields: ACTIVITY_FIELDS },
  { name: 'upload', method: 'POST', path: conversationDoor('/upload?userId=me'), auth: 'token', template: () => ({ file: 'bytes' }), fields: ['file'], contentType: 'multipart/form-data; boundary=b' },
  { name: 'webchat/token', method: 'POST', path: (_id, q) => `/webchat/token${q}`, auth: 'none', template: () => ({ locale: 'en-GB' }), fields: ['locale'] },
];

/**
 * The request generator: every door gets every kind of bad input ROUNDS times (so a kind can
 * never be missed by chance), with the details drawn from one seeded sequence.
 */
function hostileRequests(random: () => number, doors: { own: StartedConversation; other: StartedConversation }): FuzzRequest[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const naughty = () => pick(NAUGHTY);
  /** Ids a client could put in the path: a broken %-escape, traversal, enormous, or naughty (escaped or raw). */
  const oddIds = () => ['%E0%A4%A', '..%2F..%2Fetc%2Fpasswd', 'x'.repeat(3000), percentEncoded(naughty()), naughty().replace(/[\s/?#\\%]/g, '_') || '_'];
  const oddWatermarks = ['-1', '-0', '1.0', '0x10', '99999999999999999999', '%201', 'abc', '%00', ''];
  const requests: FuzzRequest[] = [];

  for (const door of DOORS) {
    for (const mutation of MUTATIONS) {
      for (let round = 0; round < ROUNDS; round++) {
        let conversationId = encodeURIComponent(doors.own.conversationId);
        let query = '';
        const headers: Record<string, string> = {};
        if (door.auth === 'token') headers.authorization = `Bearer ${doors.own.token}`;
        if (door.auth === 'secret') headers.authorization = `Bearer ${SECRET}`;
        const body = door.template?.();
        let rawBody: string | Uint8Array | undefined;
        if (body) headers['content-type'] = door.contentType ?? 'application/json';

        switch (mutation) {
          case 'malformed JSON':
            rawBody = pick(BROKEN_JSON);
            headers['content-type'] = 'application/json';
            break;
          case 'huge body':
            if (body) rawBody = JSON.stringify({ ...body, text: 'y'.repeat(70_000) });
            else query = `?watermark=${'9'.repeat(6000)}`;
            break;
          case 'wrong type':
            if (body && door.fields.length > 0) setPath(body, pick(door.fields), pick(WRONG_TYPES));
            else if (body) rawBody = JSON.stringify(pick(WRONG_TYPES));
            else query = pick(['?watermark[]=1', '?watermark[a]=1', '?watermark=1&watermark=2', '?watermark={}']);
            break;
          case 'unknown id':
            conversationId = oddIds()[round % 5]!;
            if (body) setPath(body, pick(['conversation.id', 'conversationId', 'id']), naughty());
            break;
          case 'odd watermark':
            query = `?watermark=${pick(oddWatermarks)}`;
            break;
          case 'odd authorization': {
            const odd = pick([...ODD_AUTHORIZATIONS, `Bearer ${doors.other.token}`, undefined]);
            if (odd === undefined) delete headers.authorization;
            else headers.authorization = odd;
            break;
          }
          case 'wrong content type':
            headers['content-type'] = pick(CONTENT_TYPES.filter((type) => !type.startsWith('application/json')));
            rawBody ??= JSON.stringify(body ?? {});
            break;
          case 'naughty strings':
            for (const field of door.fields.length > 0 ? door.fields : ['text']) if (body) setPath(body, field, naughty());
            if (!body) query = `?watermark=${percentEncoded(naughty())}&${percentEncoded(naughty())}=${percentEncoded(naughty())}`;
            break;
          case 'broken encoding':
            headers['content-encoding'] = pick(['gzip', 'deflate', 'br', 'compress', 'gzip, deflate']);
            rawBody = round % 2 === 0 ? 'not compressed at all' : gzipSync(JSON.stringify(body ?? {})).subarray(0, 12);
            break;
        }
        const sendsBody = door.method !== 'GET';
        requests.push({
          label: `${door.name} / ${mutation} #${round}`,
          method: door.method,
          path: door.path(conversationId, query),
          headers,
          body: sendsBody ? (rawBody ?? (body ? JSON.stringify(body) : undefined)) : undefined,
        });
      }
    }
  }
  // And the wrong verbs, at every door.
  for (const door of DOORS) {
    for (const method of ['PUT', 'DELETE']) {
      requests.push({ label: `${door.name} / ${method}`, method, path: door.path(encodeURIComponent(doors.own.conversationId), ''), headers: { authorization: `Bearer ${doors.own.token}` } });
    }
  }
  return requests;
}

/** Percent-encodes every byte of the UTF-8 text (a lone surrogate becomes U+FFFD, as a browser would send it). */
function percentEncoded(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((byte) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0')}`)).join('');
}

/** Sets `value` at a dotted path, making objects and lists on the way. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target as Record<string, unknown>;
  for (const [i, key] of keys.slice(0, -1).entries()) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = /^\d+$/.test(keys[i + 1]!) ? [] : {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

describe('hostile requests at every Direct Line door', () => {
  it('answer a few hundred seeded malformed requests with calm 4xx, never a 5xx or a stack trace', async () => {
    const doors = { own: await rig.startConversation(), other: await rig.startConversation() };
    const requests = hostileRequests(seededRandom(SEED), doors);
    expect(requests.length).toBeGreaterThanOrEqual(300);
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    for (const request of requests) {
      const answer = await rig.call(request.method, request.path, { headers: request.headers, body: request.body });
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      for (const problem of problemsWith(answer)) problems.push(`${request.label}: ${problem} (${answer.text.slice(0, 120)})`);
    }
    expect(problems).toEqual([]);
    // The run reached past the front door: turns ran, and every kind of refusal was met.
    expect(statuses.get(200)).toBeGreaterThan(20);
    for (const status of [400, 401, 403, 404, 413, 415]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
  });

  it('still welcomes a person and shows the menu afterwards', async () => {
    const { token } = await rig.widgetToken();
    const client = rig.client({ token, webSocket: true });
    await client.waitForText(rig.messages.consent.question);
    await client.post(rig.messages.consent.agree);
    await client.waitForText(rig.messages.menu.prompt);
  });
});

describe('hostile stream upgrades', () => {
  it('refuses bad tickets, paths and watermarks', async () => {
    const own = await rig.startConversation();
    const other = await rig.startConversation();
    const stream = new URL(own.streamUrl);
    const ticket = stream.searchParams.get('t')!;
    const base = `${stream.protocol}//${stream.host}/v3/directline`;
    const ownPath = `${base}/conversations/${encodeURIComponent(own.conversationId)}/stream`;
    const refused: [string, number][] = [
      [ownPath, 403],
      [`${ownPath}?t=`, 403],
      [`${ownPath}?t=${encodeURIComponent(own.token)}`, 403],
      [`${ownPath}?t=${encodeURIComponent(new URL(other.streamUrl).searchParams.get('t')!)}`, 403],
      [`${ownPath}?t=${ticket.slice(0, -3)}abc`, 403],
      ...NAUGHTY.slice(0, 20).map((text): [string, number] => [`${ownPath}?t=${percentEncoded(text)}`, 403]),
      ...['-1', 'abc', '1.5', '1e3', '99999999999999999999', '%00'].map((w): [string, number] => [`${ownPath}?t=${ticket}&watermark=${w}`, 400]),
      [`${base}/conversations/%E0%A4%A/stream?t=${ticket}`, 403],
      [`${base}/conversations/${encodeURIComponent(other.conversationId)}/stream?t=${ticket}`, 403],
      [`${base}/conversations/${encodeURIComponent(own.conversationId)}/stream/more?t=${ticket}`, 404],
      [`${base}/conversations//stream?t=${ticket}`, 404],
      [`${base}/stream?t=${ticket}`, 404],
      [`${base}/conversations/${encodeURIComponent(own.conversationId)}/STREAM?t=${ticket}`, 404],
    ];
    const statuses = await Promise.all(refused.map(([url]) => upgradeStatus(url)));
    expect(statuses.map((status, i) => [refused[i]![0].slice(base.length), status])).toEqual(refused.map(([url, status]) => [url.slice(base.length), status]));
    expect(await upgradeStatus(own.streamUrl)).toBe(101);
  });

  it('keeps the conversation going whatever garbage a client sends on its stream', async () => {
    const conversation = await rig.startConversation();
    expect((await rig.say(conversation, rig.messages.consent.agree)).status).toBe(200);
    const garbage: ((socket: WebSocket) => void)[] = [
      (socket) => socket.send('x'.repeat(5000)),
      (socket) => socket.send(Buffer.from([0xff, 0xfe, 0x00, 0x01]), { binary: false }),
      (socket) => socket.send(Buffer.from([0, 1, 2, 3, 255])),
      (socket) => socket.send(JSON.stringify({ type: 'message', text: 'sent over the stream' })),
      (socket) => NAUGHTY.slice(0, 12).forEach((text) => socket.send(text)),
      (socket) => (socket as unknown as { _socket: { write(data: Buffer): void } })._socket.write(Buffer.from('GARBAGE NOT A FRAME\r\n\r\n')),
    ];
    for (const send of garbage) {
      const stream = await openStream(conversation.streamUrl);
      send(stream.socket);
      // Whatever the stream did with it (ignored it, or closed this one socket), the conversation answers.
      await expectAnswer(conversation, 'menu');
      stream.socket.terminate();
    }
    const fresh = await openStream(conversation.streamUrl);
    const { id } = (await rig.say(conversation, 'menu')).json as { id: string };
    await fresh.waitFor((activity) => activity.from.role === 'bot' && sequenceOf(activity) > sequenceOf({ id } as Activity));
    fresh.socket.close();
    const { activities } = await rig.activities(conversation);
    expect(activities.map((activity) => activity.text)).not.toContain('sent over the stream');
  });

  it('answers upgrade requests whose address cannot be parsed or that nobody serves, and still serves streams', async () => {
    // The whole server, console included: one bad upgrade used to stop the process.
    const bare = await startDirectLineRig();
    try {
      const upgrade = (target: string) =>
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
      const broken = await rawExchange(bare.port, upgrade('/v3/directline/conversations/%E0%A4%A/stream?t=%'));
      expect(broken.answer).toMatch(/^HTTP\/1\.1 403 /);
      const unparsable = await rawExchange(bare.port, upgrade('http://[bad/v3/directline/conversations/x/stream'));
      expect(unparsable.answer).toMatch(/^HTTP\/1\.1 400 /);
      for (const unclaimed of ['/nothing', '/console/wss', '/v3/directline/nothing']) {
        const answer = await rawExchange(bare.port, upgrade(unclaimed));
        expect(answer.answer).toMatch(/^HTTP\/1\.1 404 /);
        expect(answer.closedByServer).toBe(true);
      }
      expect((await rawExchange(bare.port, upgrade('/console/ws'))).answer).toMatch(/^HTTP\/1\.1 401 /);
      // Clients that hang up before the refusal is written must not take the server down with them.
      for (let i = 0; i < 20; i++) {
        const socket = net.connect(bare.port, '127.0.0.1', () => socket.end(upgrade('/v3/directline/nothing'), () => socket.resetAndDestroy()));
        socket.on('error', () => {});
        await once(socket, 'close');
      }

      const conversation = await bare.startConversation();
      expect(await upgradeStatus(conversation.streamUrl)).toBe(101);
    } finally {
      await bare.close();
    }
  });
});
