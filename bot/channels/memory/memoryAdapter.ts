/**
 * A channel that lives in memory: a turn goes in, the bot's replies come back as a list.
 * The terminal chat and the conversation tests use it, so both exercise the real pipeline
 * without HTTP.
 */
import {
  ActivityTypes,
  BotAdapter,
  TurnContext,
  type Activity,
  type ConversationReference,
  type ResourceResponse,
} from 'botbuilder';
import { randomUUID } from 'node:crypto';
import type { TurnRunner } from '../turnRunner.js';

export interface MemoryIdentity {
  readonly channelId?: string;
  readonly userId: string;
  readonly conversationId?: string;
  readonly locale?: string;
}

export class MemoryAdapter extends BotAdapter {
  private readonly reference: ConversationReference;
  private readonly userId: string;
  private readonly locale: string | undefined;
  private outbox: Activity[] = [];

  constructor(
    private readonly bot: TurnRunner,
    identity: MemoryIdentity,
  ) {
    super();
    this.locale = identity.locale;
    this.userId = identity.userId;
    this.reference = {
      channelId: identity.channelId ?? 'memory',
      serviceUrl: 'memory://',
      conversation: { id: identity.conversationId ?? randomUUID(), isGroup: false, name: '', conversationType: 'personal' },
      user: { id: identity.userId, name: '' },
      bot: { id: 'waypoint', name: 'Waypoint' },
    };
  }

  /** The person opens the chat: the channel announces them, as Web Chat and the Emulator do. */
  join(): Promise<Activity[]> {
    return this.turn({ type: ActivityTypes.ConversationUpdate, membersAdded: [{ id: this.userId, name: '' }] });
  }

  /** The person types (or presses a button labelled) `text`; resolves to the bot's replies. */
  say(text: string): Promise<Activity[]> {
    return this.turn({ type: ActivityTypes.Message, text });
  }

  /** Any other incoming activity, e.g. a message carrying an attachment. */
  async turn(partial: Partial<Activity>): Promise<Activity[]> {
    const activity = TurnContext.applyConversationReference(
      { id: randomUUID(), timestamp: new Date(), locale: this.locale, ...partial },
      this.reference,
      true,
    ) as Activity;
    this.outbox = [];
    await this.runMiddleware(new TurnContext(this, activity), (context) => this.bot.run(context));
    const replies = this.outbox;
    this.outbox = [];
    return replies;
  }

  override async sendActivities(_context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    return activities.map((activity) => {
      const id = randomUUID();
      if (activity.type !== 'delay') this.outbox.push({ ...activity, id } as Activity);
      return { id };
    });
  }

  override async updateActivity(): Promise<ResourceResponse | void> {
    throw new Error('The memory channel cannot update activities.');
  }

  override async deleteActivity(): Promise<void> {
    throw new Error('The memory channel cannot delete activities.');
  }

  override async continueConversation(
    reference: Partial<ConversationReference>,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<void> {
    const activity = TurnContext.applyConversationReference({ type: ActivityTypes.Event, name: 'continue' }, reference, true);
    await this.runMiddleware(new TurnContext(this, activity), logic);
  }
}
