import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '../support/botHarness.js';
import { startRig, texts, type Counsellor, type Person, type Rig } from '../support/liveChatRig.js';

const NINE_TO_FIVE = path.join(REPO_ROOT, 'tests/fixtures/handover/nine-to-five.yaml');
const DAY = '2025-01-15';
const MINUTE = 60_000;
/** Typed into every conversation, used in every id: none of it may reach the counts. */
const CANARY = 'canary-5c0e';
const PILLS = 'i have the pills here and im going to take them all tonight';

describe('daily counts after a scripted set of real conversations', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('stores exactly the expected counts, under known channels and languages only, with no text or id in them', async () => {
    // Closed until 09:00: the first person asks out of hours.
    let clock = Date.parse(`${DAY}T08:00:00Z`);
    rig = await startRig([{ name: 'Sam', role: 'counsellor' }], { HANDOVER_FILE: NINE_TO_FIVE }, { now: () => clock });
    const { runtime } = rig.running;
    const escalated = runtime.risk.screen(PILLS, 'en-GB');
    expect(escalated.escalate).toBe(true);

    const early = await atMenu(rig, `${CANARY}-early`, `just looking around for now ${CANARY}-early words`);
    expect(texts(await early.say('Talk to a person')).join(' ')).toMatch(/Counsellors aren't on the chat right now/);

    // Open, but no counsellor has signed in yet.
    clock = Date.parse(`${DAY}T10:00:00Z`);
    const alone = await atMenu(rig, `${CANARY}-alone`);
    expect(texts(await alone.say('Talk to a person')).join(' ')).toMatch(/no counsellor is on the chat at the moment/);

    const sam = await rig.counsellor('Sam');
    await sam.next('hello');
    sam.send({ type: 'availability', available: true });

    // A safety plan start to finish, then a counsellor, a live chat, a rating and a suggested module.
    const planner = await atMenu(rig, `${CANARY}-planner`);
    expect(texts(await planner.say('My safety plan')).join(' ')).toMatch(/warning signs/);
    await planner.say('Feeling lonely or cut off from people');
    expect(texts(await planner.say('Done')).join(' ')).toMatch(/saved in your safety plan/);
    await planner.say('Done');
    await planner.say('Done');
    await planner.say('Done');
    expect(texts(await planner.say("That's enough for today")).join(' ')).toMatch(/What would you like to do next/);
    await planner.say('Talk to a person');
    expect(texts(await planner.say('Yes, find me a counsellor')).join(' ')).toMatch(/in the queue, number 1\b/);
    clock += 3 * MINUTE;
    const chatId = await accept(sam, (entries) => entries.length === 1);
    await planner.waitForText(/Sam, a counsellor, has joined/);
    await planner.post({ type: 'message', text: `this stays between us ${CANARY}-live words` });
    await sam.next('message', (frame) => frame.chatId === chatId);
    await planner.post({ type: 'message', text: PILLS });
    await sam.next('risk', (frame) => frame.chatId === chatId);
    await sam.next('message', (frame) => frame.chatId === chatId);
    sam.send({ type: 'end', chatId, suggestModule: 'urges' });
    await planner.waitForText(/How helpful/);
    expect(texts(await planner.say('4', 2))).toEqual(['Thank you.', expect.stringMatching(/suggested the topic/)]);
    expect(texts(await planner.say('Start it')).join(' ')).toMatch(/urge/i);

    // Queued, and nobody takes the chat in time.
    const waiter = await atMenu(rig, `${CANARY}-waiter`);
    await waiter.say(`what can I do here ${CANARY}-menu words`);
    await waiter.say('Talk to a person');
    expect(texts(await waiter.say('Yes, find me a counsellor')).join(' ')).toMatch(/in the queue, number 1\b/);
    await sam.queue((entries) => entries.length === 1);
    clock += 12 * MINUTE;
    runtime.desk.tick();
    await waiter.waitForText(/no counsellor was able to take your chat in time/);

    // Asks, thinks better of it, says something alarming, and deletes everything.
    const leaver = await atMenu(rig, `${CANARY}-leaver`);
    await leaver.say('Talk to a person');
    await leaver.say('Not now');
    await leaver.say(PILLS);
    await leaver.say('delete my data');
    expect(texts(await leaver.say('Yes, delete everything')).join(' ')).toMatch(/has been deleted/);

    // Whatever a sender claims as channel and locale (anonymous /api/messages), only "other" is kept.
    const stranger = rig.person(`${CANARY}-stranger`);
    const claims = { channelId: `${CANARY}-channel`, locale: `${CANARY}-locale` };
    await stranger.post({ type: 'conversationUpdate', membersAdded: [{ id: `user-${CANARY}-stranger` }], ...claims });
    await stranger.replies(2);
    await stranger.post({ type: 'message', text: 'Yes, continue', ...claims });
    await stranger.replies(1);

    const e = (event: string) => `emulator|en|${event}`;
    const expected = {
      [e('conversation.started')]: 5,
      [e('consent.given')]: 5,
      [e('handover.requested')]: 5,
      [e('handover.outOfHours')]: 1,
      [e('handover.nobodyOnline')]: 1,
      [e('handover.queued')]: 2,
      [e('handover.connected')]: 1,
      [e('handover.waited.1to5m')]: 1,
      [e('handover.timedOut')]: 1,
      [e('handover.rating.4')]: 1,
      [e('module.started.safety-plan')]: 1,
      [e('safetyPlan.created')]: 1,
      [e('module.completed.safety-plan')]: 1,
      [e('module.started.urges')]: 1,
      // Once in the live chat (flagged to the counsellor), once at the menu.
      [e(`escalation.${escalated.category}.${escalated.level}`)]: 2,
      [e('data.deleted')]: 1,
      'other|other|conversation.started': 1,
      'other|other|consent.given': 1,
    };
    // What the supervisor dashboard reads, before anything is written.
    expect(await runtime.counts.day(DAY)).toEqual(expected);

    // Stopping flushes the tallies; then the files on disk are the truth.
    await rig.running.stop();
    const records = await storedRecords(rig.dataDir);
    const aggregates = records.filter(({ record }) => String(record.key).startsWith('aggregates/'));
    expect(aggregates).toHaveLength(1);
    const [{ record, text }] = aggregates as [{ record: Record<string, unknown>; text: string }];
    expect(record).toEqual({ key: `aggregates/${DAY}`, savedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), eTag: expect.any(String), value: { counts: expected } });
    for (const canary of [CANARY, 'user-', 'pills', 'en-GB', 'Sam']) expect(text).not.toContain(canary);
    // Nor anywhere else on disk: the canaries were typed, not chosen.
    for (const file of records) expect(file.text).not.toContain(CANARY);
  });
});

/** Joins, answers the welcome (with `firstWords` first, if given), and agrees to the terms. */
async function atMenu(rig: Rig, conversationId: string, firstWords?: string): Promise<Person> {
  const person = rig.person(conversationId);
  await person.join();
  if (firstWords) await person.say(firstWords);
  expect(texts(await person.say('Yes, continue')).join(' ')).toMatch(/./);
  return person;
}

async function accept(counsellor: Counsellor, where: Parameters<Counsellor['queue']>[0]): Promise<string> {
  const [entry] = await counsellor.queue(where);
  counsellor.send({ type: 'accept', ticket: entry!.ticket });
  return (await counsellor.next('chat.opened')).chat.chatId;
}

/** Every record file under the data folder, parsed and raw. */
async function storedRecords(dir: string): Promise<{ record: Record<string, unknown>; text: string }[]> {
  const entries = await readdir(path.join(dir, 'state'), { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile() && entry.name.endsWith('.json'));
  return Promise.all(
    files.map(async (entry) => {
      const text = await readFile(path.join(entry.parentPath, entry.name), 'utf8');
      return { record: JSON.parse(text) as Record<string, unknown>, text };
    }),
  );
}
