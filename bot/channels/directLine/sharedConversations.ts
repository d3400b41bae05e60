/**
 * Direct Line across several instances (with REDIS_URL). Tokens are signed, so any instance
 * accepts them; each conversation's delivery buffer stays in the memory of one instance, its
 * home (the one that started it), and conversationHomes.ts says which that is. Another instance
 * that gets a request for it runs the person's turn itself (state is in shared storage) and
 * asks the home over pub/sub to buffer the replies, to hand over what a poller has not seen, or
 * to tell a stream held here what arrives. Nothing is written to Redis but ids: activities only
 * pass through it as messages.
 *
 * A home that is gone (stopped or crashed: nobody listens on its channel) is taken over by the
 * next instance that needs the conversation and knows whose it is (a token names the person):
 * its buffer starts empty, so replies the old home held and nobody fetched are lost. Streams
 * held on the old home close; clients reconnect (Direct Line does) and land anywhere.
 */
import { ActivityTypes, type Activity } from 'botbuilder';
import type { Logger } from '../../privacy/logger.js';
import { BusError } from '../../redis/busError.js';
import type { InstanceBus } from '../../redis/instanceBus.js';
import { conversationTag, createConversationHomes, type ConversationHomes, type Home } from './conversationHomes.js';
import type { ActivityGroup, DirectLineConversation, DirectLineConversations, Outgoing } from './directLineConversations.js';

/** Whose conversation it is, from a token: enough to take it over when its home is gone. */
export interface Person {
  readonly userId: string;
  readonly locale: string | undefined;
}

export type Found = DirectLineConversation | RemoteConversation;
/** 'unreachable': Redis or the home did not answer in time; worth trying again shortly. */
export type Lookup = Found | 'notFound' | 'unreachable';

export interface RemoteStream {
  /** Tells the home the stream is still open (every keep-alive). */
  keepAlive(): void;
  close(): void;
}

export interface SharedConversationsOptions {
  readonly bus: InstanceBus;
  readonly conversations: DirectLineConversations;
  readonly keyPrefix: string;
  /** A home's key lives this long unrenewed: the idle time, after which the conversation is over anyway. */
  readonly homeMs: number;
  /** How long an ended conversation stays refused (its tokens' lifetime). */
  readonly endedMs: number;
  /** Keep-alive period of streams: a stream held elsewhere is forgotten after three missed. */
  readonly keepAliveMs: number;
  /** Ends a conversation held here (its last turn, then its buffer and streams). */
  readonly endConversation: (conversation: DirectLineConversation) => Promise<void>;
  readonly log: Logger;
  readonly now: () => number;
}

type Answer<T> = ({ readonly found: true } & T) | { readonly found: false };
interface Description {
  readonly userId: string;
  readonly locale: string | undefined;
}
/** News on a conversation's topic, for streams held away from its home. */
type News = { readonly group: ActivityGroup } | { readonly ended: true };

const KIND = {
  describe: 'dl.describe',
  accept: 'dl.accept',
  deliver: 'dl.deliver',
  after: 'dl.after',
  touch: 'dl.touch',
  end: 'dl.end',
} as const;

/** A conversation whose buffer is on another instance, for the length of one request or stream. */
export class RemoteConversation {
  constructor(
    private readonly shared: SharedConversations,
    readonly id: string,
    readonly home: string,
    readonly userId: string,
    public locale: string | undefined,
  ) {}

  /** Turns of this conversation running here, counted across this instance's requests. */
  get pendingTurns(): number {
    return this.shared.pendingHere(this.id);
  }

  set pendingTurns(count: number) {
    this.shared.setPendingHere(this.id, count);
  }

  /** The person's activity reaches the home: its locale is kept, its echo buffered; resolves to the echo's id. */
  accept(echo: Partial<Activity> | undefined, locale: string | undefined): Promise<string | undefined> {
    return this.shared.accept(this, echo, locale);
  }

  after(watermark: number | undefined): Promise<ActivityGroup> {
    return this.shared.after(this, watermark);
  }

  end(): Promise<void> {
    return this.shared.end(this);
  }
}

export class SharedConversations {
  private readonly homes: ConversationHomes;
  private readonly pending = new Map<string, number>();
  private readonly renewal: NodeJS.Timeout;
  private readonly renewNow = () => void this.renew();
  private readonly watchMs: number;
  private closed = false;

  constructor(private readonly options: SharedConversationsOptions) {
    const { bus, conversations } = options;
    this.homes = createConversationHomes({
      redis: bus.redis,
      keyPrefix: options.keyPrefix,
      instanceId: bus.instanceId,
      homeMs: options.homeMs,
      endedMs: options.endedMs,
    });
    this.watchMs = options.keepAliveMs * 3;
    const held = (body: unknown) => conversations.get((body as { id: string }).id);
    const notHeld = { found: false } as const;

    bus.handle(KIND.describe, (body) => {
      const conversation = held(body);
      if (!conversation) return notHeld;
      conversation.touch();
      return { found: true, userId: conversation.userId, locale: conversation.locale } satisfies Answer<Description>;
    });
    bus.handle(KIND.accept, (body) => {
      const { echo, locale } = body as { echo?: Partial<Activity>; locale?: string };
      const conversation = held(body);
      if (!conversation) return notHeld;
      conversation.touch();
      if (locale) conversation.locale = locale;
      return { found: true, id: echo ? conversation.deliver(echo) : undefined };
    });
    bus.handle(KIND.deliver, (body) => {
      const conversation = held(body);
      if (!conversation) return notHeld;
      conversation.touch();
      return { found: true, ids: conversation.deliverAll((body as { items: Outgoing[] }).items) };
    });
    bus.handle(KIND.after, (body) => {
      const { watermark, watchMs } = body as { watermark?: number; watchMs?: number };
      const conversation = held(body);
      if (!conversation) return notHeld;
      conversation.touch();
      if (watchMs) this.watch(conversation, watchMs);
      return { found: true, group: conversation.after(watermark) };
    });
    bus.handle(KIND.touch, (body) => {
      const conversation = held(body);
      if (!conversation) return notHeld;
      conversation.touch();
      const { watchMs } = body as { watchMs?: number };
      if (watchMs) this.watch(conversation, watchMs);
      return { found: true };
    });
    bus.handle(KIND.end, async (body) => {
      const conversation = held(body);
      if (!conversation) return notHeld;
      await options.endConversation(conversation);
      return { found: true };
    });

    // A third of the key's life: a key survives two missed renewals (Redis briefly away).
    this.renewal = setInterval(this.renewNow, Math.max(1000, Math.min(30_000, options.homeMs / 3)));
    this.renewal.unref();
    // A Redis that restarted empty has forgotten every home: they are written again at once, not
    // up to a renewal later, when other instances would find no home and answer "not found".
    bus.redis.on('ready', this.renewNow);
  }

  /** Hands a group to the streams held elsewhere; set as the conversations' relay. */
  relay(conversation: DirectLineConversation, group: ActivityGroup): void {
    this.options.bus.publish(topicOf(conversation.id), { group } satisfies News).catch(() => undefined);
  }

  /**
   * Where the conversation is served. One whose home is gone is taken over here when `person`
   * says whose it is; without that (the site's secret) it cannot be, and is not found.
   */
  async find(id: string, person: Person | undefined): Promise<Lookup> {
    return this.locate(id, person, false);
  }

  /**
   * POST /conversations for a conversation not held here: rejoins it wherever it is, or starts it
   * here when nobody holds it. `fresh`: the id was made for this request, so nobody can.
   */
  async open(id: string, person: Person, fresh: boolean): Promise<Lookup> {
    if (!fresh) return this.locate(id, person, true);
    const conversation = this.options.conversations.open(id, person.userId, person.locale);
    if (!conversation) return 'notFound';
    // Without Redis it is still served here; the renewal writes its key once Redis is back.
    await this.homes.claim(id).catch(() => this.options.log.warn({ event: 'directLine.claimFailed' }));
    return conversation;
  }

  /** True when the conversation has ended on any instance (false when Redis cannot say). */
  async hasEnded(id: string): Promise<boolean> {
    try {
      return (await this.homes.lookup(id)).kind === 'ended';
    } catch {
      return false;
    }
  }

  /** Before a conversation held here is dropped: every instance refuses it from now on, and streams elsewhere close. */
  async ended(conversation: DirectLineConversation): Promise<void> {
    await this.homes.markEnded(conversation.id).catch(() => this.options.log.warn({ event: 'directLine.markEndedFailed' }));
    if (conversation.remoteWatchUntil > this.options.now()) this.options.bus.publish(topicOf(conversation.id), { ended: true } satisfies News).catch(() => undefined);
  }

  pendingHere(id: string): number {
    return this.pending.get(id) ?? 0;
  }

  setPendingHere(id: string, count: number): void {
    if (count > 0) this.pending.set(id, count);
    else this.pending.delete(id);
  }

  async accept(remote: RemoteConversation, echo: Partial<Activity> | undefined, locale: string | undefined): Promise<string | undefined> {
    const answer = await this.ask<{ id?: string }>(remote, KIND.accept, { id: remote.id, echo, locale });
    if (answer) return answer.id;
    // The home let go of it between the lookup and now: deliver the echo wherever it is now.
    const [id] = await this.deliver(remote, echo ? [{ activity: echo, ephemeral: false }] : []);
    return id;
  }

  /** Buffers a turn's replies at the conversation's home; one that is gone is replaced first. */
  async deliver(remote: RemoteConversation, items: readonly Outgoing[]): Promise<string[]> {
    const answer = await this.ask<{ ids: string[] }>(remote, KIND.deliver, { id: remote.id, items });
    if (answer) return answer.ids;
    const found = await this.locate(remote.id, { userId: remote.userId, locale: remote.locale }, false);
    if (found === 'unreachable') throw new ConversationUnreachable();
    if (found === 'notFound') throw new ConversationGone();
    if (!(found instanceof RemoteConversation)) return found.deliverAll(items);
    const again = await this.ask<{ ids: string[] }>(found, KIND.deliver, { id: found.id, items });
    if (!again) throw new ConversationGone();
    return again.ids;
  }

  async after(remote: RemoteConversation, watermark: number | undefined): Promise<ActivityGroup> {
    const answer = await this.ask<{ group: ActivityGroup }>(remote, KIND.after, { id: remote.id, watermark });
    if (!answer) throw new ConversationGone();
    return answer.group;
  }

  async end(remote: RemoteConversation): Promise<void> {
    await this.ask(remote, KIND.end, { id: remote.id });
  }

  /**
   * A stream held here for a conversation whose home is elsewhere: listens to the conversation's
   * topic first, then asks the home for what the client has not seen (and to publish what
   * comes), so nothing falls between the two; what both bring is sent once.
   */
  async openStream(remote: RemoteConversation, watermark: number | undefined, push: (group: ActivityGroup) => void, onEnded: () => void): Promise<RemoteStream> {
    const { bus } = this.options;
    let lastSeq = watermark ?? -1;
    let early: News[] | undefined = [];
    // Groups that arrive together (a busy moment here) go out as one frame, as the home's do:
    // frames close together get their activities interleaved by the Direct Line library.
    let ready: Activity[] = [];
    let readyWatermark: string | undefined;
    const flush = () => {
      const activities = ready;
      ready = [];
      if (activities.length > 0) push({ activities, ...(readyWatermark === undefined ? {} : { watermark: readyWatermark }) });
    };
    const forward = (group: ActivityGroup) => {
      const fresh = group.activities.filter((activity) => {
        const seq = sequenceOf(activity);
        if (seq === undefined) return true;
        if (seq <= lastSeq) return false;
        lastSeq = seq;
        return true;
      });
      if (fresh.length === 0) return;
      if (ready.length === 0) setImmediate(flush);
      ready.push(...fresh);
      if (group.watermark !== undefined) readyWatermark = group.watermark;
    };
    const hear = (news: News) => ('ended' in news ? onEnded() : forward(news.group));
    const stop = await bus.subscribe(topicOf(remote.id), (body) => (early ? early.push(body as News) : hear(body as News)));
    try {
      const answer = await this.ask<{ group: ActivityGroup }>(remote, KIND.after, { id: remote.id, watermark, watchMs: this.watchMs });
      if (!answer) throw new ConversationGone();
      forward(answer.group);
    } catch (error) {
      stop();
      throw error;
    }
    const heard = early;
    early = undefined;
    for (const news of heard) hear(news);
    return {
      keepAlive: () => {
        this.ask(remote, KIND.touch, { id: remote.id, watchMs: this.watchMs }).then(
          // Its home is gone or let go of it: the client reconnects, and finds it where it is now.
          (answer) => void (answer || onEnded()),
          () => undefined,
        );
      },
      close: stop,
    };
  }

  /** At shutdown: lets go of every conversation held here, for other instances to take over. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewal);
    this.options.bus.redis.off('ready', this.renewNow);
    for (const conversation of [...this.options.conversations.all()]) {
      if (conversation.remoteWatchUntil > this.options.now()) this.options.bus.publish(topicOf(conversation.id), { ended: true } satisfies News).catch(() => undefined);
      this.options.conversations.release(conversation.id);
    }
  }

  private async locate(id: string, person: Person | undefined, create: boolean): Promise<Lookup> {
    const { conversations, bus, log } = this.options;
    for (let attempt = 0; attempt < 3; attempt++) {
      const local = conversations.get(id);
      if (local) return local;
      if (conversations.hasEnded(id)) return 'notFound';
      let home: Home;
      try {
        home = await this.homes.lookup(id);
      } catch {
        return 'unreachable';
      }
      if (home.kind === 'ended') return 'notFound';
      if (home.kind === 'none') {
        if (!create || !person) return 'notFound';
        const conversation = conversations.open(id, person.userId, person.locale);
        if (!conversation) return 'notFound';
        const claimed = await this.homes.claim(id).catch(() => undefined);
        if (claimed) return conversation;
        conversations.release(id);
        if (claimed === undefined) return 'unreachable';
        // Another instance started it at the same moment: look again.
        continue;
      }
      if (home.instanceId !== bus.instanceId) {
        try {
          const answer = await bus.request<Answer<Description>>(home.instanceId, KIND.describe, { id });
          if (answer.found) return new RemoteConversation(this, id, home.instanceId, answer.userId, answer.locale);
        } catch (error) {
          if (!(error instanceof BusError && error.code === 'unreachable')) return 'unreachable';
        }
      }
      // Its home is gone (nobody listens there) or no longer holds it: taken over here.
      if (!person) return 'notFound';
      try {
        if (await this.homes.adopt(id, home.instanceId)) {
          log.info({ event: 'directLine.adopted' });
          return conversations.adopt(id, person.userId, person.locale) ?? 'notFound';
        }
      } catch {
        return 'unreachable';
      }
      // Someone else took it over first: look again.
    }
    return 'unreachable';
  }

  /** Asks the home; undefined when it no longer holds the conversation or is gone. */
  private async ask<T>(remote: RemoteConversation, kind: string, body: unknown): Promise<T | undefined> {
    let answer: Answer<T>;
    try {
      answer = await this.options.bus.request<Answer<T>>(remote.home, kind, body);
    } catch (error) {
      if (error instanceof BusError && error.code === 'unreachable') return undefined;
      throw new ConversationUnreachable();
    }
    return answer.found ? answer : undefined;
  }

  private watch(conversation: DirectLineConversation, watchMs: number): void {
    conversation.remoteWatchUntil = Math.max(conversation.remoteWatchUntil, this.options.now() + watchMs);
  }

  private async renew(): Promise<void> {
    const { conversations, log } = this.options;
    const ids = [...conversations.all()].map((conversation) => conversation.id);
    let lost: string[];
    try {
      lost = await this.homes.renew(ids);
    } catch {
      return;
    }
    // Taken over while this instance could not be reached, or ended elsewhere: its clients reconnect.
    for (const id of lost) conversations.release(id);
    if (lost.length > 0) log.warn({ event: 'directLine.homeLost', count: lost.length });
  }
}

/** A home that does not hold the conversation any more (it ended between two requests). */
export class ConversationGone extends Error {
  constructor() {
    super('The Direct Line conversation has ended.');
  }
}

/** Redis, or the instance holding the conversation, did not answer in time. */
export class ConversationUnreachable extends Error {
  constructor() {
    super('The instance holding the Direct Line conversation did not answer in time.');
  }
}

function topicOf(conversationId: string): string {
  return `dl:c:${conversationTag(conversationId)}`;
}

/** The sequence number in a buffered activity's id (`<conversation>|0000012`); undefined for a typing indicator. */
function sequenceOf(activity: Activity): number | undefined {
  if (activity.type === ActivityTypes.Typing) return undefined;
  const match = /\|(\d+)$/.exec(activity.id ?? '');
  return match ? Number(match[1]) : undefined;
}
