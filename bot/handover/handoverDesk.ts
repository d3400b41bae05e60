/**
 * The front desk between people and counsellors on one instance: who is waiting, who is
 * signed in and available, which chats are live, and the relay between them. Everything here
 * lives in memory only; a relayed message is handed on and forgotten, and nothing is written
 * anywhere. The desk knows neither Bot Framework nor WebSockets: people are reached through a
 * PersonLink and counsellors through CounsellorLinks.
 */
import { randomUUID } from 'node:crypto';
import type { ContextCard } from './contextCard.js';
import { WaitingQueue, type QueueEntry } from './waitingQueue.js';
import { errorFrame, helloFrame, type ConsoleErrorCode, type ConsoleFrame, type OpenChat } from './consoleFrames.js';
import type { OpeningHours } from './openingHours.js';
import type { RiskAssessment } from '../risk/riskScreen.js';
import type { Logger } from '../privacy/logger.js';
import type { AggregateCounts } from '../metrics/aggregateCounts.js';
import { COUNTED, waited } from '../metrics/countedEvents.js';

/** How the desk reaches a person's conversation (proactively, on whatever channel they use). */
export interface PersonLink {
  /** A counsellor's words; resolves once the channel has taken them. */
  sendText(counsellorName: string, text: string): Promise<void>;
  sendTyping(): Promise<void>;
  /** A change the bot puts into words (and acts on) in the person's conversation. */
  notify(event: PersonEvent): Promise<void>;
}

export type PersonEvent =
  | { readonly kind: 'position'; readonly position: number; readonly estimateMinutes: number }
  | { readonly kind: 'connected'; readonly counsellorName: string }
  | { readonly kind: 'requeued'; readonly position: number; readonly estimateMinutes: number }
  | { readonly kind: 'ended'; readonly by: 'counsellor'; readonly suggestModule?: string }
  | { readonly kind: 'timedOut' };

/** One open console page. */
export interface CounsellorLink {
  send(frame: ConsoleFrame): void;
}

export interface StaffMember {
  readonly name: string;
  readonly role: 'counsellor' | 'supervisor';
}

export type Availability =
  | { readonly state: 'open'; readonly counsellorsOnline: number }
  | { readonly state: 'nobody' }
  | { readonly state: 'closed'; readonly nextOpening: Date | undefined }
  /** The desk shared between instances cannot be reached (Redis is down); it comes back by itself. */
  | { readonly state: 'unavailable' };

export type PersonStatus =
  | { readonly state: 'none' }
  | { readonly state: 'queued'; readonly position: number; readonly estimateMinutes: number }
  | { readonly state: 'connected'; readonly counsellorName: string };

export interface HandoverDeskOptions {
  readonly hours: OpeningHours;
  readonly queue: { readonly timeoutMinutes: number; readonly assumedChatMinutes: number; readonly positionUpdateSeconds: number };
  /** Modules a counsellor may suggest when ending a chat (ids and titles in the default language). */
  readonly modules: readonly { readonly id: string; readonly title: string }[];
  /** Where connections, waits and timeouts are counted (by the card's channel and language only). */
  readonly counts?: AggregateCounts;
  readonly log: Logger;
  readonly now?: () => number;
  /** How long a counsellor's chats wait for their page to come back before the people are re-queued. */
  readonly reconnectGraceMs?: number;
  /** How often timeouts, position updates and the console's queue view are refreshed. */
  readonly tickMs?: number;
}

interface Waiting {
  readonly personKey: string;
  link: PersonLink;
  told: { position: number; at: number };
}

interface LiveChat {
  readonly chatId: string;
  readonly personKey: string;
  readonly counsellor: string;
  readonly card: ContextCard;
  readonly connectedAt: number;
  readonly link: PersonLink;
  /** The person's messages while the counsellor's page is reconnecting; handed over on return, never kept longer. */
  readonly held: ConsoleFrame[];
  /** Keeps the counsellor's messages in order on the person's channel. */
  sending: Promise<void>;
}

interface Counsellor {
  readonly name: string;
  readonly role: StaffMember['role'];
  available: boolean;
  readonly links: Set<CounsellorLink>;
  grace?: NodeJS.Timeout;
}

/** Most messages a reconnecting counsellor can be owed; more would mean they are not coming back. */
const MAX_HELD = 50;
/** Chat lengths remembered for wait estimates. */
const RECENT_CHATS = 20;
const QUEUE_REFRESH_MS = 15_000;

export class HandoverDesk {
  private readonly queue = new WaitingQueue<Waiting>();
  private readonly ticketOf = new Map<string, string>();
  private readonly chats = new Map<string, LiveChat>();
  private readonly chatOf = new Map<string, string>();
  private readonly counsellors = new Map<string, Counsellor>();
  private readonly recentChatMinutes: number[] = [];
  private readonly now: () => number;
  private readonly graceMs: number;
  private timer: NodeJS.Timeout | undefined;
  private lastQueueBroadcast = 0;

  constructor(private readonly options: HandoverDeskOptions) {
    this.now = options.now ?? Date.now;
    this.graceMs = options.reconnectGraceMs ?? 2000;
  }

  /** Starts the clock that times out long waits and refreshes positions. */
  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.options.tickMs ?? 5000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const counsellor of this.counsellors.values()) clearTimeout(counsellor.grace);
  }

  /** How busy the desk is, in numbers only (for the operations metrics). */
  occupancy(): { readonly waiting: number; readonly liveChats: number; readonly counsellorsOnline: number } {
    return { waiting: this.queue.length, liveChats: this.chats.size, counsellorsOnline: this.onlineCount() };
  }

  // ---- the person's side -------------------------------------------------------------------

  availability(): Availability {
    const at = new Date(this.now());
    if (!this.options.hours.isOpen(at)) return { state: 'closed', nextOpening: this.options.hours.nextOpening(at) };
    const online = this.onlineCount();
    return online > 0 ? { state: 'open', counsellorsOnline: online } : { state: 'nobody' };
  }

  statusOf(personKey: string): PersonStatus {
    const chat = this.chatFor(personKey);
    if (chat) return { state: 'connected', counsellorName: chat.counsellor };
    const ticket = this.ticketOf.get(personKey);
    const position = ticket ? this.queue.position(ticket) : undefined;
    return position ? { state: 'queued', position, estimateMinutes: this.estimateMinutes(position) } : { state: 'none' };
  }

  /** Joins the queue (or, if already waiting, refreshes how to reach the person). */
  enqueue(personKey: string, card: Omit<ContextCard, 'queuedAt'>, link: PersonLink): PersonStatus {
    const existing = this.ticketOf.get(personKey);
    if (existing) {
      this.queue.get(existing)!.holder.link = link;
      return this.statusOf(personKey);
    }
    if (this.chatFor(personKey)) return this.statusOf(personKey);
    const entry = this.addToQueue(personKey, { ...card, queuedAt: this.now() }, link);
    this.options.log.info({ event: 'handover.queued', priority: entry.priority, queueLength: this.queue.length });
    this.queueChanged();
    return this.statusOf(personKey);
  }

  leaveQueue(personKey: string): boolean {
    const left = this.dropFromQueue(personKey);
    if (left) {
      this.options.log.info({ event: 'handover.leftQueue' });
      this.queueChanged();
    }
    return left;
  }

  /** Hands the person's message to their counsellor; false when they are not in a live chat. */
  relayFromPerson(personKey: string, text: string, risk: RiskAssessment): boolean {
    const chat = this.chatFor(personKey);
    if (!chat) return false;
    // The flag goes first, so the counsellor reads the message already knowing it was flagged.
    if (risk.escalate) {
      this.options.log.info({ event: 'handover.riskFlagged', category: risk.category, level: risk.level });
      this.toChat(chat, { type: 'risk', chatId: chat.chatId, category: risk.category, level: risk.level });
    }
    this.toChat(chat, { type: 'message', chatId: chat.chatId, text });
    return true;
  }

  personTyping(personKey: string): void {
    const chat = this.chatFor(personKey);
    if (chat) this.toCounsellor(chat.counsellor, { type: 'typing', chatId: chat.chatId });
  }

  /** The person said "end chat"; true when there was a chat to end. */
  endByPerson(personKey: string): boolean {
    const chat = this.chatFor(personKey);
    if (!chat) return false;
    this.closeChat(chat, 'person');
    return true;
  }

  /** The person's channel says they have gone: leave the queue or end their chat. */
  personGone(personKey: string): void {
    const chat = this.chatFor(personKey);
    if (chat) this.closeChat(chat, 'disconnected');
    else this.leaveQueue(personKey);
  }

  // ---- the counsellor's side ---------------------------------------------------------------

  /** A console page connected; returns what to call when it goes. */
  attach(staff: StaffMember, link: CounsellorLink): () => void {
    let counsellor = this.counsellors.get(staff.name);
    if (!counsellor) {
      counsellor = { name: staff.name, role: staff.role, available: false, links: new Set() };
      this.counsellors.set(staff.name, counsellor);
    }
    clearTimeout(counsellor.grace);
    counsellor.grace = undefined;
    counsellor.links.add(link);
    link.send(helloFrame(counsellor, this.now(), this.options.modules));
    link.send(this.queueFrame());
    const own = [...this.chats.values()].filter((chat) => chat.counsellor === staff.name);
    link.send({ type: 'chats', chats: own.map(openChat) });
    // Whatever the person wrote while the page was away is handed over now, then forgotten.
    for (const chat of own) chat.held.splice(0).forEach((frame) => link.send(frame));
    if (counsellor.role === 'supervisor') link.send(this.presenceFrame());
    this.presenceChanged();
    return () => this.detach(counsellor, link);
  }

  setAvailable(name: string, available: boolean): void {
    const counsellor = this.counsellors.get(name);
    if (!counsellor) return;
    counsellor.available = available;
    this.presenceChanged();
  }

  accept(name: string, ticket: string): void {
    const counsellor = this.counsellors.get(name);
    if (!counsellor) return;
    if (!counsellor.available) return this.refuse(name, 'NOT_AVAILABLE');
    const entry = this.queue.remove(ticket);
    if (!entry) return this.refuse(name, 'TICKET_GONE');
    this.ticketOf.delete(entry.holder.personKey);
    const chat: LiveChat = {
      chatId: randomUUID(),
      personKey: entry.holder.personKey,
      counsellor: name,
      card: entry.card,
      connectedAt: this.now(),
      link: entry.holder.link,
      held: [],
      sending: Promise.resolve(),
    };
    this.chats.set(chat.chatId, chat);
    this.chatOf.set(chat.personKey, chat.chatId);
    this.options.log.info({ event: 'handover.connected', priority: entry.priority, waitedSeconds: Math.round((chat.connectedAt - entry.card.queuedAt) / 1000) });
    // Someone put back at the front after their counsellor dropped was counted when first connected.
    if (!entry.atFront) this.count([COUNTED.handoverConnected, waited(chat.connectedAt - entry.card.queuedAt)], entry.card);
    this.toCounsellor(name, { type: 'chat.opened', chat: openChat(chat) });
    this.inOrder(chat, () => chat.link.notify({ kind: 'connected', counsellorName: name }));
    this.queueChanged();
  }

  send(name: string, chatId: string, text: string, ref: string | undefined): void {
    const chat = this.ownChat(name, chatId, ref);
    if (!chat) return;
    this.inOrder(
      chat,
      async () => {
        await chat.link.sendText(chat.counsellor, text);
        this.toCounsellor(name, { type: 'delivered', chatId, ref });
      },
      ref,
    );
  }

  counsellorTyping(name: string, chatId: string): void {
    const chat = this.ownChat(name, chatId);
    if (chat) this.inOrder(chat, () => chat.link.sendTyping());
  }

  end(name: string, chatId: string, suggestModule: string | undefined): void {
    const chat = this.ownChat(name, chatId);
    if (!chat) return;
    const suggestion = this.options.modules.some((m) => m.id === suggestModule) ? suggestModule : undefined;
    this.closeChat(chat, 'counsellor');
    this.inOrder(chat, () => chat.link.notify({ kind: 'ended', by: 'counsellor', suggestModule: suggestion }));
  }

  /** Tells the counsellor why something did not happen; `ref` names their message, when it was one. */
  private refuse(name: string, code: ConsoleErrorCode, ref?: string): void {
    this.toCounsellor(name, errorFrame(code, ref));
  }

  /** Times out long waits, tells people their new place, refreshes the consoles' queue view. */
  tick(): void {
    const now = this.now();
    const timeoutMs = this.options.queue.timeoutMinutes * 60_000;
    for (const entry of [...this.queue.ordered()]) {
      if (now - entry.card.queuedAt < timeoutMs) continue;
      this.dropFromQueue(entry.holder.personKey);
      this.options.log.info({ event: 'handover.timedOut', priority: entry.priority });
      if (!entry.atFront) this.count([COUNTED.handoverTimedOut], entry.card);
      void this.deliver(() => entry.holder.link.notify({ kind: 'timedOut' }));
      this.queueChanged();
    }
    this.tellPositions();
    if (now - this.lastQueueBroadcast >= QUEUE_REFRESH_MS) this.broadcastQueue();
  }

  // ---- inside ------------------------------------------------------------------------------

  private count(events: readonly string[], card: ContextCard): void {
    for (const event of events) this.options.counts?.increment(event, { channel: card.channel, locale: card.locale });
  }

  private detach(counsellor: Counsellor, link: CounsellorLink): void {
    counsellor.links.delete(link);
    if (counsellor.links.size > 0) return;
    // A reload or a short network blip should not cost anyone their chat; a longer absence does.
    counsellor.grace = setTimeout(() => this.counsellorGone(counsellor), this.graceMs);
    counsellor.grace.unref();
  }

  private counsellorGone(counsellor: Counsellor): void {
    counsellor.grace = undefined;
    if (counsellor.links.size > 0) return;
    this.counsellors.delete(counsellor.name);
    for (const chat of [...this.chats.values()]) {
      if (chat.counsellor !== counsellor.name) continue;
      this.forgetChat(chat);
      this.options.log.info({ event: 'handover.requeued' });
      this.addToQueue(chat.personKey, { ...chat.card, queuedAt: this.now() }, chat.link, { atFront: true });
      const status = this.statusOf(chat.personKey);
      if (status.state === 'queued') {
        this.inOrder(chat, () => chat.link.notify({ kind: 'requeued', position: status.position, estimateMinutes: status.estimateMinutes }));
      }
    }
    this.queueChanged();
  }

  private closeChat(chat: LiveChat, by: 'person' | 'counsellor' | 'disconnected'): void {
    this.forgetChat(chat);
    const minutes = (this.now() - chat.connectedAt) / 60_000;
    this.recentChatMinutes.push(minutes);
    if (this.recentChatMinutes.length > RECENT_CHATS) this.recentChatMinutes.shift();
    this.options.log.info({ event: 'handover.ended', by, minutes: Math.round(minutes) });
    this.toCounsellor(chat.counsellor, { type: 'chat.ended', chatId: chat.chatId, by });
    this.presenceChanged();
  }

  private forgetChat(chat: LiveChat): void {
    chat.held.length = 0;
    this.chats.delete(chat.chatId);
    this.chatOf.delete(chat.personKey);
  }

  private addToQueue(personKey: string, card: ContextCard, link: PersonLink, { atFront = false } = {}): QueueEntry<Waiting> {
    const ticket = randomUUID();
    const entry = this.queue.add(ticket, card, { personKey, link, told: { position: 0, at: this.now() } }, { atFront });
    this.ticketOf.set(personKey, ticket);
    entry.holder.told.position = this.queue.position(ticket) ?? 0;
    return entry;
  }

  private dropFromQueue(personKey: string): boolean {
    const ticket = this.ticketOf.get(personKey);
    if (!ticket) return false;
    this.ticketOf.delete(personKey);
    return this.queue.remove(ticket) !== undefined;
  }

  private chatFor(personKey: string): LiveChat | undefined {
    const chatId = this.chatOf.get(personKey);
    return chatId ? this.chats.get(chatId) : undefined;
  }

  private ownChat(name: string, chatId: string, ref?: string): LiveChat | undefined {
    const chat = this.chats.get(chatId);
    if (chat?.counsellor === name) return chat;
    this.refuse(name, 'NOT_YOUR_CHAT', ref);
    return undefined;
  }

  /** Honest, and rough: people ahead of you, times an average chat, shared among who is online. */
  private estimateMinutes(position: number): number {
    const recent = this.recentChatMinutes;
    const chatMinutes = recent.length >= 3 ? recent.reduce((a, b) => a + b, 0) / recent.length : this.options.queue.assumedChatMinutes;
    return Math.max(1, Math.ceil((position * chatMinutes) / Math.max(1, this.onlineCount())));
  }

  private onlineCount(): number {
    return [...this.counsellors.values()].filter((c) => c.links.size > 0 || c.grace).length;
  }

  private tellPositions(): void {
    const now = this.now();
    const everyMs = this.options.queue.positionUpdateSeconds * 1000;
    for (const [index, entry] of this.queue.ordered().entries()) {
      const position = index + 1;
      const { told } = entry.holder;
      if (position === told.position || now - told.at < everyMs) continue;
      entry.holder.told = { position, at: now };
      const estimateMinutes = this.estimateMinutes(position);
      void this.deliver(() => entry.holder.link.notify({ kind: 'position', position, estimateMinutes }));
    }
  }

  private queueChanged(): void {
    this.broadcastQueue();
    this.presenceChanged();
  }

  private broadcastQueue(): void {
    this.lastQueueBroadcast = this.now();
    const frame = this.queueFrame();
    for (const counsellor of this.counsellors.values()) counsellor.links.forEach((link) => link.send(frame));
  }

  private presenceChanged(): void {
    const frame = this.presenceFrame();
    for (const counsellor of this.counsellors.values()) {
      if (counsellor.role === 'supervisor') counsellor.links.forEach((link) => link.send(frame));
    }
  }

  private queueFrame(): ConsoleFrame {
    return {
      type: 'queue',
      now: this.now(),
      entries: this.queue.ordered().map((entry) => ({ ticket: entry.ticket, priority: entry.priority, card: entry.card })),
    };
  }

  private presenceFrame(): ConsoleFrame {
    const chatsOf = (name: string) => [...this.chats.values()].filter((chat) => chat.counsellor === name).length;
    return {
      type: 'presence',
      counsellors: [...this.counsellors.values()].map((c) => ({ name: c.name, role: c.role, available: c.available, chats: chatsOf(c.name) })),
      queueLength: this.queue.length,
      liveChats: this.chats.size,
    };
  }

  private toCounsellor(name: string, frame: ConsoleFrame): void {
    this.counsellors.get(name)?.links.forEach((link) => link.send(frame));
  }

  /** To the chat's counsellor, or held for them while their page reconnects. */
  private toChat(chat: LiveChat, frame: ConsoleFrame): void {
    const links = this.counsellors.get(chat.counsellor)?.links;
    if (links && links.size > 0) links.forEach((link) => link.send(frame));
    else if (chat.held.length < MAX_HELD) chat.held.push(frame);
  }

  private inOrder(chat: LiveChat, step: () => Promise<void>, ref?: string): void {
    chat.sending = chat.sending.then(() =>
      step().catch((error: unknown) => {
        this.options.log.warn({ event: 'handover.deliveryFailed', err: error });
        this.refuse(chat.counsellor, 'DELIVERY_FAILED', ref);
      }),
    );
  }

  private async deliver(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.options.log.warn({ event: 'handover.deliveryFailed', err: error });
    }
  }
}

function openChat(chat: LiveChat): OpenChat {
  return { chatId: chat.chatId, card: chat.card, connectedAt: chat.connectedAt };
}
