/**
 * A whole Waypoint with its Telegram channel pointed at the fake Bot API, and people who chat
 * on it the way Telegram would report them: typing, tapping buttons, sending photos. Built on
 * the live-chat rig, so counsellors can sign in to the console too.
 */
import { FAKE_TOKEN, FakeTelegramApi, type ChatMessage, type InlineButton } from './fakeTelegramApi.js';
import { startRig, type Rig } from './liveChatRig.js';
import type { StaffRole } from '../../bot/handover/staffAccounts.js';
import type { TelegramChannel } from '../../bot/channels/telegram/telegramChannel.js';

const WAIT_MS = 5000;
/** A burst of replies has ended when nothing more has come for this long. */
const QUIET_MS = 60;

export interface TelegramRig {
  readonly api: FakeTelegramApi;
  readonly rig: Rig;
  person(chatId: number, languageCode?: string): TelegramPerson;
  close(): Promise<void>;
}

export async function startTelegramRig(env: Record<string, string> = {}, staff: readonly { name: string; role: StaffRole }[] = []): Promise<TelegramRig> {
  const api = await FakeTelegramApi.start();
  let rig: Rig;
  try {
    rig = await startRig(staff, { TELEGRAM_BOT_TOKEN: FAKE_TOKEN, TELEGRAM_API_ROOT: api.apiRoot, ...env });
  } catch (error) {
    await api.close();
    throw error;
  }
  const channel = rig.running.telegram;
  if (!channel) {
    await rig.close();
    await api.close();
    throw new Error('the Telegram channel did not start');
  }
  const finished = finishedInChat(api, channel);
  return {
    api,
    rig,
    person: (chatId, languageCode = 'en') => new TelegramPerson(api, chatId, languageCode, finished),
    async close() {
      await rig.close();
      await api.close();
    },
  };
}

/** Does `act`, which causes exactly one update in the chat, and resolves once the bot has finished with that update. */
export type UpdateFinished = (chatId: number, act: () => unknown) => Promise<void>;

/**
 * Exact, for a Waypoint in this process: once the bot has taken the update in, it is finished
 * when the chat's queue is empty. Other chats (one waiting out a rate limit, a group the bot is
 * leaving) neither speed this up nor hold it back.
 */
function finishedInChat(api: FakeTelegramApi, channel: TelegramChannel): UpdateFinished {
  return async (chatId, act) => {
    const before = api.lastUpdateId;
    act();
    const updateId = api.lastUpdateId;
    if (updateId !== before + 1) throw new Error(`expected one update in chat ${chatId}, got ${updateId - before}`);
    const deadline = Date.now() + WAIT_MS;
    await api.waitFor(() => (api.takenIn(updateId) ? true : undefined), `the bot to take in update ${updateId} of chat ${chatId}`, WAIT_MS);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`waited ${WAIT_MS} ms for the bot to finish update ${updateId} of chat ${chatId}`)), Math.max(deadline - Date.now(), 0));
    });
    try {
      await Promise.race([channel.idle(chatId), late]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * For Waypoints in other processes, where only their output can be read: the update is finished
 * when one more `telegram.updateHandled` (debug) or `updateFailed` line has appeared. Counted over
 * every chat, so it is exact only while a single update at a time is on its way through the bot.
 */
export function finishedByLogLines(api: FakeTelegramApi, handled: () => number): UpdateFinished {
  return async (chatId, act) => {
    const target = handled() + 1;
    act();
    await api.waitFor(() => (handled() >= target ? true : undefined), `the bot to finish an update of chat ${chatId}`, WAIT_MS);
  };
}

/** One person in their private chat with the bot. */
export class TelegramPerson {
  private lastSeen = 0;

  constructor(
    readonly api: FakeTelegramApi,
    readonly chatId: number,
    readonly languageCode: string,
    private readonly finished: UpdateFinished,
  ) {}

  /** Types a message; resolves to the texts of the bot's replies, once the bot has finished with it. */
  say(text: string): Promise<string[]> {
    return this.send({ text });
  }

  /** Sends any message fields (a photo, a caption…); resolves to the bot's replies. */
  send(fields: Record<string, unknown>): Promise<string[]> {
    return this.answerTo(() => this.api.personSends(this.chatId, fields, { languageCode: this.languageCode }));
  }

  /** Taps the button with this label under the bot's latest message that has it. */
  press(label: string): Promise<string[]> {
    return this.answerTo(() => this.pressWithoutWaiting(label));
  }

  /** Taps and returns the callback query's id, without waiting for replies. */
  pressWithoutWaiting(label: string): { callbackId: string; messageId: number } {
    const message = [...this.botMessages()].reverse().find((m) => this.buttonOf(m, label));
    if (!message) throw new Error(`no button "${label}" in chat ${this.chatId}; buttons now: ${JSON.stringify(this.buttons())}`);
    const button = this.buttonOf(message, label)!;
    const callbackId = this.api.personPresses(this.chatId, message.messageId, button.callback_data!, { languageCode: this.languageCode });
    return { callbackId, messageId: message.messageId };
  }

  /** The labels under the bot's latest message that still has a keyboard. */
  buttons(): string[] {
    const withKeyboard = this.botMessages().filter((m) => (m.keyboard ?? []).length > 0).at(-1);
    return (withKeyboard?.keyboard ?? []).flat().map((b) => b.text);
  }

  /** Bot messages still in the chat (not deleted). */
  botMessages(): ChatMessage[] {
    return this.api.messages(this.chatId).filter((m) => m.from === 'bot' && !m.deleted);
  }

  /** Waits for at least `count` new bot messages, then for the rest of the burst (for messages no update of the person's caused). */
  async replies(count = 1): Promise<string[]> {
    const fresh = () => this.api.messages(this.chatId).filter((m) => m.from === 'bot' && m.messageId > this.lastSeen);
    await this.api.waitFor(() => (fresh().length >= count ? true : undefined), `${count} replies in chat ${this.chatId}`, WAIT_MS);
    let seen = fresh().length;
    for (;;) {
      await new Promise((r) => setTimeout(r, QUIET_MS));
      if (fresh().length === seen) break;
      seen = fresh().length;
    }
    const burst = fresh();
    this.lastSeen = burst.at(-1)?.messageId ?? this.lastSeen;
    return burst.map((m) => m.text);
  }

  /** Waits for a new bot message matching `pattern`; resolves to everything new up to the end of that burst. */
  async waitForText(pattern: RegExp): Promise<string[]> {
    await this.api.waitFor(
      () => (this.api.messages(this.chatId).some((m) => m.from === 'bot' && m.messageId > this.lastSeen && pattern.test(m.text)) ? true : undefined),
      `a reply matching ${pattern} in chat ${this.chatId}`,
      WAIT_MS,
    );
    return this.replies();
  }

  /**
   * Does `act`, which causes one update in this chat (a raw press, an edit), and resolves to the
   * replies once the channel has finished with it: none is still on its way.
   */
  async answerTo(act: () => unknown): Promise<string[]> {
    await this.finished(this.chatId, act);
    const burst = this.api.messages(this.chatId).filter((m) => m.from === 'bot' && m.messageId > this.lastSeen);
    this.lastSeen = burst.at(-1)?.messageId ?? this.lastSeen;
    return burst.map((m) => m.text);
  }

  private buttonOf(message: ChatMessage, label: string): InlineButton | undefined {
    return (message.keyboard ?? []).flat().find((b) => b.text === label && b.callback_data !== undefined);
  }
}
