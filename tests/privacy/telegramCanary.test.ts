/**
 * The core promise over Telegram: canaries sent every way Telegram carries words (messages,
 * captions of media, a contact's name, button data, edited messages, groups and channels) are
 * in no stored file and no log line once the bot has stopped, and neither is the person's
 * Telegram id or the bot's token.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { FAKE_TOKEN } from '../support/fakeTelegramApi.js';
import { startTelegramRig, type TelegramRig } from '../support/telegramRig.js';

const markers: string[] = [];
/** Several words, so the privacy guard treats it as identifying text; the hex part is searched for. */
function canary(): string {
  const marker = randomBytes(6).toString('hex');
  markers.push(marker);
  return `canary ${marker} was typed here`;
}
function marker(): string {
  const value = randomBytes(6).toString('hex');
  markers.push(value);
  return value;
}

describe('canaries sent through Telegram', () => {
  let t: TelegramRig;
  // Telegram ids are long numbers; these are searched for as text.
  const chatId = 7_000_000_000 + randomInt(999_999_999);
  const groupId = -(1_000_000_000_000 + randomInt(999_999_999));

  beforeAll(async () => {
    t = await startTelegramRig();
    const person = t.person(chatId);
    const { api } = t;

    await person.say(canary());
    await person.press('Yes, continue');
    await person.say(canary());
    await person.press('Online and offline relationships');
    await person.press('3 to 5');
    await person.press('1 to 2');
    await person.say(canary());

    await person.send({ photo: [{ file_id: marker(), file_unique_id: marker(), width: 1, height: 1 }], caption: canary() });
    await person.send({ document: { file_id: marker(), file_unique_id: marker(), file_name: `${marker()}.pdf`, mime_type: 'application/pdf' }, caption: canary() });
    await person.send({ voice: { file_id: marker(), file_unique_id: marker(), duration: 2 }, caption: canary() });
    await person.send({ contact: { phone_number: `+44${randomInt(1_000_000_000, 9_999_999_999)}`, first_name: canary(), vcard: canary() } });
    await person.send({ location: { latitude: 51.50123, longitude: -0.12345 }, reply_to_message: { text: canary() } });

    // Button data a modified client could send: as if typed (a value), or naming no button at all.
    const keyboards = person.botMessages().filter((m) => (m.keyboard ?? []).length > 0);
    await pressRaw(keyboards.at(-1)!.messageId, `v:${canary()}`);
    await pressRaw(keyboards.at(-2)!.messageId, canary());

    const own = api.messages(chatId).filter((m) => m.from === 'person').at(-1)!;
    expect(await person.answerTo(() => api.personEdits(chatId, own.messageId, canary()))).toHaveLength(1);

    api.personSends(groupId, { text: canary() }, { chatType: 'group' });
    api.queueUpdate({ channel_post: { message_id: 1, date: 1, chat: { id: groupId - 1, type: 'channel', title: canary() }, text: canary() } });
    await api.waitFor(() => (api.callsTo('leaveChat').length === 2 ? true : undefined), 'the bot leaving the group and the channel');

    await person.say(`${canary()}, i'm going to kill myself tonight`);
    await person.say(canary());
    await person.say(`can i talk to a real person please ${canary()}`);
    await person.say('/forget');
    await person.press('Yes, delete everything');
    await person.say(canary());
    await t.rig.running.stop();

    async function pressRaw(messageId: number, data: string): Promise<void> {
      const before = api.callsTo('answerCallbackQuery').length;
      await person.answerTo(() => api.personPresses(chatId, messageId, data));
      expect(api.callsTo('answerCallbackQuery').length).toBe(before + 1);
    }
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  async function storedFiles(): Promise<string[]> {
    const entries = await readdir(t.rig.dataDir, { withFileTypes: true, recursive: true });
    return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  }

  it('sent every kind of update, and the bot stored something, so the search is not vacuous', async () => {
    expect(markers.length).toBeGreaterThan(25);
    expect(t.rig.logText()).toContain('"event":"media.refused"');
    expect(t.rig.logText()).toContain('"event":"risk.escalate"');
    expect(t.rig.logText()).toContain('"event":"telegram.editIgnored"');
    expect((await storedFiles()).length).toBeGreaterThan(1);
  });

  it('finds no canary, Telegram id or token in any stored file or file name', async () => {
    const secrets = [...markers, String(chatId), String(groupId), FAKE_TOKEN.split(':')[1]!];
    for (const file of await storedFiles()) {
      const text = await readFile(file, 'utf8');
      for (const secret of secrets) {
        expect(file).not.toContain(secret);
        expect(text).not.toContain(secret);
      }
    }
  });

  it('finds no canary, Telegram id or token in any log line, and no failure', () => {
    const log = t.rig.logText();
    expect(log).toContain('server.stopped');
    for (const secret of [...markers, String(chatId), String(groupId), String(Math.abs(groupId)), FAKE_TOKEN.split(':')[1]!]) expect(log).not.toContain(secret);
    for (const alarm of ['turn.failed', 'privacy.writeRefused', 'telegram.updateFailed', 'telegram.updateDropped']) expect(log).not.toContain(alarm);
  });

  it('never fetched a file, and said nothing in the group or the channel', () => {
    expect(t.api.callsTo('getFile')).toEqual([]);
    expect(t.api.calls.filter((c) => c.method === 'sendMessage' && c.params.chat_id !== chatId)).toEqual([]);
  });
});
