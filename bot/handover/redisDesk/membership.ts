/**
 * This instance's membership of the shared desk: it registers when Redis is there, says it is
 * alive, and forgets instances that have stopped saying so. When Redis comes back after an outage
 * or a restart it writes back what this instance knows (its people, their places, its consoles),
 * because a restarted Redis may have come back empty.
 */
import { randomUUID } from 'node:crypto';
import { priorityOf } from '../contextCard.js';
import { errorFrame } from '../consoleFrames.js';
import type { HandoverDeskOptions } from '../handoverDesk.js';
import type { DeskBus, DeskNews } from '../deskBus.js';
import type { DeskStore, TicketRecord } from '../../redis/deskStore.js';
import type { HomePerson } from './homePeople.js';
import type { LocalConsoles, LocalCounsellor } from './localConsoles.js';

/** An instance silent for this many heartbeats is taken for dead. */
const HEARTBEATS_LOST = 10;

/** What membership needs of the rest of the desk. */
export interface MembershipDeps {
  readonly instanceId: string;
  readonly store: DeskStore;
  readonly bus: DeskBus;
  readonly people: ReadonlyMap<string, HomePerson>;
  readonly counsellors: ReadonlyMap<string, LocalCounsellor>;
  readonly consoles: Pick<LocalConsoles, 'rewelcomeConsoles' | 'toLinks'>;
  readonly options: Pick<HandoverDeskOptions, 'log'>;
  readonly heartbeatMs: number;
  started(): boolean;
  announce(news: DeskNews): Promise<void>;
}

export class DeskMembership {
  private epoch: string | undefined;
  private down = false;
  private settledUntil = 0;

  constructor(private readonly deps: MembershipDeps) {}

  /** Until then, a counsellor missing from presence may only be slow to write it back after an outage. */
  get settledAt(): number {
    return this.settledUntil;
  }

  /** When this instance's presence lapses if it says nothing more. */
  presenceExpiry(): number {
    return Date.now() + this.deps.heartbeatMs * HEARTBEATS_LOST;
  }

  /** Says this instance and its consoles are still here. */
  async heartbeat(): Promise<void> {
    if (!this.deps.store.ready) return;
    try {
      await this.deps.store.heartbeat(this.deps.instanceId, [...this.deps.counsellors.keys()], this.presenceExpiry());
    } catch {
      // Redis went away between the check and the write; 'close' has said so.
    }
  }

  /** Ends the chats of people whose home has stopped its heartbeat; their counsellors are told. */
  async forgetDeadInstances(): Promise<void> {
    for (const instanceId of await this.deps.store.deadInstances()) {
      if (instanceId === this.deps.instanceId) continue;
      const ended = await this.deps.store.purgeHome(instanceId);
      this.deps.options.log.info({ event: 'handover.instanceLost', chatsEnded: ended.length });
      for (const chat of ended) {
        await this.deps.bus.toCounsellor(chat.counsellor, [{ type: 'chat.ended', chatId: chat.chatId, by: 'disconnected' }]);
      }
      await this.deps.announce({ kind: 'changed' });
    }
  }

  /** Redis is back (or there for the first time): register, and write back what it may have lost. */
  async joined(): Promise<void> {
    try {
      await this.listen();
      const epoch = await this.deps.store.epoch(randomUUID());
      const lostData = this.epoch !== undefined && epoch !== this.epoch;
      this.epoch = epoch;
      await this.heartbeat();
      if (lostData) {
        this.settledUntil = Date.now() + this.deps.heartbeatMs * HEARTBEATS_LOST;
        await this.writeBack();
        this.deps.options.log.info({ event: 'handover.restored', people: this.deps.people.size, counsellors: this.deps.counsellors.size });
      }
      const wasDown = this.down;
      this.down = false;
      if (wasDown || lostData) {
        for (const name of this.deps.counsellors.keys()) await this.deps.announce({ kind: 'counsellorBack', name, at: this.deps.instanceId });
        await this.deps.announce({ kind: 'changed' });
        this.deps.consoles.rewelcomeConsoles();
      }
    } catch (error) {
      this.deps.options.log.warn({ event: 'handover.joinFailed', err: error });
    }
  }

  private async writeBack(): Promise<void> {
    for (const person of this.deps.people.values()) {
      if (person.waiting) await this.deps.store.enqueue(person.waiting.ticket, this.deps.instanceId);
      else if (person.chat) {
        const { chatId, counsellor, connectedAt, card } = person.chat;
        const ticket: TicketRecord = { ticket: randomUUID(), personKey: person.personKey, card, priority: priorityOf(card.reason), atFront: false };
        await this.deps.store.restoreChat({ chatId, counsellor, connectedAt, ticket }, this.deps.instanceId);
      }
    }
    for (const counsellor of this.deps.counsellors.values()) {
      await this.deps.store.setCounsellor(counsellor.name, { role: counsellor.role, available: counsellor.available });
    }
  }

  /** Subscribes to whatever this instance should hear and does not yet. */
  async listen(): Promise<void> {
    try {
      await this.deps.bus.listen([...this.deps.counsellors.keys()]);
    } catch {
      // Tried again at every tick until Redis is back.
    }
  }

  /** Redis went away: the consoles here are told once, not at every reconnect attempt. */
  lostRedis(): void {
    if (this.down || !this.deps.started()) return;
    this.down = true;
    for (const counsellor of this.deps.counsellors.values()) this.deps.consoles.toLinks(counsellor, errorFrame('LIVE_CHAT_UNAVAILABLE'));
  }
}
