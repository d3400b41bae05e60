/**
 * The front desk shared by several Waypoint instances: a person whose turns run on instance A and
 * a counsellor whose console is connected to instance B talk as if both were on one. The queue,
 * the live chats and who is online live in Redis (redis/deskStore.ts); words travel over pub/sub
 * (redis/deskBus.ts) and are never stored. HandoverDesk remains the desk of a single instance.
 *
 * Each decision driven by a clock is made once, by the instance that owns it, without a lease:
 * a person belongs to the instance holding their link (their home), which alone times out their
 * wait, tells them their place and puts them back in the queue when their counsellor has gone;
 * a console belongs to the instance it is connected to. An instance that dies is noticed by its
 * lapsed heartbeat, and any other instance forgets its people.
 *
 * While Redis is down nothing crashes: people asking for a counsellor hear that live chat is
 * temporarily unavailable, consoles are told, and each instance keeps what it knows (its people,
 * their places, its consoles) to write back when Redis returns, even empty after a restart.
 */
import { randomUUID } from 'node:crypto';
import { priorityOf, type ContextCard } from './contextCard.js';
import { CONSOLE_ERROR_MESSAGES, type ConsoleErrorCode, type ConsoleFrame, type OpenChat } from './consoleFrames.js';
import { DeskUnavailableError, type Desk } from './desk.js';
import type { Availability, CounsellorLink, HandoverDeskOptions, PersonEvent, PersonLink, PersonStatus, StaffMember } from './handoverDesk.js';
import type { RiskAssessment } from '../risk/riskScreen.js';
import { COUNTED, waited } from '../metrics/countedEvents.js';
import type { InstanceBus } from '../redis/instanceBus.js';
import { createDeskStore, type ChatRecord, type DeskSnapshot, type DeskStore, type PersonState, type TicketRecord } from '../redis/deskStore.js';
import { createDeskBus, type DeskBus, type DeskNews, type PersonDelivery } from './deskBus.js';

export interface RedisDeskOptions extends HandoverDeskOptions {
  /** How instances reach each other; its connection also carries the desk's commands. */
  readonly bus: InstanceBus;
  /** Put before every key and channel, so several deployments can share one Redis. */
  readonly keyPrefix: string;
  /** How often this instance says it is alive; it is given up on after HEARTBEATS_LOST of these. */
  readonly heartbeatMs?: number;
}

/** A person whose link this instance holds. */
interface HomePerson {
  readonly personKey: string;
  link: PersonLink;
  waiting?: { readonly ticket: TicketRecord; told: { position: number; at: number } };
  chat?: { readonly chatId: string; readonly counsellor: string; readonly card: ContextCard; readonly connectedAt: number };
  /** Keeps what reaches the person in order. */
  sending: Promise<void>;
  /** Their place or chat was missing from Redis at the last tick (news of why may still be on its way). */
  missing?: boolean;
}

/** A counsellor with a console open (or reconnecting) on this instance. */
interface LocalCounsellor {
  readonly name: string;
  readonly role: StaffMember['role'];
  available: boolean;
  /** Each page, and whether it has had its welcome yet (frames wait until it has). */
  readonly links: Map<CounsellorLink, { ready: boolean; pending: ConsoleFrame[] }>;
  grace?: NodeJS.Timeout;
  /** The person's words while every page is away; handed over on return, never kept longer. */
  held: ConsoleFrame[];
}

/** A person's words that found no console open anywhere (their counsellor is reconnecting). */
interface Held {
  readonly counsellor: string;
  readonly frames: ConsoleFrame[];
  readonly since: number;
}

/** Most messages a reconnecting counsellor can be owed; more would mean they are not coming back. */
const MAX_HELD = 50;
/** Held words are dropped after this long: by then the chat has gone back to the queue. */
const HOLD_MS = 60_000;
const QUEUE_REFRESH_MS = 15_000;
const HEARTBEATS_LOST = 10;
/** Only frames that carry the person's side of the chat are held for a reconnecting console. */
const HELD_TYPES = new Set<ConsoleFrame['type']>(['message', 'risk']);

export class RedisDesk implements Desk {
  private readonly instanceId: string;
  private readonly store: DeskStore;
  private readonly bus: DeskBus;
  private readonly people = new Map<string, HomePerson>();
  private readonly counsellors = new Map<string, LocalCounsellor>();
  private readonly held = new Map<string, Held>();
  /** Per chat, keeps a counsellor's messages in order on their way to the person's home. */
  private readonly outgoing = new Map<string, Promise<void>>();
  private readonly now: () => number;
  private readonly graceMs: number;
  private readonly heartbeatMs: number;
  /** The last snapshot read, for wait estimates between reads. */
  private view: DeskSnapshot | undefined;
  private epoch: string | undefined;
  private down = false;
  /** Until then, a counsellor missing from presence may only be slow to write it back after an outage. */
  private settledAt = 0;
  private lastQueueBroadcast = 0;
  private ticking: Promise<void> = Promise.resolve();
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private timers: NodeJS.Timeout[] = [];
  private started = false;

  constructor(private readonly options: RedisDeskOptions) {
    this.now = options.now ?? Date.now;
    this.graceMs = options.reconnectGraceMs ?? 2000;
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.instanceId = options.bus.instanceId;
    this.store = createDeskStore(options.bus.redis, options.keyPrefix);
    this.bus = createDeskBus(
      options.bus,
      {
        counsellorFrames: (name, frames) => this.framesForCounsellor(name, frames),
        personDelivery: (delivery) => this.deliveryForPerson(delivery),
        news: (news) => this.heardNews(news),
      },
      options.log,
    );
  }

  /** Subscribes and registers this instance; when Redis is down it carries on and joins when it returns. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.options.bus.redis.on('ready', this.onReady);
    this.options.bus.redis.on('close', this.onClose);
    const every = (ms: number, task: () => Promise<void>) => {
      const timer = setInterval(() => void task(), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.tickMs ?? 5000, () => this.tick());
    every(this.heartbeatMs, () => this.heartbeat());
    if (this.store.ready) await this.joined();
  }

  stop(): void {
    this.timers.forEach(clearInterval);
    this.timers = [];
    this.options.bus.redis.off('ready', this.onReady);
    this.options.bus.redis.off('close', this.onClose);
    for (const counsellor of this.counsellors.values()) clearTimeout(counsellor.grace);
    this.bus.close();
  }

  private readonly onReady = () => void this.joined();
  private readonly onClose = () => this.lostRedis();

  /** This instance's share: its people and its consoles, so the instances' figures add up. */
  occupancy(): { readonly waiting: number; readonly liveChats: number; readonly counsellorsOnline: number } {
    const people = [...this.people.values()];
    return {
      waiting: people.filter((person) => person.waiting).length,
      liveChats: people.filter((person) => person.chat).length,
      counsellorsOnline: this.counsellors.size,
    };
  }

  // ---- the person's side -------------------------------------------------------------------

  async availability(): Promise<Availability> {
    const at = new Date(this.now());
    if (!this.options.hours.isOpen(at)) return { state: 'closed', nextOpening: this.options.hours.nextOpening(at) };
    if (!this.store.ready) return { state: 'unavailable' };
    try {
      const online = (await this.store.online()).size;
      return online > 0 ? { state: 'open', counsellorsOnline: online } : { state: 'nobody' };
    } catch {
      return { state: 'unavailable' };
    }
  }

  /** Never fails: while Redis is down, what this instance knows of its own people. */
  async statusOf(personKey: string): Promise<PersonStatus> {
    if (this.store.ready) {
      try {
        return this.statusFrom(await this.store.personState(personKey));
      } catch {
        // Fall through to what this instance knows.
      }
    }
    const person = this.people.get(personKey);
    if (person?.chat) return { state: 'connected', counsellorName: person.chat.counsellor };
    if (person?.waiting) return { state: 'queued', position: person.waiting.told.position, estimateMinutes: this.estimateMinutes(person.waiting.told.position) };
    return { state: 'none' };
  }

  async enqueue(personKey: string, card: Omit<ContextCard, 'queuedAt'>, link: PersonLink): Promise<PersonStatus> {
    this.requireRedis();
    const existing = this.people.get(personKey);
    if (existing?.waiting) {
      existing.link = link;
      return this.statusOf(personKey);
    }
    if (existing?.chat) return this.statusOf(personKey);
    const fresh: TicketRecord = { ticket: randomUUID(), personKey, card: { ...card, queuedAt: this.now() }, priority: priorityOf(card.reason), atFront: false };
    const result = await this.shared(() => this.store.enqueue(fresh, this.instanceId));
    if (result.state === 'connected') return { state: 'connected', counsellorName: result.counsellor };
    const ticket = result.state === 'queued' ? (result.ticket ?? fresh) : fresh;
    const position = Math.max(1, result.rank + 1);
    this.people.set(personKey, { personKey, link, waiting: { ticket, told: { position, at: this.now() } }, sending: Promise.resolve() });
    if (result.state === 'queued') {
      // Their turns run here now, so this instance holds their freshest link; the old home lets go.
      // (If the old home cannot be told, its copy goes when the person's wait or chat ends.)
      if (result.previousHome !== this.instanceId) await this.bus.toInstance(result.previousHome, { kind: 'release', personKey }).catch(() => false);
    } else {
      this.options.log.info({ event: 'handover.queued', priority: ticket.priority, queueLength: (this.view?.queue.length ?? 0) + 1 });
      await this.announce({ kind: 'changed' }).catch(() => undefined);
    }
    return { state: 'queued', position, estimateMinutes: this.estimateMinutes(position) };
  }

  async leaveQueue(personKey: string): Promise<boolean> {
    const left = await this.shared(() => this.store.leave(personKey));
    if (!left) return false;
    this.people.delete(personKey);
    this.options.log.info({ event: 'handover.leftQueue' });
    await this.announce({ kind: 'personDone', personKey, ticket: left.ticket?.ticket }).catch(() => undefined);
    return true;
  }

  async relayFromPerson(personKey: string, text: string, risk: RiskAssessment): Promise<boolean> {
    const state = await this.liveState(personKey);
    if (!state) return false;
    // The flag goes first, so the counsellor reads the message already knowing it was flagged.
    const frames: ConsoleFrame[] = [];
    if (risk.escalate) {
      this.options.log.info({ event: 'handover.riskFlagged', category: risk.category, level: risk.level });
      frames.push({ type: 'risk', chatId: state.chatId, category: risk.category, level: risk.level });
    }
    frames.push({ type: 'message', chatId: state.chatId, text });
    try {
      const heard = await this.bus.toCounsellor(state.counsellor, frames);
      if (heard === 0) this.hold(state.chatId, state.counsellor, frames);
    } catch {
      throw new DeskUnavailableError();
    }
    return true;
  }

  personTyping(personKey: string): void {
    void (async () => {
      const state = await this.liveState(personKey);
      if (state) await this.bus.toCounsellor(state.counsellor, [{ type: 'typing', chatId: state.chatId }]);
    })().catch(() => undefined);
  }

  async endByPerson(personKey: string): Promise<boolean> {
    return this.endFromPersonSide(personKey, 'person');
  }

  personGone(personKey: string): void {
    void (async () => {
      if (!(await this.endFromPersonSide(personKey, 'disconnected')) && this.store.ready) await this.leaveQueue(personKey);
    })().catch((error: unknown) => this.options.log.warn({ event: 'handover.personGoneFailed', err: error }));
  }

  // ---- the counsellor's side ---------------------------------------------------------------

  attach(staff: StaffMember, link: CounsellorLink): () => void {
    let counsellor = this.counsellors.get(staff.name);
    const arriving = !counsellor;
    if (!counsellor) {
      counsellor = { name: staff.name, role: staff.role, available: false, links: new Map(), held: [] };
      this.counsellors.set(staff.name, counsellor);
    }
    clearTimeout(counsellor.grace);
    counsellor.grace = undefined;
    counsellor.links.set(link, { ready: false, pending: [] });
    const own = counsellor;
    void this.welcome(own, link, arriving);
    return () => this.detach(own, link);
  }

  setAvailable(name: string, available: boolean): void {
    const counsellor = this.counsellors.get(name);
    if (!counsellor) return;
    counsellor.available = available;
    void this.store
      .setCounsellor(name, { role: counsellor.role, available })
      .then(() => this.announce({ kind: 'changed' }))
      .catch(() => this.refuse(name, 'LIVE_CHAT_UNAVAILABLE'));
  }

  accept(name: string, ticket: string): void {
    const counsellor = this.counsellors.get(name);
    if (!counsellor) return;
    if (!counsellor.available) return this.refuse(name, 'NOT_AVAILABLE');
    if (!this.store.ready) return this.refuse(name, 'LIVE_CHAT_UNAVAILABLE');
    void this.acceptTicket(name, ticket).catch(() => this.refuse(name, 'LIVE_CHAT_UNAVAILABLE'));
  }

  send(name: string, chatId: string, text: string, ref: string | undefined): void {
    this.inChatOrder(chatId, async () => {
      const route = await this.ownRoute(name, chatId, ref);
      if (!route) return;
      const heard = await this.bus.toInstance(route.home, { kind: 'text', personKey: route.chat.ticket.personKey, chatId, counsellor: name, text, ref });
      if (!heard) this.refuse(name, 'DELIVERY_FAILED', ref);
    }, () => this.refuse(name, 'DELIVERY_FAILED', ref));
  }

  counsellorTyping(name: string, chatId: string): void {
    this.inChatOrder(chatId, async () => {
      const route = await this.ownRoute(name, chatId);
      if (route) await this.bus.toInstance(route.home, { kind: 'typing', personKey: route.chat.ticket.personKey, chatId });
    }, () => undefined);
  }

  end(name: string, chatId: string, suggestModule: string | undefined): void {
    this.inChatOrder(chatId, async () => {
      if (!this.store.ready) return this.refuse(name, 'LIVE_CHAT_UNAVAILABLE');
      const ended = await this.store.endChat(chatId, name);
      if (!ended) return this.refuse(name, 'NOT_YOUR_CHAT');
      const suggestion = this.options.modules.some((m) => m.id === suggestModule) ? suggestModule : undefined;
      const { personKey } = ended.chat.ticket;
      await this.chatClosed(ended.chat, 'counsellor');
      // To the home before the news, so it still holds the link when it hears the chat is over.
      await this.bus.toInstance(ended.home, { kind: 'event', personKey, event: { kind: 'ended', by: 'counsellor', suggestModule: suggestion } });
      await this.announce({ kind: 'personDone', personKey, chatId });
    }, () => this.refuse(name, 'LIVE_CHAT_UNAVAILABLE'));
  }

  /** Times out long waits, tells people their new place, refreshes the consoles' queue view. */
  tick(): Promise<void> {
    // One at a time: two overlapping ticks would tell a person the same news twice.
    const next = this.ticking.then(() => this.tickOnce());
    this.ticking = next;
    return next;
  }

  private async tickOnce(): Promise<void> {
    if (!this.store.ready) return this.dropOldHeld();
    try {
      await this.listen();
      const snapshot = await this.store.snapshot();
      this.view = snapshot;
      await this.tickOwnPeople(snapshot);
      await this.forgetDeadInstances();
      this.dropOldHeld();
      if (this.now() - this.lastQueueBroadcast >= QUEUE_REFRESH_MS) this.refreshConsoles();
    } catch (error) {
      this.options.log.warn({ event: 'handover.tickFailed', err: error });
    }
  }

  // ---- a person's home ---------------------------------------------------------------------

  private async tickOwnPeople(snapshot: DeskSnapshot): Promise<void> {
    const now = this.now();
    const timeoutMs = this.options.queue.timeoutMinutes * 60_000;
    const everyMs = this.options.queue.positionUpdateSeconds * 1000;
    const rank = new Map(snapshot.queue.map((entry, index) => [entry.ticket, index]));
    const chats = new Set(snapshot.chats.map((chat) => chat.chatId));
    const settled = Date.now() >= this.settledAt;
    for (const person of [...this.people.values()]) {
      const wasMissing = person.missing === true;
      person.missing = false;
      if (person.waiting) {
        const { ticket, told } = person.waiting;
        if (now - ticket.card.queuedAt >= timeoutMs) {
          await this.timeOut(person, ticket);
          continue;
        }
        const index = rank.get(ticket.ticket);
        if (index === undefined) {
          // Gone from Redis with no word why, twice running: this instance was taken for dead. Back in, same place.
          if (wasMissing) await this.rejoin(person, ticket);
          else person.missing = true;
          continue;
        }
        const position = index + 1;
        if (position === told.position || now - told.at < everyMs) continue;
        person.waiting.told = { position, at: now };
        this.toPerson(person, { kind: 'position', position, estimateMinutes: this.estimateMinutes(position) });
      } else if (person.chat && !chats.has(person.chat.chatId)) {
        if (wasMissing) await this.chatLost(person);
        else person.missing = true;
      } else if (person.chat && settled && !snapshot.online.has(person.chat.counsellor)) {
        // Their counsellor's instance died (a clean disconnect is announced and handled sooner).
        await this.requeue(person);
      }
    }
  }

  private async rejoin(person: HomePerson, ticket: TicketRecord): Promise<void> {
    const result = await this.store.enqueue(ticket, this.instanceId);
    if (result.state === 'connected' && person.waiting?.ticket === ticket) {
      // Accepted, but the news never arrived (this instance was reconnecting): catch up.
      person.waiting = undefined;
      person.chat = { chatId: result.chatId, counsellor: result.counsellor, card: ticket.card, connectedAt: this.now() };
      return this.toPerson(person, { kind: 'connected', counsellorName: result.counsellor });
    }
    if (result.state !== 'added') return;
    this.options.log.info({ event: 'handover.rejoined' });
    await this.announce({ kind: 'changed' });
  }

  /** Their chat vanished from Redis while this instance was out of touch (the counsellor was told it ended). */
  private async chatLost(person: HomePerson): Promise<void> {
    const chat = person.chat;
    if (!chat) return;
    const ticket: TicketRecord = { ticket: randomUUID(), personKey: person.personKey, card: { ...chat.card, queuedAt: this.now() }, priority: priorityOf(chat.card.reason), atFront: true };
    const result = await this.store.enqueue(ticket, this.instanceId);
    if (result.state !== 'added' || person.chat !== chat) return;
    this.options.log.info({ event: 'handover.requeued' });
    const position = result.rank + 1;
    person.chat = undefined;
    person.waiting = { ticket, told: { position, at: this.now() } };
    this.toPerson(person, { kind: 'requeued', position, estimateMinutes: this.estimateMinutes(position) });
    await this.announce({ kind: 'changed' });
  }

  private async timeOut(person: HomePerson, ticket: TicketRecord): Promise<void> {
    const left = await this.store.leave(person.personKey, ticket.ticket);
    // Not there: accepted at this very moment (the news is on its way), or lost (put back next tick).
    if (!left) return;
    this.people.delete(person.personKey);
    this.options.log.info({ event: 'handover.timedOut', priority: ticket.priority });
    if (!ticket.atFront) this.count([COUNTED.handoverTimedOut], ticket.card);
    this.toPerson(person, { kind: 'timedOut' });
    await this.announce({ kind: 'personDone', personKey: person.personKey, ticket: ticket.ticket });
  }

  /** The person's counsellor has gone: back to the front of the queue. */
  private async requeue(person: HomePerson): Promise<void> {
    const chat = person.chat;
    if (!chat) return;
    const ticket: TicketRecord = {
      ticket: randomUUID(),
      personKey: person.personKey,
      card: { ...chat.card, queuedAt: this.now() },
      priority: priorityOf(chat.card.reason),
      atFront: true,
    };
    const rank = await this.store.requeue(chat.chatId, ticket, this.instanceId);
    if (rank === undefined || person.chat !== chat) return;
    this.options.log.info({ event: 'handover.requeued' });
    const position = rank + 1;
    person.chat = undefined;
    person.waiting = { ticket, told: { position, at: this.now() } };
    this.held.delete(chat.chatId);
    this.toPerson(person, { kind: 'requeued', position, estimateMinutes: this.estimateMinutes(position) });
    await this.announce({ kind: 'changed' });
  }

  private deliveryForPerson(delivery: PersonDelivery): void {
    const person = this.people.get(delivery.personKey);
    switch (delivery.kind) {
      case 'text': {
        const { chatId, counsellor, ref } = delivery;
        if (person?.chat?.chatId !== chatId) return this.toCounsellorSoon(counsellor, [errorFrame('DELIVERY_FAILED', ref)]);
        const { text } = delivery;
        return this.inOrder(person, async () => {
          try {
            await person.link.sendText(counsellor, text);
          } catch (error) {
            this.options.log.warn({ event: 'handover.deliveryFailed', err: error });
            return this.toCounsellorSoon(counsellor, [errorFrame('DELIVERY_FAILED', ref)]);
          }
          this.toCounsellorSoon(counsellor, [{ type: 'delivered', chatId, ref }]);
        });
      }
      case 'typing':
        if (person?.chat?.chatId === delivery.chatId) this.inOrder(person, () => person.link.sendTyping());
        return;
      case 'event':
        return this.personEvent(person, delivery);
      case 'release':
        this.people.delete(delivery.personKey);
        return;
    }
  }

  private personEvent(person: HomePerson | undefined, delivery: Extract<PersonDelivery, { kind: 'event' }>): void {
    const { event, chat } = delivery;
    if (!person) {
      // Accepted just as this instance let go of them: end it, so the counsellor is not left waiting.
      if (event.kind === 'connected' && chat) void this.endOrphan(chat.chatId);
      return;
    }
    if (event.kind === 'connected' && chat) {
      const card = person.waiting?.ticket.card ?? person.chat?.card;
      person.waiting = undefined;
      if (card) person.chat = { ...chat, card };
    }
    if (event.kind === 'ended') this.people.delete(person.personKey);
    this.toPerson(person, event);
  }

  private async endOrphan(chatId: string): Promise<void> {
    const ended = await this.store.endChat(chatId).catch(() => undefined);
    if (!ended) return;
    await this.chatClosed(ended.chat, 'disconnected');
    await this.announce({ kind: 'personDone', personKey: ended.chat.ticket.personKey, chatId });
  }

  private async endFromPersonSide(personKey: string, by: 'person' | 'disconnected'): Promise<boolean> {
    const local = this.people.get(personKey);
    if (!this.store.ready) {
      // Said goodbye while Redis is down: forgotten here; the chat record is cleared when it returns.
      if (!local?.chat) return false;
      this.people.delete(personKey);
      return true;
    }
    const state = await this.shared(() => this.store.personState(personKey));
    if (state.state !== 'connected') return false;
    const ended = await this.shared(() => this.store.endChat(state.chatId));
    if (local?.chat?.chatId === state.chatId) this.people.delete(personKey);
    if (!ended) return false;
    await this.shared(async () => {
      await this.chatClosed(ended.chat, by);
      await this.announce({ kind: 'personDone', personKey, chatId: state.chatId });
    });
    return true;
  }

  /** The person's chat, when they are in one; throws when they are and Redis cannot say where. */
  private async liveState(personKey: string): Promise<{ chatId: string; counsellor: string } | undefined> {
    const local = this.people.get(personKey)?.chat;
    let state: PersonState;
    try {
      this.requireRedis();
      state = await this.store.personState(personKey);
    } catch (error) {
      if (local) throw error instanceof DeskUnavailableError ? error : new DeskUnavailableError();
      return undefined;
    }
    return state.state === 'connected' ? state : undefined;
  }

  private toPerson(person: HomePerson, event: PersonEvent): void {
    this.inOrder(person, () => person.link.notify(event));
  }

  private inOrder(person: HomePerson, step: () => Promise<void>): void {
    person.sending = person.sending.then(() =>
      step().catch((error: unknown) => {
        this.options.log.warn({ event: 'handover.deliveryFailed', err: error });
      }),
    );
  }

  // ---- a counsellor's instance -------------------------------------------------------------

  private async welcome(counsellor: LocalCounsellor, link: CounsellorLink, arriving: boolean): Promise<void> {
    let snapshot: DeskSnapshot | undefined;
    try {
      this.requireRedis();
      if (arriving) await this.bus.follow(counsellor.name);
      const [record, online] = await Promise.all([this.store.counsellor(counsellor.name), this.store.online()]);
      // Still "available" after a reload onto another instance within the grace period (they are
      // online there meanwhile); a record left by an instance that crashed says nothing.
      if (record && (!arriving || online.has(counsellor.name))) counsellor.available = record.available;
      await this.store.setCounsellor(counsellor.name, { role: counsellor.role, available: counsellor.available });
      await this.store.heartbeat(this.instanceId, [counsellor.name], Date.now() + this.heartbeatMs * HEARTBEATS_LOST);
      snapshot = await this.store.snapshot();
      this.view = snapshot;
    } catch {
      snapshot = undefined;
    }
    const state = counsellor.links.get(link);
    if (!state) return;
    link.send({
      type: 'hello',
      name: counsellor.name,
      role: counsellor.role,
      available: counsellor.available,
      now: this.now(),
      modules: this.options.modules,
    });
    if (snapshot) {
      link.send(this.queueFrame(snapshot));
      link.send({ type: 'chats', chats: snapshot.chats.filter((chat) => chat.counsellor === counsellor.name).map(openChat) });
      if (counsellor.role === 'supervisor') link.send(this.presenceFrame(snapshot));
    } else {
      link.send(errorFrame('LIVE_CHAT_UNAVAILABLE'));
    }
    // Whatever the person wrote while the page was away is handed over now, then forgotten.
    counsellor.held.splice(0).forEach((frame) => link.send(frame));
    state.pending.splice(0).forEach((frame) => link.send(frame));
    state.ready = true;
    if (snapshot) {
      await this.announce({ kind: 'counsellorBack', name: counsellor.name, at: this.instanceId }).catch(() => undefined);
      await this.announce({ kind: 'changed' }).catch(() => undefined);
    }
  }

  private detach(counsellor: LocalCounsellor, link: CounsellorLink): void {
    counsellor.links.delete(link);
    if (counsellor.links.size > 0) return;
    // A reload or a short network blip should not cost anyone their chat; a longer absence does.
    counsellor.grace = setTimeout(() => void this.counsellorGone(counsellor), this.graceMs);
    counsellor.grace.unref();
  }

  private async counsellorGone(counsellor: LocalCounsellor, { reconnectedElsewhere = false } = {}): Promise<void> {
    clearTimeout(counsellor.grace);
    counsellor.grace = undefined;
    if (counsellor.links.size > 0 || this.counsellors.get(counsellor.name) !== counsellor) return;
    this.counsellors.delete(counsellor.name);
    const held = counsellor.held.splice(0);
    try {
      this.bus.unfollow(counsellor.name);
      // They came back here while we were letting go: keep hearing their frames.
      if (this.counsellors.has(counsellor.name)) return void (await this.bus.follow(counsellor.name));
      await this.store.dropPresence(this.instanceId, counsellor.name);
      if (reconnectedElsewhere) {
        if (held.length > 0) await this.bus.toCounsellor(counsellor.name, held);
        return;
      }
      if (!(await this.store.online()).has(counsellor.name)) {
        await this.store.forgetCounsellor(counsellor.name);
        await this.announce({ kind: 'counsellorLeft', name: counsellor.name });
      }
      await this.announce({ kind: 'changed' });
    } catch (error) {
      // Their presence lapses by itself; the people's homes notice on their next tick.
      this.options.log.warn({ event: 'handover.counsellorGoneFailed', err: error });
    }
  }

  private async acceptTicket(name: string, ticket: string): Promise<void> {
    const won = await this.store.accept(ticket, randomUUID(), name, this.now());
    if (!won) return this.refuse(name, 'TICKET_GONE');
    const { chat, home } = won;
    this.options.log.info({
      event: 'handover.connected',
      priority: chat.ticket.priority,
      waitedSeconds: Math.round((chat.connectedAt - chat.ticket.card.queuedAt) / 1000),
    });
    // Someone put back at the front after their counsellor dropped was counted when first connected.
    if (!chat.ticket.atFront) this.count([COUNTED.handoverConnected, waited(chat.connectedAt - chat.ticket.card.queuedAt)], chat.ticket.card);
    await this.bus.toCounsellor(name, [{ type: 'chat.opened', chat: openChat(chat) }]);
    const heard = await this.bus.toInstance(home, {
      kind: 'event',
      personKey: chat.ticket.personKey,
      event: { kind: 'connected', counsellorName: name },
      chat: { chatId: chat.chatId, counsellor: name, connectedAt: chat.connectedAt },
    });
    // Nobody holds the person's link any more (their instance died just now).
    if (!heard) await this.endOrphan(chat.chatId);
    await this.announce({ kind: 'changed' });
  }

  /** The chat, when it is this counsellor's; otherwise they are told it is not. */
  private async ownRoute(name: string, chatId: string, ref?: string): Promise<{ chat: ChatRecord; home: string } | undefined> {
    this.requireRedis();
    const route = await this.store.route(chatId);
    if (route?.chat.counsellor === name) return route;
    this.refuse(name, 'NOT_YOUR_CHAT', ref);
    return undefined;
  }

  private inChatOrder(chatId: string, step: () => Promise<void>, failed: () => void): void {
    const previous = this.outgoing.get(chatId) ?? Promise.resolve();
    const current = previous.then(step).catch((error: unknown) => {
      if (!(error instanceof DeskUnavailableError)) this.options.log.warn({ event: 'handover.relayFailed', err: error });
      failed();
    });
    this.outgoing.set(chatId, current);
    void current.then(() => {
      if (this.outgoing.get(chatId) === current) this.outgoing.delete(chatId);
    });
  }

  private async chatClosed(chat: ChatRecord, by: 'person' | 'counsellor' | 'disconnected'): Promise<void> {
    const minutes = (this.now() - chat.connectedAt) / 60_000;
    this.options.log.info({ event: 'handover.ended', by, minutes: Math.round(minutes) });
    this.held.delete(chat.chatId);
    await this.bus.toCounsellor(chat.counsellor, [{ type: 'chat.ended', chatId: chat.chatId, by }]);
    await this.store.recordChatMinutes(minutes);
  }

  /** Frames for a counsellor, heard from the bus: to their pages here, or held while they reconnect. */
  private framesForCounsellor(name: string, frames: readonly ConsoleFrame[]): void {
    const counsellor = this.counsellors.get(name);
    if (!counsellor) return;
    if (counsellor.links.size === 0) {
      for (const frame of frames) if (HELD_TYPES.has(frame.type) && counsellor.held.length < MAX_HELD) counsellor.held.push(frame);
      return;
    }
    for (const frame of frames) this.toLinks(counsellor, frame);
  }

  private toLinks(counsellor: LocalCounsellor, frame: ConsoleFrame): void {
    for (const [link, state] of counsellor.links) {
      if (state.ready) link.send(frame);
      else state.pending.push(frame);
    }
  }

  /** Tells the counsellor's pages on this instance why something did not happen. */
  private refuse(name: string, code: ConsoleErrorCode, ref?: string): void {
    const counsellor = this.counsellors.get(name);
    if (counsellor) this.toLinks(counsellor, errorFrame(code, ref));
  }

  private toCounsellorSoon(name: string, frames: ConsoleFrame[]): void {
    void this.bus.toCounsellor(name, frames).catch(() => undefined);
  }

  /** Keeps words that found no console, to hand over when the counsellor is back. */
  private hold(chatId: string, counsellor: string, frames: readonly ConsoleFrame[]): void {
    const held = this.held.get(chatId) ?? { counsellor, frames: [], since: Date.now() };
    for (const frame of frames) if (HELD_TYPES.has(frame.type) && held.frames.length < MAX_HELD) held.frames.push(frame);
    this.held.set(chatId, held);
  }

  private dropOldHeld(): void {
    const cutoff = Date.now() - HOLD_MS;
    for (const [chatId, held] of this.held) if (held.since < cutoff) this.held.delete(chatId);
  }

  // ---- news and upkeep ---------------------------------------------------------------------

  private heardNews(news: DeskNews): void {
    switch (news.kind) {
      case 'changed':
        return this.refreshConsoles();
      case 'counsellorBack':
        return void this.counsellorBack(news.name, news.at);
      case 'counsellorLeft':
        void this.requeueChatsOf(news.name);
        return this.refreshConsoles();
      case 'personDone': {
        const person = this.people.get(news.personKey);
        const sameTicket = news.ticket !== undefined && person?.waiting?.ticket.ticket === news.ticket;
        const sameChat = news.chatId !== undefined && person?.chat?.chatId === news.chatId;
        if (sameTicket || sameChat) this.people.delete(news.personKey);
        if (news.chatId) this.held.delete(news.chatId);
        return this.refreshConsoles();
      }
    }
  }

  private async counsellorBack(name: string, at: string): Promise<void> {
    try {
      for (const [chatId, held] of [...this.held]) {
        if (held.counsellor !== name) continue;
        this.held.delete(chatId);
        if ((await this.bus.toCounsellor(name, held.frames)) === 0) this.held.set(chatId, held);
      }
      const local = this.counsellors.get(name);
      // Their page came back on another instance: stop holding here and pass on what was held.
      if (at !== this.instanceId && local && local.links.size === 0) await this.counsellorGone(local, { reconnectedElsewhere: true });
    } catch (error) {
      this.options.log.warn({ event: 'handover.handOverHeldFailed', err: error });
    }
  }

  private async requeueChatsOf(name: string): Promise<void> {
    try {
      const chatting = [...this.people.values()].filter((person) => person.chat?.counsellor === name);
      if (chatting.length === 0 || (await this.store.online()).has(name)) return;
      for (const person of chatting) await this.requeue(person);
    } catch (error) {
      this.options.log.warn({ event: 'handover.requeueFailed', err: error });
    }
  }

  private async heartbeat(): Promise<void> {
    if (!this.store.ready) return;
    try {
      await this.store.heartbeat(this.instanceId, [...this.counsellors.keys()], Date.now() + this.heartbeatMs * HEARTBEATS_LOST);
    } catch {
      // Redis went away between the check and the write; 'close' has said so.
    }
  }

  private async forgetDeadInstances(): Promise<void> {
    for (const instanceId of await this.store.deadInstances()) {
      if (instanceId === this.instanceId) continue;
      const ended = await this.store.purgeHome(instanceId);
      this.options.log.info({ event: 'handover.instanceLost', chatsEnded: ended.length });
      for (const chat of ended) {
        await this.bus.toCounsellor(chat.counsellor, [{ type: 'chat.ended', chatId: chat.chatId, by: 'disconnected' }]);
      }
      await this.announce({ kind: 'changed' });
    }
  }

  /** Redis is back (or there for the first time): register, and write back what it may have lost. */
  private async joined(): Promise<void> {
    try {
      await this.listen();
      const epoch = await this.store.epoch(randomUUID());
      const lostData = this.epoch !== undefined && epoch !== this.epoch;
      this.epoch = epoch;
      await this.heartbeat();
      if (lostData) {
        this.settledAt = Date.now() + this.heartbeatMs * HEARTBEATS_LOST;
        await this.writeBack();
        this.options.log.info({ event: 'handover.restored', people: this.people.size, counsellors: this.counsellors.size });
      }
      const wasDown = this.down;
      this.down = false;
      if (wasDown || lostData) {
        for (const name of this.counsellors.keys()) await this.announce({ kind: 'counsellorBack', name, at: this.instanceId });
        await this.announce({ kind: 'changed' });
        this.rewelcomeConsoles();
      }
    } catch (error) {
      this.options.log.warn({ event: 'handover.joinFailed', err: error });
    }
  }

  private async writeBack(): Promise<void> {
    for (const person of this.people.values()) {
      if (person.waiting) await this.store.enqueue(person.waiting.ticket, this.instanceId);
      else if (person.chat) {
        const { chatId, counsellor, connectedAt, card } = person.chat;
        const ticket: TicketRecord = { ticket: randomUUID(), personKey: person.personKey, card, priority: priorityOf(card.reason), atFront: false };
        await this.store.restoreChat({ chatId, counsellor, connectedAt, ticket }, this.instanceId);
      }
    }
    for (const counsellor of this.counsellors.values()) {
      await this.store.setCounsellor(counsellor.name, { role: counsellor.role, available: counsellor.available });
    }
  }

  private async listen(): Promise<void> {
    try {
      await this.bus.listen([...this.counsellors.keys()]);
    } catch {
      // Tried again at every tick until Redis is back.
    }
  }

  private lostRedis(): void {
    if (this.down || !this.started) return;
    this.down = true;
    for (const counsellor of this.counsellors.values()) this.toLinks(counsellor, errorFrame('LIVE_CHAT_UNAVAILABLE'));
  }

  /** After an outage: every console gets the queue and its chats afresh. */
  private rewelcomeConsoles(): void {
    void (async () => {
      const snapshot = await this.store.snapshot();
      this.view = snapshot;
      for (const counsellor of this.counsellors.values()) {
        this.toLinks(counsellor, { type: 'chats', chats: snapshot.chats.filter((chat) => chat.counsellor === counsellor.name).map(openChat) });
      }
      this.sendViews(snapshot);
    })().catch(() => undefined);
  }

  /** Sends every console here the queue (and supervisors the team), read afresh; calls close together share one read. */
  private refreshConsoles(): void {
    if (this.counsellors.size === 0) return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        const snapshot = await this.store.snapshot();
        this.view = snapshot;
        this.sendViews(snapshot);
      } while (this.refreshAgain);
    })()
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = undefined;
      });
  }

  private sendViews(snapshot: DeskSnapshot): void {
    this.lastQueueBroadcast = this.now();
    const queue = this.queueFrame(snapshot);
    const presence = this.presenceFrame(snapshot);
    for (const counsellor of this.counsellors.values()) {
      this.toLinks(counsellor, queue);
      if (counsellor.role === 'supervisor') this.toLinks(counsellor, presence);
    }
  }

  private queueFrame(snapshot: DeskSnapshot): ConsoleFrame {
    return {
      type: 'queue',
      now: this.now(),
      entries: snapshot.queue.map((entry) => ({ ticket: entry.ticket, priority: entry.priority, card: entry.card })),
    };
  }

  private presenceFrame(snapshot: DeskSnapshot): ConsoleFrame {
    const chatsOf = (name: string) => snapshot.chats.filter((chat) => chat.counsellor === name).length;
    return {
      type: 'presence',
      counsellors: [...snapshot.online].map((name) => {
        const record = snapshot.counsellors.get(name);
        return { name, role: record?.role ?? 'counsellor', available: record?.available ?? false, chats: chatsOf(name) };
      }),
      queueLength: snapshot.queue.length,
      liveChats: snapshot.chats.length,
    };
  }

  private statusFrom(state: PersonState): PersonStatus {
    if (state.state === 'connected') return { state: 'connected', counsellorName: state.counsellor };
    if (state.state === 'queued') {
      const position = Math.max(1, state.rank + 1);
      return { state: 'queued', position, estimateMinutes: this.estimateMinutes(position) };
    }
    return { state: 'none' };
  }

  /** Honest, and rough: people ahead of you, times an average chat, shared among who is online. */
  private estimateMinutes(position: number): number {
    const recent = this.view?.recentChatMinutes ?? [];
    const chatMinutes = recent.length >= 3 ? recent.reduce((a, b) => a + b, 0) / recent.length : this.options.queue.assumedChatMinutes;
    return Math.max(1, Math.ceil((position * chatMinutes) / Math.max(1, this.view?.online.size ?? 1)));
  }

  private count(events: readonly string[], card: ContextCard): void {
    for (const event of events) this.options.counts?.increment(event, { channel: card.channel, locale: card.locale });
  }

  private async announce(news: DeskNews): Promise<void> {
    await this.bus.announce(news);
  }

  private requireRedis(): void {
    if (!this.store.ready) throw new DeskUnavailableError();
  }

  /** A step against Redis for a person's turn: any failure there means live chat is unavailable right now. */
  private async shared<T>(step: () => Promise<T>): Promise<T> {
    this.requireRedis();
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof DeskUnavailableError)) this.options.log.warn({ event: 'handover.redisFailed', err: error });
      throw new DeskUnavailableError();
    }
  }
}

function openChat(chat: ChatRecord): OpenChat {
  return { chatId: chat.chatId, card: chat.ticket.card, connectedAt: chat.connectedAt };
}

function errorFrame(code: ConsoleErrorCode, ref?: string): ConsoleFrame {
  return { type: 'error', code, message: CONSOLE_ERROR_MESSAGES[code], ...(ref === undefined ? {} : { ref }) };
}
