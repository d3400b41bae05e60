import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { WebSocket, WebSocketServer } from 'ws';
import { openStaffAccounts, type StaffAccounts } from '../../bot/handover/staffAccounts.js';
import { createConsoleSessions, type ConsoleSessions } from '../../bot/handover/console/consoleSessions.js';
import {
  authenticateUpgrade,
  consoleAuthRoutes,
  consoleSessionOf,
  requireConsoleSession,
} from '../../bot/handover/console/consoleAuthRoutes.js';

const PASSWORD = 'correct horse battery';
const MINUTE = 60_000;

let dataDir: string;
let accounts: StaffAccounts;
let clock: number;
let sessions: ConsoleSessions;
let server: Server;
let base: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-console-auth-'));
  accounts = openStaffAccounts(dataDir, { scryptCost: 2 ** 10 });
  await accounts.add('Sam', PASSWORD, 'counsellor');
  await accounts.add('Priya', PASSWORD, 'supervisor');
  await accounts.add('Dee', PASSWORD, 'counsellor');
  await accounts.disable('Dee');
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

// Each test gets fresh sessions and lockouts, a clock it controls and a server mounted like the real one.
beforeEach(async () => {
  clock = Date.UTC(2026, 0, 1);
  sessions = createConsoleSessions(accounts, { now: () => clock });
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use('/console/api', consoleAuthRoutes(sessions));
  app.get('/console/api/supervisor-only', requireConsoleSession(sessions, { csrf: false, role: 'supervisor' }), (_req, res) => {
    res.json({ name: consoleSessionOf(res).name });
  });
  app.post('/console/api/change', requireConsoleSession(sessions, { csrf: true }), (_req, res) => {
    res.json({ name: consoleSessionOf(res).name });
  });
  const sockets = new WebSocketServer({ noServer: true });
  server = app.listen(0, '127.0.0.1');
  server.on('upgrade', (req, socket: Duplex, head) => {
    const result = authenticateUpgrade(sessions, req);
    if (!result.ok) {
      socket.end(`HTTP/1.1 ${result.status} ${result.status === 401 ? 'Unauthorized' : 'Forbidden'}\r\nConnection: close\r\n\r\n`);
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => ws.send(JSON.stringify({ type: 'hello', name: result.session.name })));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  sessions.stop();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface SignedIn {
  cookie: string;
  csrfToken: string;
}

function login(name: string, password: string, headers: Record<string, string> = {}) {
  return fetch(`${base}/console/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ name, password }),
  });
}

async function signIn(name = 'Sam'): Promise<SignedIn> {
  const res = await login(name, PASSWORD);
  expect(res.status).toBe(200);
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie, csrfToken };
}

const sessionStatus = async (cookie: string) => (await fetch(`${base}/console/api/session`, { headers: { cookie } })).status;

/** The token with its last character changed: never equal to it (a fixed 'A' would be, one time in 64). */
function tampered(token: string): string {
  return `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const text = await res.text();
  expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
  return (JSON.parse(text) as { error: { code: string; message: string } }).error;
}

describe('POST /console/api/login', () => {
  it('answers with name, role and CSRF token, and sets a HttpOnly, SameSite=Strict cookie for /console', async () => {
    const res = await login('priya', PASSWORD);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({ name: 'Priya', role: 'supervisor', csrfToken: expect.stringMatching(/^[\w-]{43}$/) });
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    const [pair, ...flags] = cookies[0]!.split(/;\s*/);
    expect(pair).toMatch(/^waypoint_console=[\w-]{43}$/);
    expect(pair).not.toContain(body.csrfToken as string);
    expect(flags).toEqual(expect.arrayContaining(['Path=/console', 'HttpOnly', 'SameSite=Strict']));
    expect(flags).not.toContain('Secure');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('marks the cookie Secure when the request came over https', async () => {
    const res = await login('Sam', PASSWORD, { 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()[0]!.split(/;\s*/)).toContain('Secure');
  });

  it('gives the same 401 for a wrong password, an unknown name and a disabled account', async () => {
    const answers = await Promise.all([login('Sam', 'wrong password!!'), login('Nobody', PASSWORD), login('Dee', PASSWORD)]);
    const bodies = await Promise.all(answers.map((res) => res.text()));
    expect(answers.map((res) => res.status)).toEqual([401, 401, 401]);
    expect(new Set(bodies).size).toBe(1);
    expect((JSON.parse(bodies[0]!) as { error: { code: string } }).error.code).toBe('LOGIN_FAILED');
    expect(answers.every((res) => res.headers.getSetCookie().length === 0)).toBe(true);
  });

  it('locks a name for 15 minutes after 5 failures, even for the right password, then lets it in', async () => {
    for (let i = 0; i < 5; i++) expect((await login('SAM', `wrong password ${i}`)).status).toBe(401);
    const locked = await login('Sam', PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('900');
    expect((await errorOf(locked)).code).toBe('LOCKED_OUT');
    // Other names are not affected.
    expect((await login('Priya', PASSWORD)).status).toBe(200);

    clock += 10 * MINUTE;
    const stillLocked = await login('Sam', PASSWORD);
    expect(stillLocked.status).toBe(429);
    expect(stillLocked.headers.get('retry-after')).toBe('300');
    clock += 5 * MINUTE;
    expect((await login('Sam', PASSWORD)).status).toBe(200);
  });

  it('counts failures for names that do not exist, so a lockout reveals nothing', async () => {
    for (let i = 0; i < 5; i++) expect((await login('Nobody', PASSWORD)).status).toBe(401);
    expect((await login('Nobody', PASSWORD)).status).toBe(429);
  });

  it('forgets failures older than 15 minutes and resets the count after a success', async () => {
    for (let i = 0; i < 4; i++) await login('Sam', 'wrong password!!');
    clock += 15 * MINUTE;
    for (let i = 0; i < 4; i++) await login('Sam', 'wrong password!!');
    expect((await login('Sam', PASSWORD)).status).toBe(200);
    for (let i = 0; i < 4; i++) await login('Sam', 'wrong password!!');
    expect((await login('Sam', PASSWORD)).status).toBe(200);
  });

  it('does not let parallel guesses slip past the limit', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => login('Sam', `wrong password ${i}`)));
    expect(answers.filter((res) => res.status === 401)).toHaveLength(5);
    expect(answers.filter((res) => res.status === 429)).toHaveLength(7);
  });

  it('refuses a request from another origin, and accepts our own', async () => {
    const foreign = await login('Sam', PASSWORD, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect((await errorOf(foreign)).code).toBe('CSRF_FAILED');
    expect(foreign.headers.getSetCookie()).toHaveLength(0);
    expect((await login('Sam', PASSWORD, { origin: base })).status).toBe(200);
  });

  it.each([
    ['malformed JSON', 400, 'BAD_JSON', 'application/json', '{"name": "Sam", "password": '],
    ['a JSON array', 400, 'BAD_REQUEST', 'application/json', '[]'],
    ['a number for the password', 400, 'BAD_REQUEST', 'application/json', '{"name": "Sam", "password": 12345678901234}'],
    ['a missing name', 400, 'BAD_REQUEST', 'application/json', `{"password": "${PASSWORD}"}`],
    ['a form post', 415, 'UNSUPPORTED_MEDIA_TYPE', 'application/x-www-form-urlencoded', `name=Sam&password=${PASSWORD}`],
    ['no content type', 415, 'UNSUPPORTED_MEDIA_TYPE', '', '{}'],
    ['a body over 4 kB', 413, 'BODY_TOO_LARGE', 'application/json', JSON.stringify({ name: 'Sam', password: 'x'.repeat(5000) })],
  ])('refuses %s with %i %s and no stack trace', async (_what, status, code, type, body) => {
    const res = await fetch(`${base}/console/api/login`, {
      method: 'POST',
      headers: type ? { 'content-type': type } : {},
      body: type ? body : new Blob([body]),
    });
    expect(res.status).toBe(status);
    expect((await errorOf(res)).code).toBe(code);
  });
});

describe('GET /console/api/session', () => {
  it('answers 401 NOT_SIGNED_IN without a session and the session with one', async () => {
    const anonymous = await fetch(`${base}/console/api/session`);
    expect(anonymous.status).toBe(401);
    expect((await errorOf(anonymous)).code).toBe('NOT_SIGNED_IN');
    expect(await sessionStatus('waypoint_console=made-up-token')).toBe(401);

    const { cookie, csrfToken } = await signIn('sam');
    const res = await fetch(`${base}/console/api/session`, { headers: { cookie: `other=1; ${cookie}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'Sam', role: 'counsellor', csrfToken });
  });

  it('ends a session after 2 hours idle, and after 12 hours however active', async () => {
    const idle = await signIn();
    clock += 119 * MINUTE;
    expect(await sessionStatus(idle.cookie)).toBe(200);
    clock += 119 * MINUTE;
    expect(await sessionStatus(idle.cookie)).toBe(200);
    clock += 120 * MINUTE;
    expect(await sessionStatus(idle.cookie)).toBe(401);

    const busy = await signIn();
    for (let hour = 1; hour < 12; hour++) {
      clock += 60 * MINUTE;
      expect(await sessionStatus(busy.cookie)).toBe(200);
    }
    clock += 60 * MINUTE;
    expect(await sessionStatus(busy.cookie)).toBe(401);
  });

  it('stops working once the account is disabled, at the next account check', async () => {
    const ended: unknown[] = [];
    sessions.onSessionEnded((event) => ended.push(event));
    const otherProcess = openStaffAccounts(dataDir, { scryptCost: 2 ** 10 });
    await otherProcess.add('Kim', PASSWORD, 'counsellor');
    const kim = await signIn('Kim');
    const sam = await signIn('Sam');
    try {
      await otherProcess.disable('Kim');
      await sessions.checkAccounts();
      expect(await sessionStatus(kim.cookie)).toBe(401);
      expect(await sessionStatus(sam.cookie)).toBe(200);
      expect(ended).toEqual([{ token: expect.any(String), name: 'Kim', reason: 'account' }]);
    } finally {
      await otherProcess.enable('Kim');
    }
  });

  it('runs the account check in the background once started', async () => {
    sessions = createConsoleSessions(accounts, { accountCheckIntervalMs: 5 });
    const removed: string[] = [];
    sessions.onSessionEnded((event) => removed.push(event.name));
    const signed = await sessions.login('Sam', PASSWORD);
    expect(signed.ok).toBe(true);
    const ended = new Promise((resolve) => sessions.onSessionEnded(resolve));
    await accounts.disable('Sam');
    try {
      sessions.start();
      expect(await ended).toMatchObject({ name: 'Sam', reason: 'account' });
      expect(signed.ok && sessions.fromToken(signed.token)).toBeUndefined();
    } finally {
      await accounts.enable('Sam');
    }
  });
});

describe('POST /console/api/logout and other guarded routes', () => {
  it('needs the CSRF token, then ends the session and clears the cookie', async () => {
    const { cookie, csrfToken } = await signIn();
    const logout = (headers: Record<string, string>) => fetch(`${base}/console/api/logout`, { method: 'POST', headers: { cookie, ...headers } });

    const without = await logout({});
    expect(without.status).toBe(403);
    expect((await errorOf(without)).code).toBe('CSRF_FAILED');
    expect((await logout({ 'x-csrf-token': tampered(csrfToken) })).status).toBe(403);
    expect((await logout({ 'x-csrf-token': csrfToken, origin: 'https://evil.example' })).status).toBe(403);
    expect(await sessionStatus(cookie)).toBe(200);

    const done = await logout({ 'x-csrf-token': csrfToken, origin: base });
    expect(done.status).toBe(204);
    expect(done.headers.getSetCookie()[0]).toMatch(/^waypoint_console=;.*Expires=Thu, 01 Jan 1970/);
    expect(await sessionStatus(cookie)).toBe(401);
    expect((await logout({ 'x-csrf-token': csrfToken })).status).toBe(401);
  });

  it('keeps supervisor routes for supervisors and passes the session on', async () => {
    const sam = await signIn('Sam');
    const priya = await signIn('Priya');
    const forSam = await fetch(`${base}/console/api/supervisor-only`, { headers: { cookie: sam.cookie } });
    expect(forSam.status).toBe(403);
    expect((await errorOf(forSam)).code).toBe('FORBIDDEN');
    const forPriya = await fetch(`${base}/console/api/supervisor-only`, { headers: { cookie: priya.cookie } });
    expect(await forPriya.json()).toEqual({ name: 'Priya' });

    const change = await fetch(`${base}/console/api/change`, { method: 'POST', headers: { cookie: sam.cookie, 'x-csrf-token': sam.csrfToken } });
    expect(await change.json()).toEqual({ name: 'Sam' });
    // One session's CSRF token does not work with another session.
    const crossed = await fetch(`${base}/console/api/change`, { method: 'POST', headers: { cookie: sam.cookie, 'x-csrf-token': priya.csrfToken } });
    expect(crossed.status).toBe(403);
  });
});

describe('authenticateUpgrade (WebSocket /console/ws)', () => {
  function connect(query: string, headers: Record<string, string>): Promise<number | string> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/console/ws${query}`, { headers });
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('message', (data) => {
        resolve(String(data));
        ws.close();
      });
      ws.on('error', reject);
    });
  }

  it('accepts a signed-in page with its CSRF token, from our origin or with none', async () => {
    const { cookie, csrfToken } = await signIn('Priya');
    const hello = JSON.stringify({ type: 'hello', name: 'Priya' });
    expect(await connect(`?csrf=${csrfToken}`, { cookie, origin: base })).toBe(hello);
    expect(await connect(`?csrf=${csrfToken}`, { cookie })).toBe(hello);
  });

  it('refuses with 401 without a session and 403 with a wrong token or a foreign origin', async () => {
    const { cookie, csrfToken } = await signIn();
    expect(await connect(`?csrf=${csrfToken}`, {})).toBe(401);
    expect(await connect(`?csrf=${csrfToken}`, { cookie: 'waypoint_console=made-up' })).toBe(401);
    expect(await connect('', { cookie })).toBe(403);
    expect(await connect('?csrf=wrong', { cookie })).toBe(403);
    expect(await connect(`?csrf=${csrfToken}`, { cookie, origin: 'https://evil.example' })).toBe(403);
    expect(await connect(`?csrf=${csrfToken}`, { cookie, origin: base.replace('127.0.0.1', 'localhost') })).toBe(403);
  });
});
