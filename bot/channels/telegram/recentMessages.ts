/**
 * Which messages of each chat can still be deleted: ids and times only, in memory only, for
 * Telegram's 48 hours. "Delete my data" then deletes them from the person's phone. Bounded per
 * chat and in the number of chats (the chats quiet longest are forgotten first), so a busy
 * bot's memory does not grow with its history.
 */

/** Telegram lets a bot delete a message in a private chat for 48 hours after it was sent. */
const DELETABLE_MS = 48 * 60 * 60 * 1000;

export interface RecentMessagesOptions {
  readonly maxPerChat?: number;
  readonly maxChats?: number;
  readonly now?: () => number;
}

export class RecentMessages {
  private readonly chats = new Map<number, { id: number; at: number }[]>();
  private readonly maxPerChat: number;
  private readonly maxChats: number;
  private readonly now: () => number;

  constructor({ maxPerChat = 200, maxChats = 5000, now = Date.now }: RecentMessagesOptions = {}) {
    this.maxPerChat = maxPerChat;
    this.maxChats = maxChats;
    this.now = now;
  }

  remember(chatId: number, messageId: number, at = this.now()): void {
    const messages = this.chats.get(chatId) ?? [];
    // Re-inserted, so the map's order is least recently active first.
    this.chats.delete(chatId);
    this.chats.set(chatId, messages);
    messages.push({ id: messageId, at });
    if (messages.length > this.maxPerChat) messages.splice(0, messages.length - this.maxPerChat);
    if (this.chats.size > this.maxChats) this.chats.delete(this.chats.keys().next().value!);
  }

  /** The chat's messages that can still be deleted, newest first; the chat is forgotten. */
  take(chatId: number): number[] {
    const messages = this.chats.get(chatId) ?? [];
    this.chats.delete(chatId);
    const since = this.now() - DELETABLE_MS;
    return messages
      .filter((message) => message.at > since)
      .map((message) => message.id)
      .reverse();
  }

  forget(chatId: number): void {
    this.chats.delete(chatId);
  }
}
