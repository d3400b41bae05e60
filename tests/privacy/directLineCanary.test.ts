/**
 * The core promise over the web chat's own channel: canaries typed through Direct Line (as Web
 * Chat sends them), in attachments, in an upload and in a site-chosen user id are in no stored
 * file and no log line once the conversation is over, and the delivery buffer that briefly
 * held them is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { testConfig } from '../support/testConfig.js';
import { startWaypoint, type RunningWaypoint } from '../../bot/index.js';
import { captureLog } from '../support/capturedLog.js';
import { DirectLineClient } from '../support/directLineClient.js';
import { expectNoMarkerInFiles } from '../support/storedFiles.js';

const SECRET = 'a-direct-line-secret-for-the-canary-test-only';
const markers: string[] = [];
/** Several words, so the privacy guard treats it as identifying text; the hex part is searched for. */
function canary(): string {
  const marker = randomBytes(6).toString('hex');
  markers.push(marker);
  return `canary ${marker} was typed here`;
}

describe('canaries typed through Direct Line', () => {
  let dataDir: string;
  let running: RunningWaypoint;
  let logText: () => string;
  const conversationIds: string[] = [];

  async function raw(pathname: string, token: string, body: unknown, contentType = 'application/json') {
    return fetch(`${running.url}/v3/directline${pathname}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-dl-canary-'));
    const captured = captureLog();
    logText = captured.text;
    const config = testConfig(dataDir, {
      DIRECT_LINE_SECRET: SECRET,
    });
    running = await startWaypoint(config, captured.log);

    // A person on the widget's path.
    const issued = (await (await fetch(`${running.url}/webchat/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"locale":"en-GB"}' })).json()) as {
      token: string;
      conversationId: string;
    };
    conversationIds.push(issued.conversationId);
    const person = new DirectLineClient({ baseUrl: running.url, token: issued.token, webSocket: true });
    await person.waitForText(/Are you happy to continue/);
    await person.post(canary());
    await person.post('Yes, continue');
    await person.waitForText(/What would you like to look at/);
    await person.post(canary());
    await person.post('Online and offline relationships');
    await person.post(canary());
    await person.post(`${canary()}, i'm going to kill myself tonight`);
    await person.post(canary());
    await person.post(`can i talk to a real person please ${canary()}`);
    await person.post(canary());
    const attachment = await raw(`/conversations/${issued.conversationId}/activities`, issued.token, {
      type: 'message',
      text: canary(),
      attachments: [{ contentType: 'image/png', name: canary(), contentUrl: `http://127.0.0.1:9/${markers[0]}.png`, content: { caption: canary() } }],
    });
    expect(attachment.status).toBe(200);
    const upload = await raw(`/conversations/${issued.conversationId}/upload?userId=x`, issued.token, canary(), 'application/octet-stream');
    expect(upload.status).toBe(415);
    await person.post('delete my data');
    await person.post(canary());
    person.end();
    expect((await raw(`/conversations/${issued.conversationId}/activities`, issued.token, { type: 'endOfConversation' })).status).toBe(200);

    // A site's own server, naming its user, then talking over polling.
    const generated = (await (await raw('/tokens/generate', SECRET, { user: { id: `site-user-${canary().split(' ')[1]}` } })).json()) as { token: string; conversationId: string };
    conversationIds.push(generated.conversationId);
    const named = new DirectLineClient({ baseUrl: running.url, token: generated.token, webSocket: false });
    await named.waitForText(/Are you happy to continue/);
    await named.post('Yes, continue');
    await named.post(canary());
    await named.waitForText(/didn't catch that/);
    named.end();

    await running.stop();
  }, 60_000);

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stored something, so the search is not vacuous', async () => {
    const files = await readdir(dataDir, { recursive: true });
    expect(files.length).toBeGreaterThan(1);
  });

  it('finds no canary in any stored file or file name', async () => {
    await expectNoMarkerInFiles(dataDir, markers);
  });

  it('finds no canary in any log line, and no failed turn', () => {
    const log = logText();
    expect(log).toContain('server.stopped');
    for (const marker of markers) expect(log).not.toContain(marker);
    expect(log).not.toContain('turn.failed');
    expect(log).not.toContain('directLine.turnFailed');
  });

  it('dropped every delivery buffer when the conversations ended', () => {
    for (const id of conversationIds) expect(running.directLine.conversations.get(id)).toBeUndefined();
    expect(running.directLine.conversations.size).toBe(0);
  });
});
