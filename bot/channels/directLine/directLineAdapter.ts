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
import { DirectLineConversation, type DirectLineConversations, type Outgoing } from './directLineConversations.js';
import { ConversationGone, ConversationUnreachable, type RemoteConversation, type SharedConversations } from './sharedConversations.js';

export const DIRECT_LINE_CHANNEL_ID = 'directline';
const SERVICE_URL = 'directline://waypoint';
const BOT_ACCOUNT: ChannelAccount = { id: 'waypoint', name: 'Waypoint', role: 'bot' };
/** Web Chat shows a message as sent only when it comes back with an id and its clientActivityID. */
const ECHOED_TYPES = new Set<string>([ActivityTypes.Message, ActivityTypes.Event]);
/** The conversation of a turn whose buffer is on another instance, and the replies kept for it. */
const REMOTE = Symbol('directLine.remoteConversation');
const OUTBOX = Symbol('directLine.outbox');

export class DirectLineAdapter extends BotAdapter {
  constructor(
    private readonly conversations: DirectLineConversations,
    private readonly bot: TurnRunner,
    /** With several instances: conversations held elsewhere. */
    private readonly shared?: SharedConversations,
  ) {
    super();
  }

  /** Runs the person's activity as a turn, after echoing it to their own client; resolves to its id. */
  async receive(conversation: DirectLineConversation | RemoteConversation, posted: Partial<Activity>): Promise<string> {
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
    const echo = ECHOED_TYPES.has(activity.type) ? withoutServiceUrl({ ...activity }) : undefined;
    const echoId = conversation instanceof DirectLineConversation ? echo && conversation.deliver(echo) : await conversation.accept(echo, posted.locale);
    activity.id = echoId ?? `${conversation.id}|in-${randomBytes(6).toString('base64url')}`;
    // A client's events are acknowledged, never acted on: the bot needs none, and one named like
    // a handoff signal must not pass for the contact centre's.
    if (activity.type === ActivityTypes.Event) return activity.id;
    const context = new TurnContext(this, activity);
    if (conversation instanceof DirectLineConversation) await this.runMiddleware(context, (turn) => this.bot.run(turn));
    else await this.runElsewhere(context, conversation, (turn) => this.bot.run(turn));
    return activity.id;
  }

  /** The person arrived: Web Chat does not say so itself, so the service does, as Azure's does. */
  async welcome(conversation: DirectLineConversation): Promise<void> {
    conversation.started = true;
    await this.receive(conversation, { type: ActivityTypes.ConversationUpdate, membersAdded: [{ id: conversation.userId, name: '' }] });
  }

  override async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const id = context.activity.conversation.id;
    let conversation = this.conversations.get(id);
    if (!conversation && this.shared) {
      const remote = (context.turnState.get(REMOTE) as RemoteConversation | undefined) ?? (await this.locate(context.activity));
      if (remote) return this.sendElsewhere(context, remote, activities);
      // Taken over by this instance just now, or ended (then the replies go nowhere, as below).
      conversation = this.conversations.get(id);
    }
    return activities.map((activity) => {
      if (!conversation || !isDelivered(activity)) return { id: '' };
      const { activity: delivered, ephemeral } = toClient(activity, conversation.userId);
      if (ephemeral) {
        conversation.deliverEphemeral(delivered);
        return { id: '' };
      }
      return { id: conversation.deliver(delivered) };
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
    if (!reference.conversation?.id) throw new ConversationGone();
    const held = this.conversations.get(reference.conversation.id);
    if (!held && !this.shared) throw new ConversationGone();
    const activity = TurnContext.applyConversationReference({ type: ActivityTypes.Event, name: 'continue' }, reference, true);
    const context = new TurnContext(this, activity);
    const remote = held ? undefined : await this.locate(activity);
    if (remote) return this.runElsewhere(context, remote, logic);
    if (!held && !this.conversations.get(reference.conversation.id)) throw new ConversationGone();
    await this.runMiddleware(context, logic);
  }

  /**
   * A conversation not held here, wherever it is now: undefined when it has ended or this
   * instance has just taken it over (its home was gone). Throws when Redis cannot say.
   */
  private async locate(activity: Partial<Activity>): Promise<RemoteConversation | undefined> {
    const userId = activity.from?.id;
    const found = await this.shared!.find(activity.conversation!.id, userId ? { userId, locale: activity.locale } : undefined);
    if (found === 'unreachable') throw new ConversationUnreachable();
    return found === 'notFound' || found instanceof DirectLineConversation ? undefined : found;
  }

  /**
   * A turn of a conversation held on another instance. Its replies go there together when the
   * turn is over, as one group, as a local turn's do: sent one by one, each a round trip apart,
   * they would reach the client as frames so close together that the Direct Line library
   * interleaves their activities. A typing indicator goes at once, or it would be pointless.
   */
  private async runElsewhere(context: TurnContext, remote: RemoteConversation, logic: (turn: TurnContext) => Promise<void>): Promise<void> {
    const outbox: Outgoing[] = [];
    context.turnState.set(REMOTE, remote);
    context.turnState.set(OUTBOX, outbox);
    try {
      await this.runMiddleware(context, logic);
    } finally {
      context.turnState.delete(OUTBOX);
      if (outbox.length > 0) await this.deliverElsewhere(remote, outbox);
    }
  }

  /** The replies of a turn whose conversation is held on another instance. */
  private async sendElsewhere(context: TurnContext, remote: RemoteConversation, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const items = activities.filter(isDelivered).map((activity) => toClient(activity, remote.userId));
    const outbox = context.turnState.get(OUTBOX) as Outgoing[] | undefined;
    const now = outbox ? items.filter((item) => item.ephemeral) : items;
    if (outbox) outbox.push(...items.filter((item) => !item.ephemeral));
    if (now.length > 0) await this.deliverElsewhere(remote, now);
    // The home gives the ids; nothing here uses those of replies.
    return activities.map(() => ({ id: '' }));
  }

  private async deliverElsewhere(remote: RemoteConversation, items: Outgoing[]): Promise<void> {
    try {
      await this.shared!.deliver(remote, items);
    } catch (error) {
      // Ended meanwhile: the replies go nowhere, as a local conversation's do.
      if (!(error instanceof ConversationGone)) throw error;
    }
  }
}

/** Pauses and traces are for the Emulator; a Direct Line client has no use for them. */
function isDelivered(activity: Partial<Activity>): boolean {
  return activity.type !== 'delay' && activity.type !== ActivityTypes.Trace;
}

/** A bot activity as the client gets it: from the bot, to the person; a typing indicator is not buffered. */
function toClient(activity: Partial<Activity>, userId: string): Outgoing {
  return {
    activity: withoutServiceUrl({
      ...activity,
      from: BOT_ACCOUNT,
      recipient: { id: userId, name: '', role: 'user' },
      timestamp: new Date(),
    }),
    ephemeral: activity.type === ActivityTypes.Typing,
  };
}

/** The service URL is our internal address for the turn; clients have no use for it. */
function withoutServiceUrl(activity: Partial<Activity>): Partial<Activity> {
  const rest = { ...activity };
  delete rest.serviceUrl;
  return rest;
}
