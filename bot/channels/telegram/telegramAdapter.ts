/**
 * The bot's side of Telegram: a person's message or button press becomes a Bot Framework turn,
 * and the bot's replies become Bot API calls (HTML text, inline keyboards, "typing…"). When the
 * bot erases the person's data, the chat's recent messages are deleted from their phone too.
 */
import {
  ActivityTypes,
  BotAdapter,
  TurnContext,
  type Activity,
  type ChannelAccount,
  type ConversationReference,
  type ResourceResponse,
} from 'botbuilder';
import type { ContentLibrary, Messages, Text } from '../../content/schema.js';
import type { Logger } from '../../privacy/logger.js';
import { DATA_ERASED_EVENT } from '../channelEvents.js';
import type { TurnRunner } from '../turnRunner.js';
import { describeFailure } from './botApiErrors.js';
import { inlineKeyboard } from './inlineKeyboards.js';
import type { RecentMessages } from './recentMessages.js';
import { toTelegramHtml } from './telegramHtml.js';
import type { TelegramSender } from './telegramSender.js';

export const TELEGRAM_CHANNEL_ID = 'telegram';
const SERVICE_URL = 'telegram://waypoint';
/** The chat's deletable messages, taken when the bot says it erased the person's data. */
const ERASED_CHAT = Symbol('telegram.erasedChat');

/** One thing the person did in their private chat, as the bot should hear it. */
export interface TelegramTurn {
  readonly type: typeof ActivityTypes.Message | typeof ActivityTypes.EndOfConversation;
  readonly chatId: number;
  readonly userId: number;
  readonly id: string;
  readonly locale: string | undefined;
  readonly text?: string;
  /** Content types only: the media itself is never fetched. */
  readonly attachmentTypes?: readonly string[];
}

export interface TelegramAdapterOptions {
  readonly bot: TurnRunner;
  readonly sender: TelegramSender;
  readonly recent: RecentMessages;
  readonly content: ContentLibrary;
  /** The bot as Telegram knows it (from getMe). */
  readonly botAccount: ChannelAccount;
  readonly log: Logger;
  /** With several instances: the chat's deletable messages the others remember (and forget as they tell). */
  readonly recentElsewhere?: (chatId: number) => Promise<number[]>;
}

export class TelegramAdapter extends BotAdapter {
  constructor(private readonly options: TelegramAdapterOptions) {
    super();
  }

  /** Runs the turn, then deletes the chat's recent messages if the bot erased the person's data in it. */
  async receive(turn: TelegramTurn): Promise<void> {
    const attachments = (turn.attachmentTypes ?? []).map((contentType) => ({ contentType }));
    const activity: Partial<Activity> = {
      type: turn.type,
      id: turn.id,
      channelId: TELEGRAM_CHANNEL_ID,
      serviceUrl: SERVICE_URL,
      timestamp: new Date(),
      locale: turn.locale,
      // The raw ids: the bot turns them into HMAC pseudonyms before anything is stored.
      conversation: { id: String(turn.chatId), isGroup: false, conversationType: 'personal', name: '' },
      from: { id: String(turn.userId), name: '', role: 'user' },
      recipient: this.options.botAccount,
      ...(turn.text !== undefined ? { text: turn.text } : {}),
      ...(attachments.length > 0 ? { attachments } : {}),
    };
    const context = new TurnContext(this, activity);
    await this.runMiddleware(context, (turnContext) => this.options.bot.run(turnContext));
    await this.finishErasure(context);
  }

  /** Says fixed words of the content to a chat, outside any turn (e.g. "I can't see edits"). */
  async say(chatId: number, locale: string | undefined, pick: (telegram: Messages['telegram']) => Text): Promise<void> {
    const text = pick(this.options.content.forLocale(locale).messages.telegram);
    for (const bubble of Array.isArray(text) ? text : [text]) await this.options.sender.sendHtml(chatId, toTelegramHtml(bubble));
  }

  override async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const chatId = chatIdOf(context.activity.conversation?.id);
    const responses: ResourceResponse[] = [];
    for (const activity of activities) responses.push({ id: await this.deliver(context, chatId, activity) });
    return responses;
  }

  override async updateActivity(): Promise<ResourceResponse | void> {
    throw new Error('The Telegram channel does not update sent messages.');
  }

  override async deleteActivity(): Promise<void> {
    throw new Error('The Telegram channel deletes messages only when the person erases their data.');
  }

  /** A counsellor's message or the desk's news, sent into the person's chat outside their turns. */
  override async continueConversation(reference: Partial<ConversationReference>, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    chatIdOf(reference.conversation?.id);
    const activity = TurnContext.applyConversationReference({ type: ActivityTypes.Event, name: 'continue' }, reference, true);
    const context = new TurnContext(this, activity);
    await this.runMiddleware(context, logic);
    await this.finishErasure(context);
  }

  private async deliver(context: TurnContext, chatId: number, activity: Partial<Activity>): Promise<string> {
    switch (activity.type) {
      case ActivityTypes.Message: {
        const pieces = activity.text ? toTelegramHtml(activity.text, activity.textFormat) : [];
        // Telegram has no message without text; the bot never sends one (it has no cards or files).
        if (pieces.length === 0) return '';
        const id = await this.options.sender.sendHtml(chatId, pieces, inlineKeyboard(activity.suggestedActions?.actions));
        return id === undefined ? '' : String(id);
      }
      case ActivityTypes.Typing:
        // Only a hint: a chat action that fails must not fail the turn or the counsellor's message.
        await this.options.sender.typing(chatId).catch((error: unknown) => this.options.log.debug({ event: 'telegram.typingFailed', ...describeFailure(error) }));
        return '';
      case ActivityTypes.Event:
        // Everything sent so far in this chat, including this turn's words, is in the list taken here.
        if (activity.name === DATA_ERASED_EVENT) context.turnState.set(ERASED_CHAT, this.options.recent.take(chatId));
        return '';
      default:
        // Hand-off status events, traces and delays mean nothing to Telegram.
        return '';
    }
  }

  /**
   * After the turn, so the bot's "Done, everything has been deleted" is not among them: deletes
   * the chat's recent messages and says honestly what that did and did not remove.
   */
  private async finishErasure(context: TurnContext): Promise<void> {
    const remembered = context.turnState.get(ERASED_CHAT) as number[] | undefined;
    if (!remembered) return;
    const chatId = chatIdOf(context.activity.conversation?.id);
    const elsewhere = this.options.recentElsewhere ? await this.options.recentElsewhere(chatId).catch(() => []) : [];
    const messageIds = elsewhere.length > 0 ? [...new Set([...remembered, ...elsewhere])].sort((a, b) => b - a) : remembered;
    const deleted = messageIds.length > 0 ? await this.options.sender.deleteMessages(chatId, messageIds) : 0;
    await this.say(chatId, context.activity.locale, (telegram) => (deleted > 0 ? telegram.forget.deleted : telegram.forget.nothingDeleted));
    await this.say(chatId, context.activity.locale, (telegram) => telegram.forget.limits);
  }
}

/** Telegram chat ids are integers (negative for groups); a conversation id is one, as text. */
function chatIdOf(conversationId: string | undefined): number {
  const chatId = Number(conversationId);
  if (!conversationId || !/^-?\d{1,20}$/.test(conversationId) || !Number.isSafeInteger(chatId)) {
    throw new Error('The conversation is not a Telegram chat.');
  }
  return chatId;
}
