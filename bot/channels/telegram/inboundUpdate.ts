/**
 * What a Telegram update means for Waypoint, read at the door. Only what the bot uses passes:
 * chat and user ids (pseudonymised by the bot before anything is stored), the language, the
 * text or button pressed, and of a photo, file, voice message, sticker, location or contact
 * only which kind it was, so the bot can say it cannot take them without anything being
 * fetched. A caption is words the person typed, so it passes as the message's text (screened,
 * never stored, like any text). Names, usernames, phone numbers, file ids and everything else
 * stay behind.
 */
import type { Message, Update } from 'grammy/types';
import { choiceFromCallback } from './inlineKeyboards.js';

/** Private chats only: in a group or channel other people would read the conversation. */
export type Inbound =
  /** The person wrote (or sent something the bot refuses). */
  | {
      readonly kind: 'message';
      readonly chatId: number;
      readonly userId: number;
      readonly messageId: number;
      /** When Telegram received it (ms), for how long it can still be deleted. */
      readonly sentAt: number;
      readonly locale: string | undefined;
      readonly text: string | undefined;
      readonly attachmentTypes: readonly string[];
    }
  /** The person pressed a button; `text` is undefined when the data names no button of ours. */
  | {
      readonly kind: 'button';
      readonly chatId: number;
      readonly userId: number;
      readonly callbackId: string;
      /** The message that carries the keyboard, when Telegram still says which it is. */
      readonly messageId: number | undefined;
      readonly locale: string | undefined;
      readonly text: string | undefined;
    }
  /** A button under a message that is not in a private chat: answered, nothing else. */
  | { readonly kind: 'strayButton'; readonly callbackId: string }
  /** The person changed a message they had sent. */
  | { readonly kind: 'edited'; readonly chatId: number; readonly locale: string | undefined }
  /** Anything from a group, supergroup or channel: the bot leaves. */
  | { readonly kind: 'notPrivate'; readonly chatId: number; readonly chatType: string }
  /** The person blocked the bot (or deleted the chat with "stop bot"). */
  | { readonly kind: 'blocked'; readonly chatId: number; readonly userId: number }
  | { readonly kind: 'ignored' };

/**
 * Fixed content types per kind of media: the bot is told what kind arrived, never anything the
 * sender chose (a file name, a MIME type, a caption's entities).
 */
const MEDIA_TYPES: Readonly<Record<string, string>> = {
  photo: 'image/jpeg',
  sticker: 'image/webp',
  animation: 'video/mp4',
  video: 'video/mp4',
  video_note: 'video/mp4',
  voice: 'audio/ogg',
  audio: 'audio/mpeg',
  document: 'application/octet-stream',
  paid_media: 'application/octet-stream',
  story: 'application/vnd.telegram.story',
  location: 'application/vnd.telegram.location',
  venue: 'application/vnd.telegram.location',
  contact: 'text/vcard',
  poll: 'application/vnd.telegram.poll',
  dice: 'application/vnd.telegram.dice',
  game: 'application/vnd.telegram.game',
  checklist: 'application/vnd.telegram.checklist',
};

const LANGUAGE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/;

/** The update types the bot asks Telegram for. */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query', 'my_chat_member', 'channel_post', 'edited_channel_post'] as const;

export function readUpdate(update: Update): Inbound {
  if (update.message) return readMessage(update.message);
  if (update.callback_query) {
    const query = update.callback_query;
    const chat = query.message?.chat;
    if (chat && chat.type !== 'private') return { kind: 'strayButton', callbackId: query.id };
    if (query.inline_message_id !== undefined || !isId(query.from?.id)) return { kind: 'strayButton', callbackId: query.id };
    // Telegram leaves out the content of a message too old to show (date 0): then there is no keyboard to read.
    const keyboard = query.message && query.message.date !== 0 ? (query.message as Message).reply_markup : undefined;
    const messageId = query.message?.message_id;
    return {
      kind: 'button',
      chatId: chat && isId(chat.id) ? chat.id : query.from.id,
      userId: query.from.id,
      callbackId: query.id,
      messageId: typeof messageId === 'number' ? messageId : undefined,
      locale: languageOf(query.from.language_code),
      text: choiceFromCallback(query.data, keyboard),
    };
  }
  const edited = update.edited_message ?? update.edited_business_message;
  if (edited && isId(edited.chat?.id)) {
    return edited.chat.type === 'private' ? { kind: 'edited', chatId: edited.chat.id, locale: languageOf(edited.from?.language_code) } : notPrivate(edited.chat);
  }
  const post = update.channel_post ?? update.edited_channel_post;
  if (post && isId(post.chat?.id)) return notPrivate(post.chat);
  const member = update.my_chat_member;
  if (member && isId(member.chat?.id)) {
    if (member.chat.type !== 'private') {
      // Added to a group or channel: leave. Removed from one: there is nothing to leave.
      const present = ['member', 'administrator', 'restricted'].includes(member.new_chat_member.status);
      return present ? notPrivate(member.chat) : { kind: 'ignored' };
    }
    if (member.new_chat_member.status === 'kicked' && isId(member.from?.id)) return { kind: 'blocked', chatId: member.chat.id, userId: member.from.id };
  }
  return { kind: 'ignored' };
}

function readMessage(message: Message): Inbound {
  if (!isId(message.chat?.id) || typeof message.message_id !== 'number') return { kind: 'ignored' };
  if (message.chat.type !== 'private') return notPrivate(message.chat);
  const attachmentTypes = Object.keys(MEDIA_TYPES)
    .filter((kind) => (message as unknown as Record<string, unknown>)[kind] !== undefined)
    .map((kind) => MEDIA_TYPES[kind]!);
  const text = typeof message.text === 'string' ? message.text : typeof message.caption === 'string' ? message.caption : undefined;
  // Service messages (an auto-delete timer set, a message pinned) are not the person talking.
  if (text === undefined && attachmentTypes.length === 0) return { kind: 'ignored' };
  return {
    kind: 'message',
    chatId: message.chat.id,
    userId: isId(message.from?.id) ? message.from.id : message.chat.id,
    messageId: message.message_id,
    sentAt: typeof message.date === 'number' ? message.date * 1000 : Date.now(),
    locale: languageOf(message.from?.language_code),
    text,
    attachmentTypes,
  };
}

function notPrivate(chat: { id: number; type: string }): Inbound {
  return { kind: 'notPrivate', chatId: chat.id, chatType: typeof chat.type === 'string' ? chat.type : 'unknown' };
}

function languageOf(code: unknown): string | undefined {
  return typeof code === 'string' && LANGUAGE.test(code) ? code : undefined;
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}
