/**
 * The bot's side of our Direct Line service: a person's posted activity becomes a turn, and the
 * bot's replies go straight into the conversation's delivery buffer (no HTTP hop, no connector).
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
import { randomBytes } from 'node:crypto';
import type { TurnRunner } from '../turnRunner.js';
import type { DirectLineConversation, DirectLineConversations } from './directLineConversations.js';

export const DIRECT_LINE_CHANNEL_ID = 'directline';
const SERVICE_URL = 'directline://waypoint';
const BOT_ACCOUNT: ChannelAccount = { id: 'waypoint', name: 'Waypoint', role: 'bot' };
/** Web Chat shows a message as sent only when it comes back with an id and its clientActivityID. */
const ECHOED_TYPES = new Set<string>([ActivityTypes.Message, ActivityTypes.Event]);

export class DirectLineAdapter extends BotAdapter {
  constructor(
    private readonly conversations: DirectLineConversations,
    private readonly bot: TurnRunner,
  ) {
    super();
  }

  /** Runs the person's activity as a turn, after echoing it to their own client; resolves to its id. */
  async receive(conversation: DirectLineConversation, posted: Partial<Activity>): Promise<string> {
    if (posted.locale) conversation.locale = posted.locale;
    const activity = {
      ...posted,
      channelId: DIRECT_LINE_CHANNEL_ID,
      serviceUrl: SERVICE_URL,
      conversation: { id: conversation.id, isGroup: false, conversationType: 'personal', name: '' },
      from: { id: conversation.userId, name: '', role: 'user' },
      recipient: BOT_ACCOUNT,
      timestamp: new Date(),
      locale: posted.locale ?? conversation.locale,
    } as Activity;
    activity.id = ECHOED_TYPES.has(activity.type)
      ? conversation.deliver(withoutServiceUrl({ ...activity }))
      : `${conversation.id}|in-${randomBytes(6).toString('base64url')}`;
    // A client's events are acknowledged, never acted on: the bot needs none, and one named like
    // a handoff signal must not pass for the contact centre's.
    if (activity.type === ActivityTypes.Event) return activity.id;
    await this.runMiddleware(new TurnContext(this, activity), (context) => this.bot.run(context));
    return activity.id;
  }

  /** The person arrived: Web Chat does not say so itself, so the service does, as Azure's does. */
  async welcome(conversation: DirectLineConversation): Promise<void> {
    conversation.started = true;
    await this.receive(conversation, { type: ActivityTypes.ConversationUpdate, membersAdded: [{ id: conversation.userId, name: '' }] });
  }

  override async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const conversation = this.conversations.get(context.activity.conversation.id);
    return activities.map((activity) => {
      // Pauses and traces are for the Emulator; a Direct Line client has no use for them.
      if (!conversation || activity.type === 'delay' || activity.type === ActivityTypes.Trace) return { id: '' };
      const outgoing = withoutServiceUrl({
        ...activity,
        from: BOT_ACCOUNT,
        recipient: { id: conversation.userId, name: '', role: 'user' },
        timestamp: new Date(),
      });
      if (activity.type === ActivityTypes.Typing) {
        conversation.deliverEphemeral(outgoing);
        return { id: '' };
      }
      return { id: conversation.deliver(outgoing) };
    });
  }

  override async updateActivity(): Promise<ResourceResponse | void> {
    throw new Error('Direct Line cannot update an activity once sent.');
  }

  override async deleteActivity(): Promise<void> {
    throw new Error('Direct Line cannot delete an activity once sent.');
  }

  override async continueConversation(
    reference: Partial<ConversationReference>,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<void> {
    // The desk reports this to the counsellor as a failed delivery: the person has left.
    if (!reference.conversation?.id || !this.conversations.get(reference.conversation.id)) throw new Error('The Direct Line conversation has ended.');
    const activity = TurnContext.applyConversationReference({ type: ActivityTypes.Event, name: 'continue' }, reference, true);
    await this.runMiddleware(new TurnContext(this, activity), logic);
  }
}

/** The service URL is our internal address for the turn; clients have no use for it. */
function withoutServiceUrl(activity: Partial<Activity>): Partial<Activity> {
  const rest = { ...activity };
  delete rest.serviceUrl;
  return rest;
}
