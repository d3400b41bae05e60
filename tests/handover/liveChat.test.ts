import { afterEach, describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { buttons, Counsellor, startRig, texts, type Person, type Rig } from '../support/liveChatRig.js';

const STAFF = [
  { name: 'Sam', role: 'counsellor' },
  { name: 'Alex', role: 'counsellor' },
  { name: 'Pat', role: 'supervisor' },
] as const;

/** The context card of someone who asked for a person from the menu: facts, never words. */
const ASKED_FOR_A_PERSON = {
  locale: 'en-GB',
  channel: 'emulator',
  reason: { category: 'human', level: 'low' },
  modulesCompleted: [],
  safetyPlan: false,
  queuedAt: expect.any(Number),
};

/** A person who has agreed to the terms and is at the menu. */
async function atMenu(rig: Rig, conversationId: string): Promise<Person> {
  const person = rig.person(conversationId);
  await person.join();
  await person.say('Yes, continue');
  return person;
}

/** Asks for a person and says yes to the counsellor; resolves to the queue message. */
async function queueUp(person: Person): Promise<string[]> {
  const offer = await person.say('talk to a person');
  expect(buttons(offer)).toEqual(['Yes, find me a counsellor', 'Not now']);
  return texts(await person.say('Yes, find me a counsellor'));
}

async function availableCounsellor(rig: Rig, name: string): Promise<Counsellor> {
  const counsellor = await rig.counsellor(name);
  await counsellor.next('hello');
  counsellor.send({ type: 'availability', available: true });
  return counsellor;
}

describe('live chat with a counsellor, through the Bot Framework endpoint and the console', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('queues a person, lets a counsellor accept, relays both ways with typing and a risk flag, ends, and counts the rating', async () => {
    rig = await startRig(STAFF);
    const sam = await availableCounsellor(rig, 'Sam');
    const hello = sam.frames.find((f) => f.type === 'hello');
    expect(hello).toMatchObject({ type: 'hello', name: 'Sam', role: 'counsellor', available: false });
    await sam.next('chats', (f) => f.chats.length === 0);

    const person = await atMenu(rig, 'conv-live-1');
    const offer = await person.say('talk to a person');
    expect(texts(offer).join(' ')).toMatch(/may have to act to protect the child/);
    const queued = texts(await person.say('Yes, find me a counsellor'));
    expect(queued[0]).toMatch(/number 1\b/);

    const [entry] = await sam.queue((entries) => entries.length === 1);
    expect(entry!.priority).toBe('other');
    expect(entry!.card).toEqual(ASKED_FOR_A_PERSON);

    sam.send({ type: 'accept', ticket: entry!.ticket });
    const opened = await sam.next('chat.opened');
    const { chatId } = opened.chat;
    const joined = await person.waitForText(/Sam, a counsellor, has joined/);
    expect(joined.some((a) => a.type === 'event' && a.name === 'handoff.status' && (a.value as { state: string }).state === 'accepted')).toBe(true);

    await person.post({ type: 'message', text: 'hello, canary-7d1c-person-words' });
    expect(await sam.next('message')).toEqual({ type: 'message', chatId, text: 'hello, canary-7d1c-person-words' });

    await person.post({ type: 'typing' });
    await sam.next('typing', (f) => f.chatId === chatId);

    sam.send({ type: 'message', chatId, text: 'Hi, canary-9e2f-counsellor-words. Take your time.', ref: 'r1' });
    const fromSam = await person.waitForText(/canary-9e2f/);
    expect(texts(fromSam)).toEqual(['Sam: Hi, canary-9e2f-counsellor-words. Take your time.']);
    expect(await sam.next('delivered')).toEqual({ type: 'delivered', chatId, ref: 'r1' });

    sam.send({ type: 'typing', chatId });
    const typing = await person.replies(1);
    expect(typing.map((a) => a.type)).toEqual(['typing']);

    // The bot's risk screen still reads every message, and tells the counsellor first.
    await person.post({ type: 'message', text: 'i have the pills here and im going to take them all tonight' });
    const flag = await sam.next('risk');
    expect(flag).toMatchObject({ chatId, category: 'suicide' });
    expect(['high', 'imminent']).toContain(flag.level);
    expect(await sam.next('message')).toMatchObject({ chatId });
    // The bot itself stays out of the counsellor's conversation.
    await new Promise((r) => setTimeout(r, 200));
    expect(await person.replies(0)).toEqual([]);

    sam.send({ type: 'end', chatId, suggestModule: 'urges' });
    expect(await sam.next('chat.ended')).toEqual({ type: 'chat.ended', chatId, by: 'counsellor' });
    const ended = await person.waitForText(/How helpful/);
    expect(texts(ended)).toEqual([
      "The counsellor has ended the chat. You're back with Waypoint.",
      expect.stringMatching(/How helpful was talking with the counsellor/),
    ]);
    expect(buttons(ended)).toEqual(['1', '2', '3', '4', '5', 'Skip']);
    expect(ended.some((a) => a.type === 'event' && (a.value as { state: string }).state === 'completed')).toBe(true);

    const rated = await person.say('4', 2);
    expect(texts(rated)).toEqual(['Thank you.', expect.stringMatching(/suggested the topic "When urges come"/)]);
    const module = await person.say('Start it');
    expect(texts(module).join(' ')).toMatch(/urge/i);

    const today = new Date().toISOString().slice(0, 10);
    expect(await rig.running.runtime.counts.day(today)).toMatchObject({ 'emulator|en|handover.rating.4': 1 });

    // Nothing either side typed outlives the chat: no stored file, no file name, no log line.
    await rig.running.stop();
    const files = (await readdir(rig.dataDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = await readFile(path.join(file.parentPath, file.name), 'utf8');
      for (const canary of ['canary-7d1c', 'canary-9e2f', 'pills here', 'conv-live-1']) {
        expect(text).not.toContain(canary);
        expect(file.name).not.toContain(canary);
      }
    }
    const log = rig.logText();
    expect(log).toContain('handover.connected');
    for (const canary of ['canary-7d1c', 'canary-9e2f', 'pills here', 'conv-live-1', 'user-conv-live-1']) expect(log).not.toContain(canary);
  });

  it('puts a child at imminent risk ahead of people who came earlier, and shows each counsellor only their own chats', async () => {
    rig = await startRig(STAFF);
    const sam = await availableCounsellor(rig, 'Sam');
    const alex = await rig.counsellor('Alex');
    await alex.next('hello');

    const early = await atMenu(rig, 'conv-early');
    expect((await queueUp(early))[0]).toMatch(/number 1\b/);
    const urgent = await atMenu(rig, 'conv-urgent');
    await urgent.say('im meeting a 13 year old girl from discord tonight', 3);
    await urgent.say('United Kingdom', 2);
    const offer = await urgent.say('Talk to a counsellor');
    expect(buttons(offer)).toEqual(['Yes, find me a counsellor', 'Not now']);
    expect(texts(await urgent.say('Yes, find me a counsellor'))[0]).toMatch(/number 1\b/);

    const entries = await sam.queue((e) => e.length === 2);
    expect(entries.map((e) => [e.priority, e.card.reason.category])).toEqual([
      ['child_imminent', 'child_at_risk'],
      ['other', 'human'],
    ]);

    // Alex is signed in but not available: accepting is refused until they say they are.
    alex.send({ type: 'accept', ticket: entries[0]!.ticket });
    expect(await alex.next('error')).toMatchObject({ code: 'NOT_AVAILABLE' });

    sam.send({ type: 'accept', ticket: entries[0]!.ticket });
    const { chatId } = (await sam.next('chat.opened')).chat;
    alex.send({ type: 'availability', available: true });
    alex.send({ type: 'accept', ticket: entries[0]!.ticket });
    expect(await alex.next('error')).toMatchObject({ code: 'TICKET_GONE' });

    // Another counsellor can neither write into, type into nor end a chat they did not accept.
    alex.send({ type: 'message', chatId, text: 'not yours', ref: 'x1' });
    expect(await alex.next('error')).toMatchObject({ code: 'NOT_YOUR_CHAT', ref: 'x1' });
    alex.send({ type: 'typing', chatId });
    expect(await alex.next('error')).toMatchObject({ code: 'NOT_YOUR_CHAT' });
    alex.send({ type: 'end', chatId });
    expect(await alex.next('error')).toMatchObject({ code: 'NOT_YOUR_CHAT' });
    await urgent.waitForText(/Sam, a counsellor, has joined/);
    await urgent.post({ type: 'message', text: 'only for sam' });
    expect(await sam.next('message')).toMatchObject({ chatId, text: 'only for sam' });
    expect(alex.frames.some((f) => f.type === 'message' || f.type === 'chat.opened')).toBe(false);
    expect(texts(await urgent.replies(0))).not.toContain('Sam: not yours');

    // A malformed or oversized frame is answered with an error, and the connection stays usable.
    alex.socket.send('{"type": "accept"');
    expect(await alex.next('error')).toMatchObject({ code: 'BAD_MESSAGE' });
    alex.send({ type: 'message', chatId, text: 'x'.repeat(5000) });
    expect(await alex.next('error')).toMatchObject({ code: 'BAD_MESSAGE' });
    const [remaining] = alex.latestQueue();
    expect(alex.latestQueue()).toHaveLength(1);
    alex.send({ type: 'accept', ticket: remaining!.ticket });
    expect((await alex.next('chat.opened')).chat.card.reason.category).toBe('human');
    await early.waitForText(/Alex, a counsellor, has joined/);
  });

  it('re-queues a person at the front within 5 seconds when their counsellor disconnects, and keeps a reload from costing the chat', async () => {
    rig = await startRig(STAFF);
    const sam = await availableCounsellor(rig, 'Sam');
    const waiting = await atMenu(rig, 'conv-waiting');
    const person = await atMenu(rig, 'conv-dropped');
    await queueUp(person);
    const [entry] = await sam.queue((e) => e.length === 1);
    sam.send({ type: 'accept', ticket: entry!.ticket });
    const { chatId } = (await sam.next('chat.opened')).chat;
    await person.waitForText(/has joined/);
    await queueUp(waiting);

    // A reload: the page goes and comes back within the grace period; the chat is still there.
    const { cookie, csrfToken } = await rig.signIn('Sam');
    sam.socket.close();
    await new Promise((r) => setTimeout(r, 300));
    await person.post({ type: 'message', text: 'are you still there' });
    const reloaded = await Counsellor.connect(rig.running.url, cookie, csrfToken);
    const chats = await reloaded.next('chats');
    expect(chats.chats.map((c) => c.chatId)).toEqual([chatId]);
    // What the person wrote while the page was away is handed over, once.
    expect(await reloaded.next('message')).toMatchObject({ chatId, text: 'are you still there' });
    // Availability survives a reload too.
    expect(reloaded.frames.find((f) => f.type === 'hello')).toMatchObject({ available: true });

    // Now the network goes for good.
    const watcher = await rig.counsellor('Pat');
    await watcher.next('hello');
    const gone = Date.now();
    reloaded.socket.terminate();
    await person.waitForText(/back at the front of the queue/);
    expect(Date.now() - gone).toBeLessThan(5000);
    const queue = await watcher.queue((e) => e.length === 2);
    expect(queue[0]!.card.channel).toBe('emulator');
    const presence = await watcher.next('presence', (f) => f.queueLength === 2);
    expect(presence.liveChats).toBe(0);
    expect(presence.counsellors.map((c) => c.name)).toEqual(['Pat']);
    // The re-queued person is first, ahead of the one who was already waiting.
    watcher.send({ type: 'availability', available: true });
    watcher.send({ type: 'accept', ticket: queue[0]!.ticket });
    await person.waitForText(/Pat, a counsellor, has joined/);
  });

  it('lets the person end the chat, and tells the counsellor when the person leaves the channel', async () => {
    rig = await startRig(STAFF);
    const sam = await availableCounsellor(rig, 'Sam');
    const first = await atMenu(rig, 'conv-ender');
    await queueUp(first);
    const [one] = await sam.queue((e) => e.length === 1);
    sam.send({ type: 'accept', ticket: one!.ticket });
    const chatOne = (await sam.next('chat.opened')).chat.chatId;
    await first.waitForText(/has joined/);
    const left = await first.say('end chat', 2);
    expect(texts(left)).toEqual(["You've left the chat with the counsellor. You're back with Waypoint.", expect.stringMatching(/How helpful/)]);
    expect(await sam.next('chat.ended')).toEqual({ type: 'chat.ended', chatId: chatOne, by: 'person' });
    expect(texts(await first.say('Skip'))).toEqual([expect.stringMatching(/^What would you like to look at/)]);

    const second = await atMenu(rig, 'conv-vanisher');
    await queueUp(second);
    const [two] = await sam.queue((e) => e.length === 1);
    sam.send({ type: 'accept', ticket: two!.ticket });
    const chatTwo = (await sam.next('chat.opened')).chat.chatId;
    await second.post({ type: 'conversationUpdate', membersRemoved: [{ id: 'user-conv-vanisher' }] });
    expect(await sam.next('chat.ended')).toEqual({ type: 'chat.ended', chatId: chatTwo, by: 'disconnected' });
  });

  it('lets a waiting person leave the queue, or keep their place when they ask again', async () => {
    rig = await startRig(STAFF);
    const sam = await availableCounsellor(rig, 'Sam');
    const person = await atMenu(rig, 'conv-leaver');
    await queueUp(person);
    await sam.queue((e) => e.length === 1);
    const again = await person.say('talk to a person');
    expect(texts(again)[0]).toMatch(/still in the queue, number 1/);
    expect(buttons(again)).toEqual(['Keep waiting', 'Leave the queue']);
    expect(texts(await person.say('Keep waiting', 2))[0]).toMatch(/keep your place/);
    const left = await person.say('leave queue', 2);
    expect(texts(left)[0]).toMatch(/left the queue/);
    await sam.queue((e) => e.length === 0);
    expect(texts(await person.say('leave queue', 2))[0]).toMatch(/weren't waiting/);
  });
});

describe('the console refuses what it should', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('refuses a WebSocket without a session, with a wrong CSRF token or from another origin, and serves the page under a strict policy', async () => {
    rig = await startRig(STAFF);
    const { cookie, csrfToken } = await rig.signIn('Sam');
    const url = rig.running.url;
    await expect(Counsellor.connect(url, '', csrfToken)).rejects.toThrow('upgrade refused: 401');
    await expect(Counsellor.connect(url, cookie, `${csrfToken}x`)).rejects.toThrow('upgrade refused: 403');
    await expect(Counsellor.connect(url, cookie, csrfToken, 'https://evil.example')).rejects.toThrow('upgrade refused: 403');
    const fine = await Counsellor.connect(url, cookie, csrfToken, url);
    expect(await fine.next('hello')).toMatchObject({ name: 'Sam' });
    fine.socket.terminate();

    const page = await fetch(`${url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'/);
    expect((await fetch(`${url}/console/console.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${url}/console/api/session`)).status).toBe(401);
  });
});

describe('while waiting (injected clock)', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('tells a waiting person their new place when someone more urgent arrives, at most once a minute', async () => {
    let now = Date.UTC(2026, 10, 23, 10, 0);
    rig = await startRig(STAFF, {}, { now: () => now });
    const sam = await availableCounsellor(rig, 'Sam');
    const early = await atMenu(rig, 'conv-first');
    await queueUp(early);
    const urgent = await atMenu(rig, 'conv-second');
    await urgent.say('i have the pills here and im going to take them all tonight', 3);
    await urgent.say('United Kingdom', 2);
    await urgent.say('Talk to a counsellor');
    await urgent.say('Yes, find me a counsellor');
    expect((await sam.queue((e) => e.length === 2)).map((e) => e.priority)).toEqual(['suicide', 'other']);
    rig.running.runtime.desk.tick();
    await new Promise((r) => setTimeout(r, 200));
    expect(await early.replies(0)).toEqual([]);
    now += 61_000;
    rig.running.runtime.desk.tick();
    const update = await early.waitForText(/now number 2/);
    expect(texts(update)).toEqual([expect.stringMatching(/^Update: you are now number 2 in the queue \(about \d+ minutes, roughly\)\.$/)]);
  });
});

describe('when counsellors are not there', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('out of hours, says when counsellors are next on and gives other routes, without queueing (injected clock)', async () => {
    // Sunday 22 November 2026, 15:00 in London: closed all weekend in resources/handover.yaml.
    const sunday = Date.UTC(2026, 10, 22, 15, 0);
    rig = await startRig(STAFF, { HANDOVER_FILE: path.resolve('resources/handover.yaml') }, { now: () => sunday });
    const sam = await availableCounsellor(rig, 'Sam');
    const person = await atMenu(rig, 'conv-sunday');
    const reply = await person.say('talk to a person', 3);
    expect(texts(reply)[0]).toBe("Counsellors aren't on the chat right now. They're next available tomorrow at 09:00 (GMT).");
    expect(buttons(reply)).toContain('United Kingdom');
    const contacts = texts(await person.say('United Kingdom', 2)).join(' ');
    expect(contacts).toMatch(/0808 1000 900/);
    await new Promise((r) => setTimeout(r, 100));
    expect(sam.frames.filter((f) => f.type === 'queue').every((f) => f.type === 'queue' && f.entries.length === 0)).toBe(true);
  });

  it('times a long wait out and offers the other routes (injected clock)', async () => {
    let now = Date.UTC(2026, 10, 23, 10, 0);
    rig = await startRig(STAFF, {}, { now: () => now });
    const sam = await availableCounsellor(rig, 'Sam');
    const person = await atMenu(rig, 'conv-timeout');
    await queueUp(person);
    await sam.queue((e) => e.length === 1);
    now += 21 * 60_000;
    rig.running.runtime.desk.tick();
    const timedOut = await person.waitForText(/Which country/);
    expect(texts(timedOut)[0]).toMatch(/no counsellor was able to take your chat in time/);
    expect(timedOut.some((a) => a.type === 'event' && (a.value as { state: string }).state === 'failed')).toBe(true);
    await sam.queue((e) => e.length === 0);
  });

  it('with nobody signed in, gives the other routes at once', async () => {
    rig = await startRig(STAFF);
    const person = await atMenu(rig, 'conv-nobody');
    const reply = await person.say('talk to a person', 3);
    expect(texts(reply)[0]).toBe("I'm sorry, no counsellor is on the chat at the moment.");
  });
});

describe('handover to an external contact centre (HANDOVER_MODE=events)', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('sends handoff.initiate with the context card and no transcript, stays quiet while the agent chats, and resumes on handoff.status', async () => {
    rig = await startRig(STAFF, { HANDOVER_MODE: 'events' });
    expect((await fetch(`${rig.running.url}/console`)).status).toBe(404);
    const person = await atMenu(rig, 'conv-events');
    await person.say('talk to a person');
    const handed = await person.say('Yes, find me a counsellor', 2);
    const initiate = handed.find((a) => a.type === 'event' && a.name === 'handoff.initiate')!;
    expect(initiate.value).toEqual(ASKED_FOR_A_PERSON);
    expect(initiate.attachments ?? []).toEqual([]);
    expect(texts(handed)).toEqual([expect.stringMatching(/asked for a counsellor to join/)]);

    await person.post({ type: 'message', text: 'this is for the agent' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await person.replies(0)).toEqual([]);

    await person.post({ type: 'event', name: 'handoff.status', value: { state: 'completed' } });
    const back = await person.waitForText(/How helpful/);
    expect(texts(back)[0]).toMatch(/ended the chat/);
  });
});
