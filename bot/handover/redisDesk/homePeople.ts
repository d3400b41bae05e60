/**
 * The people whose link this instance holds (their home). Only the home makes the decisions a
 * clock drives for them: it times out their wait, tells them their new place, and puts them back
 * in the queue when their counsellor has gone or their place was lost in an outage.
 */
import { randomUUID } from 'node:crypto';
import { priorityOf, type ContextCard } from '../contextCard.js';
import type { HandoverDeskOptions, PersonEvent, PersonLink } from '../handoverDesk.js';
import type { DeskNews } from '../deskBus.js';
import { COUNTED } from '../../metrics/countedEvents.js';
import type { DeskSnapshot, DeskStore, TicketRecord } from '../../redis/deskStore.js';
import type { HeldFrames } from './heldFrames.js';

/** A person whose link this instance holds. */
export interface HomePerson {
  readonly personKey: string;
  link: PersonLink;
  waiting?: { readonly ticket: TicketRecord; told: { position: number; at: number } };
  chat?: { readonly chatId: string; readonly counsellor: string; readonly card: ContextCard; readonly connectedAt: number };
  /** Keeps what reaches the person in order. */
  sending: Promise<void>;
  /** Their place or chat was missing from Redis at the last tick (news of why may still be on its way). */
  missing?: boolean;
}

/** What the home needs of the rest of the desk. */
export interface HomeDeps {
  readonly instanceId: string;
  readonly store: DeskStore;
  /** Shared with the desk, which adds people as they join the queue and forgets them as they leave. */
  readonly people: Map<string, HomePerson>;
  readonly held: HeldFrames;
  readonly options: Pick<HandoverDeskOptions, 'log' | 'queue'>;
  readonly now: () => number;
  estimateMinutes(position: number): number;
  count(events: readonly string[], card: ContextCard): void;
  announce(news: DeskNews): Promise<void>;
}

export class HomePeople {
  constructor(private readonly deps: HomeDeps) {}

  /** Times out long waits, tells people their new place, and notices places and chats Redis has lost. */
  async tick(snapshot: DeskSnapshot, settledAt: number): Promise<void> {
    const now = this.deps.now();
    const timeoutMs = this.deps.options.queue.timeoutMinutes * 60_000;
    const everyMs = this.deps.options.queue.positionUpdateSeconds * 1000;
    const rank = new Map(snapshot.queue.map((entry, index) => [entry.ticket, index]));
    const chats = new Set(snapshot.chats.map((chat) => chat.chatId));
    const settled = Date.now() >= settledAt;
    for (const person of [...this.deps.people.values()]) {
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
        this.toPerson(person, { kind: 'position', position, estimateMinutes: this.deps.estimateMinutes(position) });
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
    const result = await this.deps.store.enqueue(ticket, this.deps.instanceId);
    if (result.state === 'connected' && person.waiting?.ticket === ticket) {
      // Accepted, but the news never arrived (this instance was reconnecting): catch up.
      person.waiting = undefined;
      person.chat = { chatId: result.chatId, counsellor: result.counsellor, card: ticket.card, connectedAt: this.deps.now() };
      return this.toPerson(person, { kind: 'connected', counsellorName: result.counsellor });
    }
    if (result.state !== 'added') return;
    this.deps.options.log.info({ event: 'handover.rejoined' });
    await this.deps.announce({ kind: 'changed' });
  }

  /** Their chat vanished from Redis while this instance was out of touch (the counsellor was told it ended). */
  private async chatLost(person: HomePerson): Promise<void> {
    const chat = person.chat;
    if (!chat) return;
    const ticket: TicketRecord = { ticket: randomUUID(), personKey: person.personKey, card: { ...chat.card, queuedAt: this.deps.now() }, priority: priorityOf(chat.card.reason), atFront: true };
    const result = await this.deps.store.enqueue(ticket, this.deps.instanceId);
    if (result.state !== 'added' || person.chat !== chat) return;
    this.deps.options.log.info({ event: 'handover.requeued' });
    const position = result.rank + 1;
    person.chat = undefined;
    person.waiting = { ticket, told: { position, at: this.deps.now() } };
    this.toPerson(person, { kind: 'requeued', position, estimateMinutes: this.deps.estimateMinutes(position) });
    await this.deps.announce({ kind: 'changed' });
  }

  private async timeOut(person: HomePerson, ticket: TicketRecord): Promise<void> {
    const left = await this.deps.store.leave(person.personKey, ticket.ticket);
    // Not there: accepted at this very moment (the news is on its way), or lost (put back next tick).
    if (!left) return;
    this.deps.people.delete(person.personKey);
    this.deps.options.log.info({ event: 'handover.timedOut', priority: ticket.priority });
    if (!ticket.atFront) this.deps.count([COUNTED.handoverTimedOut], ticket.card);
    this.toPerson(person, { kind: 'timedOut' });
    await this.deps.announce({ kind: 'personDone', personKey: person.personKey, ticket: ticket.ticket });
  }

  /** The person's counsellor has gone: back to the front of the queue. */
  async requeue(person: HomePerson): Promise<void> {
    const chat = person.chat;
    if (!chat) return;
    const ticket: TicketRecord = {
      ticket: randomUUID(),
      personKey: person.personKey,
      card: { ...chat.card, queuedAt: this.deps.now() },
      priority: priorityOf(chat.card.reason),
      atFront: true,
    };
    const rank = await this.deps.store.requeue(chat.chatId, ticket, this.deps.instanceId);
    if (rank === undefined || person.chat !== chat) return;
    this.deps.options.log.info({ event: 'handover.requeued' });
    const position = rank + 1;
    person.chat = undefined;
    person.waiting = { ticket, told: { position, at: this.deps.now() } };
    this.deps.held.forget(chat.chatId);
    this.toPerson(person, { kind: 'requeued', position, estimateMinutes: this.deps.estimateMinutes(position) });
    await this.deps.announce({ kind: 'changed' });
  }

  /** A change for the bot to put into words in the person's conversation, after what is already on its way. */
  toPerson(person: HomePerson, event: PersonEvent): void {
    this.inOrder(person, () => person.link.notify(event));
  }

  /** Keeps what reaches the person in order; a failure is logged and the next step still runs. */
  inOrder(person: HomePerson, step: () => Promise<void>): void {
    person.sending = person.sending.then(() =>
      step().catch((error: unknown) => {
        this.deps.options.log.warn({ event: 'handover.deliveryFailed', err: error });
      }),
    );
  }
}
