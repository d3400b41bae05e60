/**
 * Live handover as the bot sees it: in `console` mode the desk queues people for Waypoint's own
 * console; in `events` mode a Bot Framework `handoff.initiate` event (context card, no
 * transcript) asks an external contact centre, and the bot stays quiet until a `handoff.status`
 * says it is over. Either way the bot asks here, once per turn, whether a message belongs to a
 * live chat rather than to the dialogs.
 */
import { EventFactory, type TurnContext } from 'botbuilder';
import type { ContextCard } from './contextCard.js';
import { DeskUnavailableError, type Desk } from './desk.js';
import { describeNextOpening } from './openingHours.js';
import type { HandoverEvent, HandoverMode, HandoverService, HandoverStatus } from './handoverService.js';
import { createPersonLink, type CounsellorTextFormat, type PersonEventRunner } from './personLink.js';
import type { RiskAssessment } from '../risk/riskScreen.js';
import type { AggregateCounts } from '../metrics/aggregateCounts.js';
import { COUNTED, rating as ratingEvent } from '../metrics/countedEvents.js';
import type { Logger } from '../privacy/logger.js';

/** An external hand-off nobody closed is forgotten after this long, so the bot cannot stay silent forever. */
const EXTERNAL_HANDOFF_MS = 4 * 60 * 60 * 1000;
const RATINGS = [1, 2, 3, 4, 5];

export interface HandoverOptions {
  readonly mode: HandoverMode;
  readonly desk: Desk;
  readonly counts: AggregateCounts;
  readonly log: Logger;
  /** The service's time zone, for saying when counsellors are next on. */
  readonly timeZone: string;
  readonly now?: () => number;
}

export class Handover {
  /** Conversations handed to an external contact centre, until it reports the chat over. */
  private readonly external = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: HandoverOptions) {
    this.now = options.now ?? Date.now;
  }

  get mode(): HandoverMode {
    return this.options.mode;
  }

  serviceFor(context: TurnContext, personKey: string, format: CounsellorTextFormat, runEvent: PersonEventRunner): HandoverService {
    const { mode, desk, counts } = this.options;
    const { channelId, locale } = context.activity;
    const where = { channel: channelId, locale };
    return {
      mode,
      availability: async () => {
        const availability = await desk.availability();
        // The contact centre keeps its own roster; only our opening hours can say it is closed.
        return mode === 'events' && (availability.state === 'nobody' || availability.state === 'unavailable') ? { state: 'open', counsellorsOnline: 1 } : availability;
      },
      describeOpening: (at: Date) => describeNextOpening(at, locale ?? 'en', this.options.timeZone, new Date(this.now())),
      status: async (): Promise<HandoverStatus> => (this.isExternal(personKey) ? { state: 'handedOff' } : desk.statusOf(personKey)),
      request: async (card: Omit<ContextCard, 'queuedAt'>): Promise<HandoverStatus> => {
        if (mode === 'console') {
          const wasWaiting = (await desk.statusOf(personKey)).state !== 'none';
          const status = await unlessUnavailable(() => desk.enqueue(personKey, card, createPersonLink(context, format, runEvent)));
          if (!wasWaiting && status.state === 'queued') counts.increment(COUNTED.handoverQueued, where);
          return status;
        }
        await context.sendActivity(EventFactory.createHandoffInitiation(context, { ...card, queuedAt: this.now() }));
        this.external.set(personKey, this.now() + EXTERNAL_HANDOFF_MS);
        this.options.log.info({ event: 'handover.handedOff' });
        // The contact centre keeps the queue from here on; for the counts, this is where the request was queued.
        counts.increment(COUNTED.handoverQueued, where);
        return { state: 'handedOff' };
      },
      leaveQueue: async () => {
        const left = await unlessUnavailable(() => desk.leaveQueue(personKey));
        return left === true;
      },
      rate: async (rating: number) => {
        if (!RATINGS.includes(rating)) return;
        counts.increment(ratingEvent(rating), where);
      },
    };
  }

  /** True when messages in this conversation go to a person, not to the bot. */
  async isLive(personKey: string): Promise<boolean> {
    return this.isExternal(personKey) || (await this.options.desk.statusOf(personKey)).state === 'connected';
  }

  /**
   * The person's message, to their counsellor; in events mode the channel delivers it itself.
   * 'interrupted': the chat is live but the message could not be passed on (live chat is
   * temporarily unavailable), so the person should be told.
   */
  async relay(personKey: string, text: string, risk: RiskAssessment): Promise<'relayed' | 'interrupted'> {
    const relayed = await unlessUnavailable(() => this.options.desk.relayFromPerson(personKey, text, risk));
    return typeof relayed === 'object' ? 'interrupted' : 'relayed';
  }

  typing(personKey: string): void {
    this.options.desk.personTyping(personKey);
  }

  /** The person ends a live chat themselves ("end chat", "stop", "delete my data"). */
  async endByPerson(context: TurnContext, personKey: string): Promise<void> {
    if (this.external.delete(personKey)) {
      await context.sendActivity(EventFactory.createHandoffStatus(context.activity.conversation, 'completed'));
      return;
    }
    await unlessUnavailable(() => this.options.desk.endByPerson(personKey));
  }

  /** The channel says the person has gone. */
  gone(personKey: string): void {
    this.external.delete(personKey);
    this.options.desk.personGone(personKey);
  }

  /** An incoming `handoff.status` from the contact centre; returns what the person should be told, if anything. */
  handoffStatus(personKey: string, state: unknown): HandoverEvent | undefined {
    if (this.options.mode !== 'events' || !this.external.has(personKey)) return undefined;
    if (state === 'completed') {
      this.external.delete(personKey);
      return { kind: 'ended', by: 'counsellor' };
    }
    if (state === 'failed') {
      this.external.delete(personKey);
      return { kind: 'handoffFailed' };
    }
    return undefined;
  }

  private isExternal(personKey: string): boolean {
    const until = this.external.get(personKey);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.external.delete(personKey);
    return false;
  }
}

/** The desk's answer, or "unavailable" when the shared desk cannot be reached; other failures go on up. */
async function unlessUnavailable<T>(ask: () => T | Promise<T>): Promise<T | { readonly state: 'unavailable' }> {
  try {
    return await ask();
  } catch (error) {
    if (error instanceof DeskUnavailableError) return { state: 'unavailable' };
    throw error;
  }
}
