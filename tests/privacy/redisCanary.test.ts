/**
 * The core promise on the Redis backend: canaries typed through Direct Line at every kind of
 * prompt (consent, menu, every module's questions, the safety dialogs, a live chat with a
 * counsellor, an attachment, a site-chosen user id, data deletion) are in no Redis key name and
 * no Redis value once the conversations are over. Every key is found with SCAN and every value
 * read by its type, so nothing depends on watching commands go by.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { Activity } from 'botbuilder';
import type { Messages } from '../../bot/content/schema.js';
import { buttons, startRig, texts, type Counsellor, type Rig } from '../support/liveChatRig.js';
import { walkModuleTypingCanaries } from '../support/moduleWalk.js';
import { everythingInRedis } from '../support/redisContents.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer.js';
import { expectNoMarkerInFiles } from '../support/storedFiles.js';

const SITE_SECRET = 'a-direct-line-secret-for-the-redis-canary-test';
const PSEUDONYM_SECRET = 'a-pseudonym-secret-for-the-redis-canary-test';
const WAIT_MS = 5000;

const markers: string[] = [];
/** Several words, so the privacy guard treats it as identifying text; the hex part is searched for. */
function canary(): string {
  const marker = randomBytes(6).toString('hex');
  markers.push(marker);
  return `canary ${marker} was typed here`;
}

/** A person on Web Chat's protocol: posts return once the turn has run; replies are read from the buffer. */
class WebChatPerson {
  private watermark: string | undefined;

  constructor(
    private readonly url: string,
    readonly conversationId: string,
    private readonly token: string,
  ) {}

  static async start(url: string, token: string): Promise<WebChatPerson> {
    const res = await fetch(`${url}/v3/directline/conversations`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(201);
    const started = (await res.json()) as { conversationId: string; token: string };
    return new WebChatPerson(url, started.conversationId, started.token);
  }

  async post(activity: Record<string, unknown>): Promise<number> {
    const res = await fetch(`${this.url}/v3/directline/conversations/${encodeURIComponent(this.conversationId)}/activities`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', from: { id: 'me' }, channelData: { clientActivityID: `c-${Math.random()}` }, ...activity }),
    });
    await res.text();
    return res.status;
  }

  async say(text: string): Promise<Activity[]> {
    expect(await this.post({ text })).toBe(200);
    return this.fresh();
  }

  /** What the bot sent since the last look. */
  async fresh(): Promise<Activity[]> {
    const query = this.watermark === undefined ? '' : `?watermark=${encodeURIComponent(this.watermark)}`;
    const res = await fetch(`${this.url}/v3/directline/conversations/${encodeURIComponent(this.conversationId)}/activities${query}`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    const set = (await res.json()) as { activities: Activity[]; watermark: string };
    this.watermark = set.watermark;
    return set.activities.filter((a) => a.from?.role === 'bot');
  }

  async waitForText(pattern: RegExp): Promise<Activity[]> {
    const deadline = Date.now() + WAIT_MS;
    const seen: Activity[] = [];
    for (;;) {
      seen.push(...(await this.fresh()));
      if (texts(seen).some((text) => pattern.test(text))) return seen;
      if (Date.now() > deadline) throw new Error(`no reply matching ${pattern}: ${JSON.stringify(texts(seen))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describeWithRedis('canaries typed through Direct Line into a Waypoint on Redis', () => {
  let server: RedisServer;
  let rig: Rig;
  let messages: Messages;

  async function press(person: WebChatPerson, replies: Activity[], label: string): Promise<Activity[]> {
    expect(buttons(replies)).toContain(label);
    return person.say(label);
  }

  async function walkSafetyDialogs(person: WebChatPerson): Promise<void> {
    const { safety } = messages;
    const paths: { says: string; answers: string[] }[] = [
      { says: `${canary()}, i'm going to kill myself tonight`, answers: [canary(), 'uk', canary(), safety.safeNow] },
      { says: `im meeting a 13 year old girl from discord tonight ${canary()}`, answers: [canary(), safety.childSafety.steppedAway] },
      { says: `sometimes i wish i could just not wake up, ${canary()}`, answers: [canary(), safety.followUp.yes, canary(), safety.followUp.no, safety.followUp.no, safety.followUp.no, canary(), safety.carryOn] },
      { says: `i cant cope anymore, the urges are too strong. ${canary()}`, answers: [canary(), safety.carryOn] },
      { says: `can i talk to a real person please ${canary()}`, answers: [canary(), messages.handover.notNow] },
    ];
    for (const { says, answers } of paths) {
      await person.say(says);
      for (const answer of answers) await person.say(answer);
    }
  }

  /** A live chat: the person's words reach the counsellor, the counsellor's reach the person, and both are gone afterwards. */
  async function liveChat(person: WebChatPerson, counsellor: Counsellor): Promise<void> {
    await press(person, await person.say('talk to a person'), messages.handover.connectMe);
    const [entry] = await counsellor.queue((entries) => entries.length === 1);
    await person.say(canary());
    counsellor.send({ type: 'accept', ticket: entry!.ticket });
    const { chatId } = (await counsellor.next('chat.opened')).chat;
    await person.waitForText(/has joined/);

    const typed = canary();
    await person.post({ text: typed });
    expect(await counsellor.next('message')).toMatchObject({ chatId, text: typed });
    const answer = canary();
    counsellor.send({ type: 'message', chatId, text: `counsellor says ${answer}`, ref: 'r1' });
    await person.waitForText(new RegExp(answer.split(' ')[1]!));
    await person.post({ text: `${canary()} i have the pills here and im going to take them all tonight` });
    await counsellor.next('risk', (frame) => frame.chatId === chatId);

    counsellor.send({ type: 'end', chatId });
    await person.waitForText(/How helpful/);
    await person.say(canary());
    await person.say('4');
  }

  beforeAll(async () => {
    server = await startRedisServer();
    rig = await startRig([{ name: 'Sam', role: 'counsellor' }], { REDIS_URL: server.url, PSEUDONYM_SECRET, DIRECT_LINE_SECRET: SITE_SECRET });
    messages = rig.running.runtime.content.forLocale('en').messages;
    const counsellor = await rig.counsellor('Sam');
    await counsellor.next('hello');
    counsellor.send({ type: 'availability', available: true });
    const { url } = rig.running;

    // Someone on the widget: every module, interruptions, safety dialogs, a live chat, a file.
    const issued = (await (await fetch(`${url}/webchat/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"locale":"en-GB"}' })).json()) as { token: string };
    const person = await WebChatPerson.start(url, issued.token);
    expect(texts(await person.fresh())).toContain(messages.consent.question);
    await person.say(canary());
    await person.say(messages.consent.agree);
    await person.say(canary());
    for (const module of rig.running.runtime.content.forLocale('en').modules.values()) await walkModuleTypingCanaries(person, module.title, messages, canary);
    for (const command of ['help', 'my plan', 'menu']) {
      await person.say(command);
      await person.say(canary());
    }
    await walkSafetyDialogs(person);
    await liveChat(person, counsellor);
    expect(await person.post({ text: canary(), attachments: [{ contentType: 'image/png', name: canary(), contentUrl: 'http://127.0.0.1:9/x.png', content: { caption: canary() } }] })).toBe(200);
    await person.say('delete my data');
    await person.say(canary());
    await person.say(messages.deleteData.cancel);
    await person.say('stop');
    await person.say(canary());

    // A site's own server naming its user, who then deletes everything.
    const generated = await fetch(`${url}/v3/directline/tokens/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SITE_SECRET}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user: { id: `site-user-${canary().split(' ')[1]}` } }),
    });
    const named = await WebChatPerson.start(url, ((await generated.json()) as { token: string }).token);
    await named.say(messages.consent.agree);
    await named.say(canary());
    await named.say('delete my data');
    await named.say(messages.deleteData.confirm);
    await named.say(canary());

    await rig.running.stop();
  }, 120_000);

  afterAll(async () => {
    await rig?.close();
    await server?.stop();
  });

  it('typed canaries at every kind of prompt', () => {
    expect(markers.length).toBeGreaterThan(40);
  });

  it('stored state in Redis, so the search is not vacuous', async () => {
    const { keys } = await everythingInRedis(server.url);
    expect(keys.filter((key) => key.startsWith('waypoint:state:')).length).toBeGreaterThanOrEqual(2);
  });

  it('finds no canary in any Redis key name or value', async () => {
    const { keys, text } = await everythingInRedis(server.url);
    expect(keys.length).toBeGreaterThan(0);
    for (const marker of markers) expect(text).not.toContain(marker);
  });

  it('finds no canary in any file the Waypoint wrote beside Redis', async () => {
    await expectNoMarkerInFiles(rig.dataDir, markers);
  });

  it('finds no canary in any log line, and no failed turn or refused write', () => {
    const log = rig.logText();
    expect(log).toContain('server.stopped');
    for (const marker of markers) expect(log).not.toContain(marker);
    for (const alarm of ['turn.failed', 'turn.storageUnavailable', 'privacy.writeRefused', 'directLine.turnFailed']) expect(log).not.toContain(alarm);
  });
});
