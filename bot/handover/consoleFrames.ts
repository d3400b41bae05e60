/**
 * The console's WebSocket language, both ways. What a browser sends is parsed against a strict
 * schema before the desk sees it, so a malformed or hostile frame becomes an error frame and
 * never an exception.
 */
import { z } from 'zod';
import type { ContextCard, Priority } from './contextCard.js';
import type { RiskCategory, RiskLevel } from '../risk/riskScreen.js';

/** Long enough for any chat message, short enough that one frame cannot hog memory. */
export const MAX_MESSAGE_LENGTH = 4000;

const id = z.string().min(1).max(100);

export const consoleRequestSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('availability'), available: z.boolean() }),
  z.strictObject({ type: z.literal('accept'), ticket: id }),
  z.strictObject({
    type: z.literal('message'),
    chatId: id,
    text: z.string().trim().min(1).max(MAX_MESSAGE_LENGTH),
    ref: z.string().max(100).optional(),
  }),
  z.strictObject({ type: z.literal('typing'), chatId: id }),
  z.strictObject({ type: z.literal('end'), chatId: id, suggestModule: z.string().max(100).optional() }),
]);

export type ConsoleRequest = z.output<typeof consoleRequestSchema>;

export interface OpenChat {
  readonly chatId: string;
  readonly card: ContextCard;
  readonly connectedAt: number;
}

export type ConsoleErrorCode = 'BAD_MESSAGE' | 'NOT_YOUR_CHAT' | 'TICKET_GONE' | 'NOT_AVAILABLE' | 'DELIVERY_FAILED' | 'LIVE_CHAT_UNAVAILABLE';

export type ConsoleFrame =
  | {
      type: 'hello';
      name: string;
      role: string;
      available: boolean;
      now: number;
      modules: readonly { id: string; title: string }[];
    }
  | { type: 'queue'; now: number; entries: readonly { ticket: string; priority: Priority; card: ContextCard }[] }
  | { type: 'chats'; chats: readonly OpenChat[] }
  | { type: 'chat.opened'; chat: OpenChat }
  | { type: 'message'; chatId: string; text: string }
  | { type: 'typing'; chatId: string }
  | { type: 'risk'; chatId: string; category: RiskCategory; level: RiskLevel }
  | { type: 'delivered'; chatId: string; ref: string | undefined }
  | { type: 'chat.ended'; chatId: string; by: 'person' | 'counsellor' | 'disconnected' }
  | {
      type: 'presence';
      counsellors: readonly { name: string; role: string; available: boolean; chats: number }[];
      queueLength: number;
      liveChats: number;
    }
  | { type: 'error'; code: ConsoleErrorCode; message: string; ref?: string };

export const CONSOLE_ERROR_MESSAGES: Readonly<Record<ConsoleErrorCode, string>> = {
  BAD_MESSAGE: 'The console sent something the server does not understand.',
  NOT_YOUR_CHAT: 'That chat is not open for you.',
  TICKET_GONE: 'That person is no longer waiting: someone else took the chat, or they left the queue.',
  NOT_AVAILABLE: 'Switch on "available" before accepting a chat.',
  DELIVERY_FAILED: 'The message could not be delivered: the person may have left.',
  LIVE_CHAT_UNAVAILABLE: 'The chat servers have lost touch with each other. It should come back by itself; until then messages and accepts may fail.',
};

/** The first frame a console page gets: who it is signed in as, and what it may suggest. */
export function helloFrame(
  counsellor: { readonly name: string; readonly role: string; readonly available: boolean },
  now: number,
  modules: readonly { id: string; title: string }[],
): ConsoleFrame {
  return { type: 'hello', name: counsellor.name, role: counsellor.role, available: counsellor.available, now, modules };
}

/** Why something a console asked for did not happen; `ref` ties it to the message it concerns. */
export function errorFrame(code: ConsoleErrorCode, ref?: string): ConsoleFrame {
  return { type: 'error', code, message: CONSOLE_ERROR_MESSAGES[code], ...(ref === undefined ? {} : { ref }) };
}
