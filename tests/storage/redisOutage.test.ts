/**
 * A whole Waypoint on Redis when redis-server dies mid-conversation: people get a calm answer
 * (the next module step where this instance knows where they were, else the outage message
 * with contacts), nothing crashes, and once Redis is back turns work and are saved again
 * without anyone restarting anything. Direct Line itself needs Redis to start a conversation
 * (several instances share them), so the person who arrives during the outage comes through
 * the Bot Framework endpoint.
 */
import { afterEach, beforeEach, expect, it } from '@jest/globals';
import type { Activity } from 'botbuilder';
import type { Redis } from 'ioredis';
import { connectRedis } from '../../bot/redis/redisConnection.js';
import type { RunningWaypoint } from '../../bot/index.js';
import { bubbles, startDirectLineRig, type StartedConversation, type WaypointDirectLine } from '../support/directLineRig.js';
import { captureLog } from '../support/capturedLog.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer.js';
import { startRig, texts, type Rig } from '../support/liveChatRig.js';
import { contactBubbles } from '../../dialogs/safety/contacts.js';

const SECRET = 'a-pseudonym-secret-for-the-redis-outage-test';
const MODULE = 'Online and offline relationships';

describeWithRedis('a Waypoint on Redis when Redis goes down', () => {
  const settings = (): Record<string, string> => ({ REDIS_URL: server.url, PSEUDONYM_SECRET: SECRET });
  let server: RedisServer;
  let rig: WaypointDirectLine | undefined;
  let apiRig: Rig | undefined;

  beforeEach(async () => {
    server = await startRedisServer();
  });

  afterEach(async () => {
    await rig?.close();
    await apiRig?.close();
    rig = apiRig = undefined;
    await server.stop();
  });

  /** A Direct Line conversation and what the bot said in it since the last look. */
  async function converse(rig: WaypointDirectLine): Promise<{ conversation: StartedConversation; turn(text: string): Promise<string[]>; replies(): Promise<string[]> }> {
    const conversation = await rig.startConversation();
    let watermark: string | undefined;
    async function replies(): Promise<string[]> {
      const set = await rig.activities(conversation, watermark);
      watermark = set.watermark;
      return set.activities.filter((a: Activity) => a.type === 'message' && a.from?.role === 'bot').map((a) => a.text ?? '');
    }
    return {
      conversation,
      replies,
      async turn(text) {
        const answer = await rig.say(conversation, text);
        expect(answer.status).toBe(200);
        return replies();
      },
    };
  }

  async function waitUntilStorageWorks(running: RunningWaypoint): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return await running.runtime.storage.ping();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async function storedKeys(): Promise<string[]> {
    const { log } = captureLog();
    const admin: Redis = connectRedis(server.url, { log, name: 'test-admin' });
    try {
      return await admin.keys('*');
    } finally {
      await admin.quit();
    }
  }

  function loggedEvents(logText: string): string[] {
    return logText
      .split('\n')
      .filter(Boolean)
      .map((line) => String((JSON.parse(line) as { event?: unknown }).event));
  }

  it('carries a person on through their module, says progress is not being saved, and saves again once Redis is back', async () => {
    rig = await startDirectLineRig(settings());
    const { messages } = rig;
    const outage = messages.storageOutage;
    const person = await converse(rig);
    expect(await person.replies()).toContain(messages.consent.question);
    await person.turn(messages.consent.agree);
    const opening = await person.turn(MODULE);
    expect(opening).toContain('Roughly how many people would you call significant in your online world?');
    expect((await storedKeys()).length).toBeGreaterThan(0);

    await server.kill();

    const duringOutage = await person.turn('3 to 5');
    expect(duringOutage).toEqual(['And offline? Think of people you see or speak to in everyday life who matter to you.', outage.notSaved]);
    // What the failed save meant to keep is what the next turn carries on from.
    const next = await person.turn('None');
    expect(next[0]).toMatch(/^Thank you for being honest\. Having nobody close offline/);
    expect(next.at(-1)).toBe(outage.notSaved);

    await server.start();
    await waitUntilStorageWorks(rig.running);

    // The restarted Redis is empty (persistence is off in tests): the person starts afresh, and normally.
    const afterwards = await person.turn('hello');
    expect(afterwards).toContain(messages.consent.question);
    expect(afterwards).not.toContain(outage.notSaved);
    expect(await person.turn(messages.consent.agree)).toContain(messages.menu.prompt);
    expect((await storedKeys()).length).toBeGreaterThan(0);

    const events = loggedEvents(rig.logText());
    expect(events.filter((event) => event === 'turn.storageUnavailable')).toHaveLength(2);
    expect(events).not.toContain('turn.failed');
    expect(events).not.toContain('turn.recoveryFailed');
  }, 30_000);

  it('tells someone it knows nothing about that saving and live chat are unavailable, with contacts, and serves them normally once Redis is back', async () => {
    apiRig = await startRig([], settings());
    const { messages } = apiRig.running.runtime.content.forLocale('en');
    const contacts = contactBubbles(apiRig.running.runtime.content.forLocale('en'), apiRig.running.runtime.helplines.forCountry(undefined), ['crisis', 'prevention']);
    const outageReply = [...bubbles(messages.storageOutage.unavailable), ...contacts];
    expect(contacts.join('\n')).toContain('findahelpline.com');
    expect(contacts[0]).toBe(messages.helplines.emergencyUnknown);
    await server.kill();

    const person = apiRig.person('conversation-during-outage');
    await person.post({ type: 'conversationUpdate', membersAdded: [{ id: 'user-conversation-during-outage' }] });
    expect(texts(await person.replies(outageReply.length))).toEqual(outageReply);
    expect(texts(await person.say('is anyone there?', outageReply.length))).toEqual(outageReply);

    await server.start();
    await waitUntilStorageWorks(apiRig.running);

    expect(texts(await person.say('hello', 2))).toContain(messages.consent.question);
    const events = loggedEvents(apiRig.logText());
    expect(events.filter((event) => event === 'turn.storageUnavailable')).toHaveLength(2);
    expect(events).not.toContain('turn.failed');
  }, 30_000);
});
