import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../bot/config.js';
import { startWaypoint } from '../../../bot/index.js';
import type { Messages } from '../../../bot/content/schema.js';
import { FAKE_TOKEN, FakeTelegramApi } from '../../support/fakeTelegramApi.js';
import { captureLog } from '../../support/capturedLog.js';
import { REPO_ROOT } from '../../support/botHarness.js';
import { startTelegramRig, type TelegramPerson, type TelegramRig } from '../../support/telegramRig.js';
import { TELEGRAM_TEXT_LIMIT } from '../../../bot/channels/telegram/telegramHtml.js';
import { MAX_MESSAGE_LENGTH } from '../../../bot/handover/consoleFrames.js';

const HOOK_PATH = '/telegram/hook-6f1c2a';
const SECRET = 'a-webhook-secret-for-the-tests-only';
const asList = (text: string | readonly string[]) => (Array.isArray(text) ? [...text] : [text as string]);

describe('Waypoint on Telegram, by long polling', () => {
  let t: TelegramRig;
  let messages: Messages;
  let nextChat = 1000;

  /** A person in a fresh private chat who has agreed to the terms and sees the menu. */
  async function atMenu(): Promise<TelegramPerson> {
    const person = t.person(nextChat++);
    await person.say('/start');
    await person.press(messages.consent.agree);
    return person;
  }

  beforeAll(async () => {
    t = await startTelegramRig({}, [{ name: 'Sam', role: 'counsellor' }]);
    messages = t.rig.running.runtime.content.forLocale('en').messages;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('checks the token, registers the command menu in the words of messages.yaml and polls', async () => {
    expect(t.api.callsTo('getMe')).toHaveLength(1);
    expect(t.api.callsTo('deleteWebhook')).toHaveLength(1);
    const [commands] = t.api.callsTo('setMyCommands');
    expect(commands!.params.commands).toEqual([
      { command: 'start', description: messages.telegram.commands.start },
      { command: 'menu', description: messages.telegram.commands.menu },
      { command: 'help', description: messages.telegram.commands.help },
      { command: 'human', description: messages.telegram.commands.human },
      { command: 'forget', description: messages.telegram.commands.forget },
      { command: 'exit', description: messages.telegram.commands.exit },
    ]);
    const poll = await t.api.waitFor(() => t.api.callsTo('getUpdates')[0], 'the first getUpdates');
    expect(poll.params).toMatchObject({ timeout: 30, allowed_updates: expect.arrayContaining(['message', 'callback_query', 'edited_message', 'my_chat_member']) });
    expect(t.rig.logText()).toContain('"event":"telegram.started","mode":"polling"');
    expect(t.rig.logText()).not.toContain(FAKE_TOKEN.split(':')[1]);
  });

  it('goes from /start through consent by button presses, answering each press and removing the pressed keyboard', async () => {
    const person = t.person(nextChat++);
    const welcome = await person.say('/start');
    expect(welcome).toEqual([...asList(messages.welcome), ...asList(messages.consent.text), messages.consent.question]);
    expect(person.buttons()).toEqual([messages.consent.agree, messages.consent.decline]);
    const question = person.botMessages().at(-1)!;
    // HTML with the quotes escaped, sent without link previews.
    const sent = t.api.callsTo('sendMessage', person.chatId).at(-1)!;
    expect(sent.params).toMatchObject({ parse_mode: 'HTML', link_preview_options: { is_disabled: true } });

    const { callbackId } = person.pressWithoutWaiting(messages.consent.agree);
    const menu = await person.replies();
    expect(menu).toEqual([messages.menu.prompt]);
    expect(t.api.callsTo('answerCallbackQuery').map((c) => c.params.callback_query_id)).toContain(callbackId);
    expect(t.api.callsTo('editMessageReplyMarkup', person.chatId)).toEqual([
      expect.objectContaining({ params: expect.objectContaining({ message_id: question.messageId, reply_markup: { inline_keyboard: [] } }) }),
    ]);
    expect(question.keyboard).toEqual([]);
    expect(person.buttons()).toContain(messages.menu.talkToPerson);

    // The same old button again (a double tap, or a client that kept it): answered, and nothing happens.
    const again = t.api.personPresses(person.chatId, question.messageId, `v:${messages.consent.agree}`);
    await t.api.waitFor(() => (t.api.callsTo('answerCallbackQuery').some((c) => c.params.callback_query_id === again) ? true : undefined), 'the second press answered');
    await new Promise((r) => setTimeout(r, 150));
    expect(person.botMessages().filter((m) => m.messageId > question.messageId)).toHaveLength(1);
  });

  it('walks a module with buttons and a typed reflective answer', async () => {
    const person = await atMenu();
    const module = await person.press('Online and offline relationships');
    expect(module.at(-1)).toMatch(/how many people would you call significant in your online world/);
    expect(person.buttons()).toEqual(['None', '1 to 2', '3 to 5', 'More than 5']);
    await person.press('3 to 5');
    const reflect = await person.press('1 to 2');
    expect(reflect.join(' ')).toMatch(/What good things do you get from these relationships/);
    const acknowledged = await person.say('Company, and someone who listens when I am low.');
    expect(messages.reflect.acknowledgements).toContain(acknowledged[0]);
  });

  it('answers a crisis message with the crisis response', async () => {
    const person = await atMenu();
    const crisis = await person.say("i'm going to kill myself tonight");
    expect(crisis.slice(0, 2)).toEqual(asList(messages.safety.crisis.opening));
    // The person's country is not known yet: emergency numbers for everywhere, and the question.
    expect(crisis.slice(2)).toEqual([messages.helplines.emergencyUnknown, messages.helplines.countryQuestion]);
  });

  it('runs the updates of one chat in order', async () => {
    const person = await atMenu();
    t.api.personSends(person.chatId, { text: '/help' });
    t.api.personSends(person.chatId, { text: '/menu' });
    const replies = await person.replies(asList(messages.help).length + 1);
    expect(replies.slice(0, asList(messages.help).length)).toEqual(asList(messages.help).map((line) => line.replace(/^- /gm, '• ')));
    expect(replies.at(-1)).toBe(messages.menu.prompt);
  });

  it('on /forget deletes the recent messages of the chat, both sides, and says what it could not delete', async () => {
    const person = await atMenu();
    await person.say('/help');
    const confirm = await person.say('/forget');
    expect(confirm).toEqual(asList(messages.deleteData.confirmPrompt));
    const before = t.api.messages(person.chatId).length;
    const after = await person.press(messages.deleteData.confirm);
    expect(after).toEqual([...asList(messages.deleteData.done), ...asList(messages.telegram.forget.deleted), ...asList(messages.telegram.forget.limits)]);

    const chat = t.api.messages(person.chatId);
    // Everything up to the confirmation is gone from the phone: the bot's messages and the person's own.
    expect(chat.slice(0, before).filter((m) => !m.deleted)).toEqual([]);
    expect(chat.slice(0, before).some((m) => m.from === 'person')).toBe(true);
    expect(t.api.callsTo('deleteMessage', person.chatId)).toHaveLength(before);
    // What it says afterwards stays.
    expect(chat.slice(before).every((m) => !m.deleted)).toBe(true);
    expect(t.rig.logText()).toMatch(/"event":"telegram.messagesDeleted","deleted":\d+,"refused":0/);

    // The person starts afresh: their consent was erased with the rest.
    expect(await person.say('/start')).toContain(messages.consent.question);
  });

  it('refuses photos, files, voice, video, stickers, locations and contacts without ever fetching them', async () => {
    const person = await atMenu();
    const media: Record<string, unknown>[] = [
      { photo: [{ file_id: 'photo-file-id', file_unique_id: 'p1', width: 90, height: 90 }] },
      { document: { file_id: 'document-file-id', file_unique_id: 'd1', file_name: 'notes.pdf', mime_type: 'application/pdf' } },
      { voice: { file_id: 'voice-file-id', file_unique_id: 'v1', duration: 3 } },
      { video: { file_id: 'video-file-id', file_unique_id: 'v2', width: 1, height: 1, duration: 1 } },
      { sticker: { file_id: 'sticker-file-id', file_unique_id: 's1', type: 'regular', width: 1, height: 1, is_animated: false, is_video: false } },
      { location: { latitude: 51.5, longitude: -0.12 } },
      { contact: { phone_number: '+447700900123', first_name: 'Someone' } },
    ];
    for (const fields of media) {
      const replies = await person.send(fields);
      expect(replies.slice(0, asList(messages.media.refused).length)).toEqual(asList(messages.media.refused));
      // The open question comes again, so there are buttons to tap.
      expect(person.buttons()).toContain(messages.menu.talkToPerson);
    }
    expect(t.api.callsTo('getFile')).toEqual([]);
    expect(t.rig.logText()).not.toMatch(/file-id|notes\.pdf|447700900123/);
  });

  it('leaves groups and channels without a word, and never runs a turn for them', async () => {
    const group = -100_000_000_001;
    t.api.personSends(group, { text: '/start' }, { chatType: 'supergroup' });
    t.api.queueUpdate({
      my_chat_member: {
        chat: { id: -42, type: 'group', title: 'A group' },
        from: { id: 77, is_bot: false, first_name: 'Someone' },
        date: 1,
        old_chat_member: { status: 'left', user: { id: 123456789, is_bot: true, first_name: 'Waypoint' } },
        new_chat_member: { status: 'member', user: { id: 123456789, is_bot: true, first_name: 'Waypoint' } },
      },
    });
    t.api.queueUpdate({ channel_post: { message_id: 1, date: 1, chat: { id: -100_000_000_002, type: 'channel', title: 'A channel' }, text: 'hello' } });
    await t.api.waitFor(() => (t.api.callsTo('leaveChat').length === 3 ? true : undefined), 'three leaveChat calls');
    expect(t.api.callsTo('leaveChat').map((c) => c.params.chat_id)).toEqual([group, -42, -100_000_000_002]);
    expect(t.api.calls.filter((c) => c.method === 'sendMessage' && (c.params.chat_id as number) < 0)).toEqual([]);
  });

  it('says it only reads new messages when a message is edited, and does nothing else with the edit', async () => {
    const person = await atMenu();
    const sent = t.api.messages(person.chatId).filter((m) => m.from === 'person').at(-1)!;
    expect(await person.answerTo(() => t.api.personEdits(person.chatId, sent.messageId, 'Online and offline relationships'))).toEqual([messages.telegram.editedMessage]);
  });

  it('waits out a 429 on one chat as Telegram asks, while another chat carries on', async () => {
    const slow = t.person(nextChat++);
    const fast = t.person(nextChat++);
    t.api.failNext('sendMessage', { chatId: slow.chatId, errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });
    const welcome = [...asList(messages.welcome), ...asList(messages.consent.text), messages.consent.question];
    const slowAnswered = slow.say('/start');
    await t.api.waitFor(() => (t.api.callsTo('sendMessage', slow.chatId).length > 0 ? true : undefined), 'the refused send');
    expect(await fast.say('/start')).toEqual(welcome);
    // The other chat finishing first does not count as this one finishing: its replies are whole.
    expect(await slowAnswered).toEqual(welcome);

    const [refused, retried] = t.api.callsTo('sendMessage', slow.chatId);
    expect(refused!.status).toBe(429);
    expect(retried!.status).toBe(200);
    expect(retried!.params.text).toBe(refused!.params.text);
    expect(retried!.at - refused!.at).toBeGreaterThanOrEqual(950);
    // The other chat was answered in full while this one waited.
    const fastSends = t.api.callsTo('sendMessage', fast.chatId);
    expect(fastSends.at(-1)!.at).toBeLessThan(retried!.at);
    expect(t.rig.logText()).toContain('"event":"telegram.rateLimited","retryAfterSeconds":1');
  });

  it('keeps a failure in one chat to that chat: the person gets a calm message, the log an error id, others carry on', async () => {
    const failing = await atMenu();
    const other = await atMenu();
    // A Bot API failure inside the bot's turn: the bot recovers with its calm message.
    t.api.failNext('sendMessage', { chatId: failing.chatId, errorCode: 400, description: 'Bad Request: something unexpected' });
    expect(await failing.say('/help')).toEqual(asList(messages.error.somethingWentWrong));
    expect(await other.say('/help')).toEqual([...asList(messages.help).map((line) => line.replace(/^- /gm, '• ')), messages.menu.prompt]);
    expect(t.rig.logText()).toMatch(/"event":"turn.failed","errorId":"[0-9a-f]{8}"/);

    // A failure in the channel itself (here the note on an edit cannot be sent): logged, and the chat's next update still runs.
    t.api.failNext('sendMessage', { chatId: failing.chatId, errorCode: 403, description: 'Forbidden: bot was blocked by the user' });
    const edited = t.api.messages(failing.chatId).filter((m) => m.from === 'person').at(-1)!;
    expect(await failing.answerTo(() => t.api.personEdits(failing.chatId, edited.messageId, 'changed'))).toEqual([]);
    expect(t.rig.logText()).toMatch(/"event":"telegram.updateFailed","errorId":"[0-9a-f]{8}","kind":"edited","method":"sendMessage","errorCode":403/);
    expect(await failing.say('/menu')).toEqual([messages.menu.prompt]);
  });

  it('puts the person through to a counsellor, whose messages reach their chat without them writing first', async () => {
    const sam = await t.rig.counsellor('Sam');
    await sam.next('hello');
    sam.send({ type: 'availability', available: true });

    const person = t.person(nextChat++, 'en');
    await person.say('/start');
    await person.press('Yes, continue');
    await person.say('/human');
    expect(person.buttons()).toEqual(['Yes, find me a counsellor', 'Not now']);
    expect((await person.press('Yes, find me a counsellor'))[0]).toMatch(/You're in the queue, number 1/);

    const [entry] = await sam.queue((entries) => entries.length === 1);
    expect(entry!.card).toMatchObject({ channel: 'telegram', locale: 'en', reason: { category: 'human' } });
    sam.send({ type: 'accept', ticket: entry!.ticket });
    const { chatId } = (await sam.next('chat.opened')).chat;
    expect((await person.waitForText(/Sam, a counsellor, has joined/))[0]).toBe('Sam, a counsellor, has joined the chat.');

    // Proactive: the counsellor writes, the person has said nothing since. The longest message the
    // console takes, full of characters HTML must escape, still fits one Telegram message: the
    // limit counts what is shown, not the HTML.
    const longest = `Take your time <3 & say what you like. ${'<&> '.repeat(1000)}`.slice(0, MAX_MESSAGE_LENGTH).trim();
    sam.send({ type: 'message', chatId, text: longest, ref: 'r1' });
    expect(await sam.next('delivered')).toEqual({ type: 'delivered', chatId, ref: 'r1' });
    const shown = await person.replies();
    expect(shown).toEqual([`Sam: ${longest}`]);
    expect(shown[0]!.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);

    sam.send({ type: 'typing', chatId });
    await t.api.waitFor(() => t.api.callsTo('sendChatAction', person.chatId).find((c) => c.params.action === 'typing'), 'a typing action');

    // Relayed to the counsellor; the bot itself says nothing.
    t.api.personSends(person.chatId, { text: 'thank you, that helps' });
    expect(await sam.next('message')).toEqual({ type: 'message', chatId, text: 'thank you, that helps' });

    sam.send({ type: 'end', chatId });
    await person.waitForText(/The counsellor has ended the chat/);
  });
});

describe('Telegram start-up', () => {
  it('refuses to start with a token the Bot API rejects, without writing the token anywhere', async () => {
    const api = await FakeTelegramApi.start();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-telegram-'));
    const { log, text } = captureLog();
    const wrongToken = '987654321:a-token-the-server-does-not-know';
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      CONTENT_DIR: `${REPO_ROOT}/resources/content`,
      TELEGRAM_BOT_TOKEN: wrongToken,
      TELEGRAM_API_ROOT: api.apiRoot,
    });
    try {
      await expect(startWaypoint(config, log)).rejects.toMatchObject({ code: 'TELEGRAM_START_FAILED', message: expect.stringContaining('401') });
      expect(text()).toContain('"event":"telegram.startFailed","method":"getMe","errorCode":401');
      expect(text()).not.toContain('a-token-the-server-does-not-know');
    } finally {
      await api.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('Waypoint on Telegram, by webhook', () => {
  let t: TelegramRig;
  let url: string;

  async function post(headers: Record<string, string>, body: unknown): Promise<Response> {
    return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  }

  function update(chatId: number, text: string, updateId: number): Record<string, unknown> {
    return {
      update_id: updateId,
      message: { message_id: 1, date: 1, chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: 'Someone', language_code: 'en' }, text },
    };
  }

  beforeAll(async () => {
    t = await startTelegramRig({ TELEGRAM_WEBHOOK_URL: `https://bot.example.org${HOOK_PATH}`, TELEGRAM_WEBHOOK_SECRET: SECRET });
    url = `${t.rig.running.url}${HOOK_PATH}`;
    t.api.deliverWebhookTo(url);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('sets the webhook with its secret, and never polls', () => {
    expect(t.api.callsTo('setWebhook')).toEqual([
      expect.objectContaining({
        params: expect.objectContaining({ url: `https://bot.example.org${HOOK_PATH}`, secret_token: SECRET, allowed_updates: expect.arrayContaining(['message', 'callback_query']) }),
      }),
    ]);
    expect(t.api.callsTo('getUpdates')).toEqual([]);
    expect(t.api.callsTo('deleteWebhook')).toEqual([]);
    expect(t.rig.logText()).toContain('"event":"telegram.started","mode":"webhook"');
    expect(t.rig.logText()).not.toContain(SECRET);
  });

  it('answers updates Telegram delivers with the secret, with buttons that work', async () => {
    const person = t.person(5001);
    const welcome = await person.say('/start');
    expect(welcome.at(-1)).toBe('Are you happy to continue on that basis?');
    expect(await person.press('Yes, continue')).toEqual([expect.stringMatching(/^What would you like to look at/)]);
    expect(await Promise.all(t.api.deliveries)).toEqual([200, 200]);
  });

  it.each([
    ['without the secret header', {}],
    ['with a wrong secret', { 'X-Telegram-Bot-Api-Secret-Token': 'a-webhook-secret-for-the-tests-onlY' }],
  ])('refuses an update %s (401) and runs no turn', async (_name, headers) => {
    const res = await post(headers, update(5002, '/start', 900));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'TELEGRAM_SECRET_INVALID', message: expect.any(String) } });
    await new Promise((r) => setTimeout(r, 100));
    expect(t.api.callsTo('sendMessage', 5002)).toEqual([]);
  });

  it('refuses a body that is not an update, and other methods', async () => {
    const res = await post({ 'X-Telegram-Bot-Api-Secret-Token': SECRET }, { hello: 'world' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    const get = await fetch(url);
    expect(get.status).toBe(405);
  });

  it('answers Telegram before the turn has finished, so a slow turn never makes it resend', async () => {
    // The turn's first message meets a rate limit: the turn takes over a second.
    t.api.failNext('sendMessage', { chatId: 5003, errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });
    const started = Date.now();
    const res = await post({ 'X-Telegram-Bot-Api-Secret-Token': SECRET }, update(5003, '/start', 901));
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(500);
    await t.person(5003).waitForText(/Are you happy to continue/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});
