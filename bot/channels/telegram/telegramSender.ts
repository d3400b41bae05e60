/**
 * Everything Waypoint asks of Telegram for one chat goes through that chat's queue, so a chat's
 * messages arrive in order and a rate limit (429) makes only that chat wait before the retry.
 * Every message sent is remembered (its id, in memory) so "delete my data" can delete it.
 */
import type { Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Logger } from '../../privacy/logger.js';
import { ChatQueues } from './chatQueues.js';
import { describeFailure, withRateLimitRetry } from './botApiErrors.js';
import type { RecentMessages } from './recentMessages.js';

export interface TelegramSenderOptions {
  readonly api: Api;
  readonly recent: RecentMessages;
  readonly log: Logger;
  /** Aborted on shutdown: no one waits out a rate limit then. */
  readonly signal: AbortSignal;
}

export class TelegramSender {
  private readonly queues = new ChatQueues();

  constructor(private readonly options: TelegramSenderOptions) {}

  /**
   * Sends each piece of HTML as a message, the keyboard under the last; resolves to the last
   * message's id. The pieces go as one task, so nothing else in the chat lands between them.
   */
  sendHtml(chatId: number, pieces: readonly string[], keyboard?: InlineKeyboardMarkup): Promise<number | undefined> {
    return this.queues.run(chatId, async () => {
      let lastId: number | undefined;
      for (const [index, html] of pieces.entries()) {
        const last = index === pieces.length - 1;
        const sent = await this.call(() =>
          this.options.api.sendMessage(chatId, html, {
            parse_mode: 'HTML',
            // A preview would fetch and show the linked page; the chat stays plain text.
            link_preview_options: { is_disabled: true },
            ...(last && keyboard ? { reply_markup: keyboard } : {}),
          }),
        );
        this.options.recent.remember(chatId, sent.message_id);
        lastId = sent.message_id;
      }
      return lastId;
    });
  }

  typing(chatId: number): Promise<void> {
    return this.queues.run(chatId, async () => {
      await this.call(() => this.options.api.sendChatAction(chatId, 'typing'));
    });
  }

  /** Takes the keyboard off a message whose button was pressed; a keyboard already gone is fine. */
  removeKeyboard(chatId: number, messageId: number): Promise<void> {
    return this.queues.run(chatId, async () => {
      await this.call(() => this.options.api.editMessageReplyMarkup(chatId, messageId, { reply_markup: { inline_keyboard: [] } })).catch((error: unknown) =>
        this.options.log.debug({ event: 'telegram.keyboardNotRemoved', ...describeFailure(error) }),
      );
    });
  }

  /** Deletes the messages one by one (Telegram refuses some: too old, already gone); resolves to how many went. */
  deleteMessages(chatId: number, messageIds: readonly number[]): Promise<number> {
    return this.queues.run(chatId, async () => {
      let deleted = 0;
      let refused = 0;
      for (const messageId of messageIds) {
        try {
          await this.call(() => this.options.api.deleteMessage(chatId, messageId));
          deleted += 1;
        } catch (error) {
          if (this.options.signal.aborted) break;
          refused += 1;
          this.options.log.debug({ event: 'telegram.messageNotDeleted', ...describeFailure(error) });
        }
      }
      this.options.log.info({ event: 'telegram.messagesDeleted', deleted, refused });
      return deleted;
    });
  }

  leaveChat(chatId: number): Promise<void> {
    return this.queues.run(chatId, async () => {
      await this.call(() => this.options.api.leaveChat(chatId));
    });
  }

  /** Stops the button's spinner. Not queued behind the chat: the person is waiting for it. */
  async answerCallback(callbackId: string): Promise<void> {
    await this.call(() => this.options.api.answerCallbackQuery(callbackId));
  }

  /** Resolves when everything queued so far (for one chat, if given) has been sent (or has failed). */
  idle(chatId?: number): Promise<void> {
    return this.queues.idle(chatId);
  }

  private call<T>(request: () => Promise<T>): Promise<T> {
    return withRateLimitRetry(request, {
      signal: this.options.signal,
      onWait: (retryAfterSeconds) => this.options.log.warn({ event: 'telegram.rateLimited', retryAfterSeconds }),
    });
  }
}
