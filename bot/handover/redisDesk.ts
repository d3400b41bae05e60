/**
 * The front desk shared by several Waypoint instances: a person whose turns run on instance A and
 * a counsellor whose console is connected to instance B talk as if both were on one. The queue,
 * the live chats and who is online live in Redis (redis/deskStore.ts); words travel over pub/sub
 * (handover/deskBus.ts) and are never stored. HandoverDesk remains the desk of a single instance.
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
 *
 * This file is the desk's face (the Desk calls) and the relay between instances; the parts it
 * coordinates live in redisDesk/: the people this instance holds (homePeople), the consoles open
 * here (localConsoles), this instance's membership and recovery after outages (membership), words
 * held for a reconnecting counsellor (heldFrames) and the frames worked out from a snapshot (deskViews).
 */
import { randomUUID } from 'node:crypto';
import { priorityOf, type ContextCard } from './contextCard.js';
import { errorFrame, type ConsoleFrame } from './consoleFrames.js';
import { DeskUnavailableError, type Desk } from './desk.js';
import type { Availability, CounsellorLink, HandoverDeskOptions, PersonLink, PersonStatus, StaffMember } from './handoverDesk.js';
import type { RiskAssessment } from '../risk/riskScreen.js';
import { COUNTED, waited } from '../metrics/countedEvents.js';
import type { InstanceBus } from '../redis/instanceBus.js';
import { createDeskStore, type ChatRecord, type DeskSnapshot, type DeskStore, type PersonState, type TicketRecord } from '../redis/deskStore.js';
import { createDeskBus, type DeskBus, type DeskNews, type PersonDelivery } from './deskBus.js';
import { estimateMinutes, openChat } from './redisDesk/deskViews.js';
import { HeldFrames } from './redisDesk/heldFrames.js';
import { HomePeople, type HomePerson } from './redisDesk/homePeople.js';
import { LocalConsoles, type LocalCounsellor } from './redisDesk/localConsoles.js';
import { DeskMembership } from './redisDesk/membership.js';

export interface RedisDeskOptions extends HandoverDeskOptions {
  /** How instances reach each other; its connection also carries the desk's commands. */
  readonly bus: InstanceBus;
  /** Put before every key and channel, so several deployments can share one Redis. */
  readonly keyPrefix: string;
  /** How often this instance says it is alive; it is given up on after ten of these missed. */
  readonly heartbeatMs?: number;
}

const QUEUE_REFRESH_MS = 15_000;

export class RedisDesk implements Desk {
  private readonly instanceId: string;
  private readonly store: DeskStore;
  private readonly bus: DeskBus;
  private readonly people = new Map<string, HomePerson>();
  private readonly counsellors = new Map<string, LocalCounsellor>();
  /** A person's words that found no console open anywhere (their counsellor is reconnecting). */
  private readonly held = new HeldFrames();
  /** Per chat, keeps a counsellor's messages in order on their way to the person's home. */
  private readonly outgoing = new Map<string, Promise<void>>();
  private readonly now: () => number;
  private readonly graceMs: number;
  private readonly heartbeatMs: number;
  /** The last snapshot read, for wait estimates between reads. */
  private view: DeskSnapshot | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private started = false;
  private readonly home: HomePeople;
  private readonly consoles: LocalConsoles;
  private readonly membership: DeskMembership;

  constructor(private readonly options: RedisDeskOptions) {
    this.now = options.now ?? Date.now;
    this.graceMs = options.reconnectGraceMs ?? 2000;
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.instanceId = options.bus.instanceId;
    this.store = createDeskStore(options.bus.redis, options.keyPrefix);
    this.home = new HomePeople({
      instanceId: this.instanceId,
      store: this.store,
      people: this.people,
      held: this.held,
      options,
      now: this.now,
      estimateMinutes: (position) => this.estimateMinutes(position),
      count: (events, card) => this.count(events, card),
      announce: (news) => this.announce(news),
    });
    this.bus = createDeskBus(
      options.bus,
      {
        counsellorFrames: (name, frames) => this.consoles.framesForCounsellor(name, frames),
        personDelivery: (delivery) => this.deliveryForPerson(delivery),
        news: (news) => this.heardNews(news),
      },
      options.log,
    );
    this.consoles = new LocalConsoles({
      instanceId: this.instanceId,
      store: this.store,
      bus: this.bus,
      counsellors: this.counsellors,
      options,
      now: this.now,
      graceMs: this.graceMs,
      presenceExpiry: () => this.membership.presenceExpiry(),
      requireRedis: () => this.requireRedis(),
      announce: (news) => this.announce(news),
      setView: (snapshot) => {
        this.view = snapshot;
      },
    });
    this.membership = new DeskMembership({
      instanceId: this.instanceId,
      store: this.store,
      bus: this.bus,
      people: this.people,
      counsellors: this.counsellors,
      consoles: this.consoles,
      options,
      heartbeatMs: this.heartbeatMs,
      started: () => this.started,
      announce: (news) => this.announce(news),
    });
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
    every(this.heartbeatMs, () => this.membership.heartbeat());
    if (this.store.ready) await this.membership.joined();
  }

  stop(): void {
    this.timers.forEach(clearInterval);
    this.timers = [];
    this.options.bus.redis.off('ready', this.onReady);
    this.options.bus.redis.off('close', this.onClose);
    for (const counsellor of this.counsellors.values()) clearTimeout(counsellor.grace);
    this.bus.close();
  }

  private readonly onReady = () => void this.membership.joined();
  private readonly onClose = () => this.membership.lostRedis();

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
      if (heard === 0) this.held.hold(state.chatId, state.counsellor, frames);
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
    return this.consoles.attach(staff, link);
  }

  setAvailable(name: string, available: boolean): void {
    const counsellor = this.counsellors.get(name);
    if (!counsellor) return;
    counsellor.available = available;
    void this.store
      .setCounsellor(name, { role: counsellor.role, available })
      .then(() => this.announce({ kind: 'changed' }))
      .catch(() => this.consoles.refuse(name, 'LIVE_CHAT_UNAVAILABLE'));
  }

  accept(name: string, ticket: string): void {
    const counsellor = this.counsellors.get(name);
    if (!counsellor) return;
    if (!counsellor.available) return this.consoles.refuse(name, 'NOT_AVAILABLE');
    if (!this.store.ready) return this.consoles.refuse(name, 'LIVE_CHAT_UNAVAILABLE');
    void this.acceptTicket(name, ticket).catch(() => this.consoles.refuse(name, 'LIVE_CHAT_UNAVAILABLE'));
  }

  send(name: string, chatId: string, text: string, ref: string | undefined): void {
    this.inChatOrder(chatId, async () => {
      const route = await this.ownRoute(name, chatId, ref);
      if (!route) return;
      const heard = await this.bus.toInstance(route.home, { kind: 'text', personKey: route.chat.ticket.personKey, chatId, counsellor: name, text, ref });
      if (!heard) this.consoles.refuse(name, 'DELIVERY_FAILED', ref);
    }, () => this.consoles.refuse(name, 'DELIVERY_FAILED', ref));
  }

  counsellorTyping(name: string, chatId: string): void {
    this.inChatOrder(chatId, async () => {
      const route = await this.ownRoute(name, chatId);
      if (route) await this.bus.toInstance(route.home, { kind: 'typing', personKey: route.chat.ticket.personKey, chatId });
    }, () => undefined);
  }

  end(name: string, chatId: string, suggestModule: string | undefined): void {
    this.inChatOrder(chatId, async () => {
      if (!this.store.ready) return this.consoles.refuse(name, 'LIVE_CHAT_UNAVAILABLE');
      const ended = await this.store.endChat(chatId, name);
      if (!ended) return this.consoles.refuse(name, 'NOT_YOUR_CHAT');
      const suggestion = this.options.modules.some((m) => m.id === suggestModule) ? suggestModule : undefined;
      const { personKey } = ended.chat.ticket;
      await this.chatClosed(ended.chat, 'counsellor');
      // To the home before the news, so it still holds the link when it hears the chat is over.
      await this.bus.toInstance(ended.home, { kind: 'event', personKey, event: { kind: 'ended', by: 'counsellor', suggestModule: suggestion } });
      await this.announce({ kind: 'personDone', personKey, chatId });
    }, () => this.consoles.refuse(name, 'LIVE_CHAT_UNAVAILABLE'));
  }

  /** Times out long waits, tells people their new place, refreshes the consoles' queue view. */
  tick(): Promise<void> {
    // One at a time: two overlapping ticks would tell a person the same news twice.
    const next = this.ticking.then(() => this.tickOnce());
    this.ticking = next;
    return next;
  }

  private async tickOnce(): Promise<void> {
    if (!this.store.ready) return this.held.dropOld();
    try {
      await this.membership.listen();
      const snapshot = await this.store.snapshot();
      this.view = snapshot;
      await this.home.tick(snapshot, this.membership.settledAt);
      await this.membership.forgetDeadInstances();
      this.held.dropOld();
      if (this.now() - this.consoles.lastQueueBroadcast >= QUEUE_REFRESH_MS) this.consoles.refreshConsoles();
    } catch (error) {
      this.options.log.warn({ event: 'handover.tickFailed', err: error });
    }
  }

  // ---- relay to and from a person's home ---------------------------------------------------

  private deliveryForPerson(delivery: PersonDelivery): void {
    const person = this.people.get(delivery.personKey);
    switch (delivery.kind) {
      case 'text': {
        const { chatId, counsellor, ref } = delivery;
        if (person?.chat?.chatId !== chatId) return this.toCounsellorSoon(counsellor, [errorFrame('DELIVERY_FAILED', ref)]);
        const { text } = delivery;
        return this.home.inOrder(person, async () => {
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
        if (person?.chat?.chatId === delivery.chatId) this.home.inOrder(person, () => person.link.sendTyping());
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
    this.home.toPerson(person, event);
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

  // ---- relay from a counsellor's instance --------------------------------------------------

  private async acceptTicket(name: string, ticket: string): Promise<void> {
    const won = await this.store.accept(ticket, randomUUID(), name, this.now());
    if (!won) return this.consoles.refuse(name, 'TICKET_GONE');
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
    this.consoles.refuse(name, 'NOT_YOUR_CHAT', ref);
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
    this.held.forget(chat.chatId);
    await this.bus.toCounsellor(chat.counsellor, [{ type: 'chat.ended', chatId: chat.chatId, by }]);
    await this.store.recordChatMinutes(minutes);
  }

  private toCounsellorSoon(name: string, frames: ConsoleFrame[]): void {
    void this.bus.toCounsellor(name, frames).catch(() => undefined);
  }

  // ---- news and upkeep ---------------------------------------------------------------------

  private heardNews(news: DeskNews): void {
    switch (news.kind) {
      case 'changed':
        return this.consoles.refreshConsoles();
      case 'counsellorBack':
        return void this.counsellorBack(news.name, news.at);
      case 'counsellorLeft':
        void this.requeueChatsOf(news.name);
        return this.consoles.refreshConsoles();
      case 'personDone': {
        const person = this.people.get(news.personKey);
        const sameTicket = news.ticket !== undefined && person?.waiting?.ticket.ticket === news.ticket;
        const sameChat = news.chatId !== undefined && person?.chat?.chatId === news.chatId;
        if (sameTicket || sameChat) this.people.delete(news.personKey);
        if (news.chatId) this.held.forget(news.chatId);
        return this.consoles.refreshConsoles();
      }
    }
  }

  private async counsellorBack(name: string, at: string): Promise<void> {
    try {
      await this.held.handOver(name, (frames) => this.bus.toCounsellor(name, frames));
      const local = this.counsellors.get(name);
      // Their page came back on another instance: stop holding here and pass on what was held.
      if (at !== this.instanceId && local && local.links.size === 0) await this.consoles.counsellorGone(local, { reconnectedElsewhere: true });
    } catch (error) {
      this.options.log.warn({ event: 'handover.handOverHeldFailed', err: error });
    }
  }

  private async requeueChatsOf(name: string): Promise<void> {
    try {
      const chatting = [...this.people.values()].filter((person) => person.chat?.counsellor === name);
      if (chatting.length === 0 || (await this.store.online()).has(name)) return;
      for (const person of chatting) await this.home.requeue(person);
    } catch (error) {
      this.options.log.warn({ event: 'handover.requeueFailed', err: error });
    }
  }

  private statusFrom(state: PersonState): PersonStatus {
    if (state.state === 'connected') return { state: 'connected', counsellorName: state.counsellor };
    if (state.state === 'queued') {
      const position = Math.max(1, state.rank + 1);
      return { state: 'queued', position, estimateMinutes: this.estimateMinutes(position) };
    }
    return { state: 'none' };
  }

  private estimateMinutes(position: number): number {
    return estimateMinutes(this.view, position, this.options.queue.assumedChatMinutes);
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
