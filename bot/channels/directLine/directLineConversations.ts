/**
 * The conversations this instance serves over Direct Line, each with its delivery buffer: the
 * activities a client has not necessarily fetched yet, held in memory only, bounded by count and
 * age, and dropped with the conversation. It is a delivery queue, not a history: nothing of it
 * is ever written anywhere.
 */
import type { Activity } from 'botbuilder';

export interface ActivityGroup {
  readonly activities: Activity[];
  /** Absent when nothing in the group moves the watermark (a typing indicator). */
  readonly watermark?: string;
}

export type GroupListener = (group: ActivityGroup) => void;

export interface BufferLimits {
  readonly bufferActivities: number;
  readonly bufferMs: number;
  /** With several instances: hands each group to streams held elsewhere (sharedConversations.ts). */
  readonly relay?: (conversation: DirectLineConversation, group: ActivityGroup) => void;
}

/** One activity on its way to the client: buffered, or only pushed when `ephemeral`. */
export interface Outgoing {
  readonly activity: Partial<Activity>;
  readonly ephemeral: boolean;
}

export class DirectLineConversation {
  private entries: { seq: number; at: number; activity: Activity }[] = [];
  private lastSeq = -1;
  private readonly listeners = new Map<GroupListener, () => void>();
  private pending: ActivityGroup[] = [];
  /** Turns posted and not yet answered: a bound against a client that floods one conversation. */
  pendingTurns = 0;
  lastTouched: number;
  /** True once the welcome turn has run, so a second start never welcomes twice. */
  started = false;
  /** Until when streams on other instances listen (see sharedConversations.ts); 0 with one instance. */
  remoteWatchUntil = 0;

  constructor(
    readonly id: string,
    readonly userId: string,
    public locale: string | undefined,
    private readonly limits: BufferLimits,
    private readonly now: () => number,
    /** Where the sequence starts: above any a previous home issued, for a conversation taken over. */
    firstSeq = 0,
  ) {
    this.lastTouched = now();
    this.lastSeq = firstSeq - 1;
  }

  /** Buffers an activity for the client, gives it its Direct Line id, and pushes it to open streams. */
  deliver(activity: Partial<Activity>): string {
    const seq = ++this.lastSeq;
    const id = `${this.id}|${String(seq).padStart(7, '0')}`;
    const delivered = { ...activity, id } as Activity;
    this.entries.push({ seq, at: this.now(), activity: delivered });
    this.prune();
    this.notify({ activities: [delivered], watermark: String(seq) });
    return id;
  }

  /** Pushes without buffering: a typing indicator is worthless a moment later. */
  deliverEphemeral(activity: Partial<Activity>): void {
    this.notify({ activities: [activity as Activity] });
  }

  /** Delivers each in order; the ids given ('' for an ephemeral one). */
  deliverAll(items: readonly Outgoing[]): string[] {
    return items.map(({ activity, ephemeral }) => {
      if (!ephemeral) return this.deliver(activity);
      this.deliverEphemeral(activity);
      return '';
    });
  }

  /** What a client holding `watermark` has not seen yet (everything buffered when undefined). */
  after(watermark: number | undefined): ActivityGroup {
    this.prune();
    const activities = this.entries.filter((entry) => watermark === undefined || entry.seq > watermark).map((entry) => entry.activity);
    return { activities, watermark: this.lastSeq >= 0 ? String(this.lastSeq) : undefined };
  }

  /** `onEnded` runs when the conversation is dropped, so its streams close. */
  subscribe(listener: GroupListener, onEnded: () => void): () => void {
    // Whoever listened before gets what is on its way; the newcomer reads it from the buffer.
    this.flush();
    this.listeners.set(listener, onEnded);
    return () => this.listeners.delete(listener);
  }

  get streamCount(): number {
    return this.listeners.size;
  }

  touch(): void {
    this.lastTouched = this.now();
  }

  /** Forgets every buffered activity, at once. */
  drop(): void {
    this.entries = [];
    this.pending = [];
    const ended = [...this.listeners.values()];
    this.listeners.clear();
    for (const onEnded of ended) onEnded();
  }

  /**
   * A turn's replies go out as one group: the bot says two or three things in a row, and one
   * frame each was a tenth of a turn's cost under load. They are sent once the turn's
   * synchronous run of sends is over (setImmediate), which adds no waiting of its own.
   */
  private notify(group: ActivityGroup): void {
    if (this.listeners.size === 0 && !this.watchedElsewhere()) return;
    this.pending.push(group);
    if (this.pending.length === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const groups = this.pending;
    if (groups.length === 0) return;
    this.pending = [];
    const watermark = [...groups].reverse().find((group) => group.watermark !== undefined)?.watermark;
    const merged: ActivityGroup = { activities: groups.flatMap((group) => group.activities), ...(watermark === undefined ? {} : { watermark }) };
    for (const listener of this.listeners.keys()) listener(merged);
    if (this.watchedElsewhere()) this.limits.relay?.(this, merged);
  }

  private watchedElsewhere(): boolean {
    return this.remoteWatchUntil !== 0 && this.remoteWatchUntil > this.now();
  }

  private prune(): void {
    const oldest = this.now() - this.limits.bufferMs;
    let from = 0;
    while (from < this.entries.length && this.entries[from]!.at < oldest) from++;
    from = Math.max(from, this.entries.length - this.limits.bufferActivities);
    if (from > 0) this.entries = this.entries.slice(from);
  }
}

export interface ConversationRegistryOptions extends BufferLimits {
  readonly idleMs: number;
  /** How long an ended conversation's id stays refused (its tokens may still be unexpired). */
  readonly tombstoneMs: number;
  readonly now: () => number;
}

export class DirectLineConversations {
  private readonly live = new Map<string, DirectLineConversation>();
  private readonly ended = new Map<string, number>();

  constructor(private readonly options: ConversationRegistryOptions) {}

  get(id: string): DirectLineConversation | undefined {
    return this.live.get(id);
  }

  /** The conversation, created on first use; undefined when it has ended. */
  open(id: string, userId: string, locale: string | undefined): DirectLineConversation | undefined {
    if (this.hasEnded(id)) return undefined;
    let conversation = this.live.get(id);
    if (!conversation) {
      conversation = new DirectLineConversation(id, userId, locale, this.options, this.options.now);
      this.live.set(id, conversation);
    }
    return conversation;
  }

  hasEnded(id: string): boolean {
    const until = this.ended.get(id);
    if (until === undefined) return false;
    if (until > this.options.now()) return true;
    this.ended.delete(id);
    return false;
  }

  /**
   * Takes over a conversation whose home instance is gone: an empty buffer whose sequence starts
   * above any the old home could have reached (it counted from 0; this starts at the clock's
   * milliseconds), so a client's old watermark never hides what comes next. Never welcomed again.
   */
  adopt(id: string, userId: string, locale: string | undefined): DirectLineConversation | undefined {
    if (this.hasEnded(id)) return undefined;
    let conversation = this.live.get(id);
    if (!conversation) {
      conversation = new DirectLineConversation(id, userId, locale, this.options, this.options.now, this.options.now());
      conversation.started = true;
      this.live.set(id, conversation);
    }
    return conversation;
  }

  /** Lets go of a conversation that goes on elsewhere: its buffer and streams are dropped, its tokens still work. */
  release(id: string): void {
    this.live.get(id)?.drop();
    this.live.delete(id);
  }

  /** Drops the conversation and its buffer; its tokens stop working here. */
  end(id: string): void {
    this.live.get(id)?.drop();
    this.live.delete(id);
    this.ended.set(id, this.options.now() + this.options.tombstoneMs);
  }

  /** Conversations nobody has touched for the idle time, with no stream open and no turn running. */
  idle(): DirectLineConversation[] {
    const cutoff = this.options.now() - this.options.idleMs;
    for (const [id, until] of this.ended) if (until <= this.options.now()) this.ended.delete(id);
    return [...this.live.values()].filter((c) => c.lastTouched < cutoff && c.streamCount === 0 && c.pendingTurns === 0);
  }

  get size(): number {
    return this.live.size;
  }

  all(): IterableIterator<DirectLineConversation> {
    return this.live.values();
  }
}
