/**
 * Where every update goes, whether it came by long polling or webhook. Each chat's updates run
 * in the order they came, one at a time; different chats run alongside each other. A failure in
 * one chat's update is logged (with an error id, never the update) and touches no other chat.
 */
import { ActivityTypes } from 'botbuilder';
import type { Update } from 'grammy/types';
import { newErrorId, type Logger } from '../../privacy/logger.js';
import { ChatQueueFull, ChatQueues } from './chatQueues.js';
import { describeFailure } from './botApiErrors.js';
import { readUpdate, type Inbound } from './inboundUpdate.js';
import type { RecentMessages } from './recentMessages.js';
import type { TelegramAdapter } from './telegramAdapter.js';
import type { TelegramSender } from './telegramSender.js';

/** A person can get this far ahead of the bot; more is a flood and is dropped. */
const MAX_WAITING_PER_CHAT = 20;
/** Keyboards already pressed, so a second tap (or a double tap) does nothing. */
const MAX_PRESSED_REMEMBERED = 10_000;

export interface TelegramUpdatesOptions {
  readonly adapter: TelegramAdapter;
  readonly sender: TelegramSender;
  readonly recent: RecentMessages;
  readonly log: Logger;
}

export class TelegramUpdates {
  private readonly queues = new ChatQueues(MAX_WAITING_PER_CHAT);
  private readonly pressed = new Set<string>();

  constructor(private readonly options: TelegramUpdatesOptions) {}

  /** Takes an update in; returns at once (a webhook must be answered quickly) and never throws. */
  accept(update: Update): void {
    let inbound: Inbound;
    try {
      inbound = readUpdate(update);
    } catch (error) {
      this.options.log.warn({ event: 'telegram.updateUnreadable', err: error });
      return;
    }
    switch (inbound.kind) {
      case 'message':
        // Its id only, so "delete my data" can delete it from the person's phone later.
        this.options.recent.remember(inbound.chatId, inbound.messageId, inbound.sentAt);
        return this.inChat(inbound, () =>
          this.options.adapter.receive({
            type: ActivityTypes.Message,
            chatId: inbound.chatId,
            userId: inbound.userId,
            id: String(inbound.messageId),
            locale: inbound.locale,
            text: inbound.text,
            attachmentTypes: inbound.attachmentTypes,
          }),
        );
      case 'button':
        return this.buttonPressed(inbound);
      case 'strayButton':
        return void this.answer(inbound.callbackId);
      case 'edited':
        return this.inChat(inbound, async () => {
          this.options.log.info({ event: 'telegram.editIgnored' });
          await this.options.adapter.say(inbound.chatId, inbound.locale, (telegram) => telegram.editedMessage);
        });
      case 'notPrivate':
        // Said nowhere: anything the bot wrote in a group would be read by everyone in it.
        return this.inChat(inbound, async () => {
          this.options.log.info({ event: 'telegram.leftChat', chatType: inbound.chatType });
          await this.options.sender.leaveChat(inbound.chatId);
        });
      case 'blocked':
        this.options.recent.forget(inbound.chatId);
        // The bot hears the person has gone: a counsellor is told, a queue place freed.
        return this.inChat(inbound, () =>
          this.options.adapter.receive({ type: ActivityTypes.EndOfConversation, chatId: inbound.chatId, userId: inbound.userId, id: 'blocked', locale: undefined }),
        );
      case 'ignored':
        return;
    }
  }

  /** Resolves when every update taken in so far (of one chat, if given) has been handled. */
  idle(chatId?: number): Promise<void> {
    return this.queues.idle(chatId);
  }

  private buttonPressed(inbound: Extract<Inbound, { kind: 'button' }>): void {
    // Always answered, and first: until then the button shows a spinner.
    void this.answer(inbound.callbackId);
    const { messageId } = inbound;
    if (messageId !== undefined) {
      const key = `${inbound.chatId}:${messageId}`;
      if (this.pressed.has(key)) return;
      this.pressed.add(key);
      if (this.pressed.size > MAX_PRESSED_REMEMBERED) this.pressed.delete(this.pressed.values().next().value!);
    }
    this.inChat(inbound, async () => {
      if (messageId !== undefined) await this.options.sender.removeKeyboard(inbound.chatId, messageId);
      if (inbound.text === undefined) return;
      await this.options.adapter.receive({
        type: ActivityTypes.Message,
        chatId: inbound.chatId,
        userId: inbound.userId,
        id: `press-${inbound.callbackId}`,
        locale: inbound.locale,
        text: inbound.text,
      });
    });
  }

  private async answer(callbackId: string): Promise<void> {
    try {
      await this.options.sender.answerCallback(callbackId);
    } catch (error) {
      this.options.log.warn({ event: 'telegram.answerFailed', ...describeFailure(error) });
    }
  }

  private inChat(inbound: { kind: string; chatId: number }, task: () => Promise<void>): void {
    const handled = async () => {
      await task();
      this.options.log.debug({ event: 'telegram.updateHandled', kind: inbound.kind });
    };
    this.queues.run(inbound.chatId, handled).catch((error: unknown) => {
      if (error instanceof ChatQueueFull) {
        this.options.log.warn({ event: 'telegram.updateDropped', kind: inbound.kind, reason: 'tooManyWaiting' });
        return;
      }
      this.options.log.error({ event: 'telegram.updateFailed', errorId: newErrorId(), kind: inbound.kind, ...describeFailure(error), err: error });
    });
  }
}
