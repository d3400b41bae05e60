import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { testConfig } from '../support/testConfig.js';
import { captureLog } from '../support/capturedLog.js';
import { startWaypoint, type RunningWaypoint } from '../../bot/index.js';
import { startFakeConnector, type FakeConnector } from '../support/fakeConnector.js';

async function start(env: Record<string, string> = {}) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-http-'));
  const { log, text: logText } = captureLog();
  const config = testConfig(dataDir, env);
  const running = await startWaypoint(config, log);
  return { running, dataDir, logText };
}

function activity(connector: FakeConnector, extra: Record<string, unknown>) {
  return {
    channelId: 'emulator',
    serviceUrl: connector.serviceUrl,
    conversation: { id: 'conv-http-1' },
    from: { id: 'user-http-1', name: 'User' },
    recipient: { id: 'waypoint', name: 'Waypoint' },
    id: `act-${Math.random().toString(16).slice(2)}`,
    timestamp: new Date().toISOString(),
    locale: 'en-GB',
    ...extra,
  };
}

describe('POST /api/messages (Bot Framework protocol, as the Emulator speaks it)', () => {
  let connector: FakeConnector;
  let server: Awaited<ReturnType<typeof start>>;
  let running: RunningWaypoint;

  beforeEach(async () => {
    connector = await startFakeConnector();
    server = await start();
    running = server.running;
  });
  afterEach(async () => {
    await running.stop();
    await connector.close();
    await rm(server.dataDir, { recursive: true, force: true });
  });

  const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${running.url}/api/messages`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('welcomes a person who joins and takes them to the menu after consent, replying through the connector', async () => {
    const joined = await post(activity(connector, { type: 'conversationUpdate', membersAdded: [{ id: 'user-http-1' }] }));
    expect(joined.status).toBe(200);
    const afterJoin = await connector.waitFor(2);
    expect(afterJoin[0]!.text).toMatch(/welcome/i);
    expect(afterJoin.at(-1)!.suggestedActions?.actions.map((a) => a.title)).toContain('Yes, continue');
    const before = connector.received.length;

    const agreed = await post(activity(connector, { type: 'message', text: 'Yes, continue' }));
    expect(agreed.status).toBe(200);
    await connector.waitFor(before + 1);
    const menu = connector.received.slice(before);
    expect(menu.at(-1)!.suggestedActions?.actions.map((a) => a.title)).toContain('Online and offline relationships');
    expect(menu.every((reply) => reply.conversation.id === 'conv-http-1')).toBe(true);
  });

  it('keeps no trace of typed text, user or conversation ids in stored files or logs', async () => {
    const canary = 'canary 5f1e2d3c4b5a typed over http';
    const typed = activity(connector, { type: 'message', text: canary, from: { id: 'user-canary-77aa' }, conversation: { id: 'conv-canary-88bb' } });
    expect((await post(typed)).status).toBe(200);
    expect((await post('{"text": "canary 5f1e2d3c4b5a in a broken body')).status).toBe(400);
    await connector.waitFor(1);
    await running.stop();
    const files = (await readdir(server.dataDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = await readFile(path.join(file.parentPath, file.name), 'utf8');
      for (const secret of ['5f1e2d3c4b5a', 'user-canary-77aa', 'conv-canary-88bb']) {
        expect(text).not.toContain(secret);
        expect(file.name).not.toContain(secret);
      }
    }
    const log = server.logText();
    expect(log).toContain('turn.completed');
    for (const secret of ['5f1e2d3c4b5a', 'user-canary-77aa', 'conv-canary-88bb']) expect(log).not.toContain(secret);
  });

  it('answers health checks', async () => {
    const res = await fetch(`${running.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it.each([
    ['malformed JSON', '{"type": "message", "text": "unterminated', 400, 'BAD_JSON'],
    ['a JSON array', [], 400, 'BAD_ACTIVITY'],
    ['an activity without a conversation', { type: 'message', channelId: 'x', serviceUrl: 'http://127.0.0.1:9', from: { id: 'u' } }, 400, 'BAD_ACTIVITY'],
    ['a serviceUrl that is not a URL', { type: 'message', channelId: 'x', serviceUrl: 'nope', from: { id: 'u' }, conversation: { id: 'c' } }, 400, 'BAD_ACTIVITY'],
  ])('refuses %s with a 4xx and a reason, never a stack trace', async (_name, body, status, code) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    const json = (await res.json()) as { error: { code: string; message: string } };
    expect(json.error.code).toBe(code);
    expect(json.error.message.length).toBeGreaterThan(10);
    expect(JSON.stringify(json)).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await post('type=message', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await post(activity(connector, { type: 'message', text: 'x'.repeat(100_000) }));
    expect(res.status).toBe(413);
  });

  it('answers other methods and addresses with 405 and 404', async () => {
    expect((await fetch(`${running.url}/api/messages`)).status).toBe(405);
    expect((await fetch(`${running.url}/nothing-here`)).status).toBe(404);
  });

  it('keeps serving other conversations when one request is malformed', async () => {
    await post('{broken');
    const res = await post(activity(connector, { type: 'conversationUpdate', membersAdded: [{ id: 'user-http-1' }] }));
    expect(res.status).toBe(200);
    await connector.waitFor(1);
  });
});

describe('POST /api/messages with an Azure app id configured', () => {
  it('refuses a request without a valid Bot Framework token', async () => {
    const connector = await startFakeConnector();
    const { running, dataDir } = await start({ MICROSOFT_APP_ID: '00000000-0000-0000-0000-000000000001', MICROSOFT_APP_PASSWORD: 'not-a-real-password' });
    try {
      const res = await fetch(`${running.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(activity(connector, { type: 'message', text: 'hello' })),
      });
      expect(res.status).toBe(401);
      expect(connector.received).toHaveLength(0);
    } finally {
      await running.stop();
      await connector.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
