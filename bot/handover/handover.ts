/**
 * Live handover as the bot sees it: in `console` mode the desk queues people for Waypoint's own
 * console; in `events` mode a Bot Framework `handoff.initiate` event (context card, no
 * transcript) asks an external contact centre, and the bot stays quiet until a `handoff.status`
 * says it is over. Either way the bot asks here, once per turn, whether a message belongs to a
 * live chat rather than to the dialogs.
 */
import { EventFactory, type TurnContext } from 'botbuilder';
import type { ContextCard } from './contextCard.js';
import type { HandoverDesk } from './handoverDesk.js';
import { describeNextOpening } from './openingHours.js';
import type { HandoverEvent, HandoverMode, HandoverService, HandoverStatus } from './handoverService.js';
import { createPersonLink, type CounsellorTextFormat, type PersonEventRunner } from './personLink.js';
import type { RiskAssessment } from '../risk/riskScreen.js';
import type { AggregateCounts } from '../metrics/aggregateCounts.js';
import { rating as ratingEvent } from '../metrics/countedEvents.js';
import type { Logger } from '../privacy/logger.js';

/** An external hand-off nobody closed is forgotten after this long, so the bot cannot stay silent forever. */
const EXTERNAL_HANDOFF_MS = 4 * 60 * 60 * 1000;
const RATINGS = [1, 2, 3, 4, 5];

export interface HandoverOptions {
  readonly mode: HandoverMode;
  readonly desk: HandoverDesk;
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
    return {
      mode,
      availability: () => {
        const availability = desk.availability();
        // The contact centre keeps its own roster; only our opening hours can say it is closed.
        return mode === 'events' && availability.state === 'nobody' ? { state: 'open', counsellorsOnline: 1 } : availability;
      },
      describeOpening: (at: Date) => describeNextOpening(at, locale ?? 'en', this.options.timeZone, new Date(this.now())),
      status: (): HandoverStatus => (this.isExternal(personKey) ? { state: 'handedOff' } : desk.statusOf(personKey)),
      request: async (card: Omit<ContextCard, 'queuedAt'>): Promise<HandoverStatus> => {
        if (mode === 'console') return desk.enqueue(personKey, card, createPersonLink(context, format, runEvent));
        await context.sendActivity(EventFactory.createHandoffInitiation(context, { ...card, queuedAt: this.now() }));
        this.external.set(personKey, this.now() + EXTERNAL_HANDOFF_MS);
        this.options.log.info({ event: 'handover.handedOff' });
        return { state: 'handedOff' };
      },
      leaveQueue: () => desk.leaveQueue(personKey),
      rate: async (rating: number) => {
        if (!RATINGS.includes(rating)) return;
        await counts.increment(ratingEvent(rating), { channel: channelId, locale: locale ?? '' });
      },
    };
  }

  /** True when messages in this conversation go to a person, not to the bot. */
  isLive(personKey: string): boolean {
    return this.isExternal(personKey) || this.options.desk.statusOf(personKey).state === 'connected';
  }

  /** The person's message, to their counsellor; in events mode the channel delivers it itself. */
  relay(personKey: string, text: string, risk: RiskAssessment): void {
    this.options.desk.relayFromPerson(personKey, text, risk);
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
    this.options.desk.endByPerson(personKey);
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
