/**
 * What the dialogs see of live handover, for the person in this turn: whether counsellors are
 * there, where the person stands, and the few things they can do about it. Dialogs never see
 * the desk, the console or the channel behind it.
 */
import type { ContextCard } from './contextCard.js';
import type { Availability, PersonEvent, PersonStatus } from './handoverDesk.js';

/** `console`: Waypoint's own console answers; `events`: an external contact centre does, via handoff events. */
export type HandoverMode = 'console' | 'events';

/** `unavailable`: the request could not be made (live chat is temporarily unavailable). */
export type HandoverStatus = PersonStatus | { readonly state: 'handedOff' } | { readonly state: 'unavailable' };

export interface HandoverService {
  readonly mode: HandoverMode;
  availability(): Promise<Availability>;
  /** When counsellors are next on, in the person's language ("tomorrow at 09:00 (GMT)"). */
  describeOpening(at: Date): string;
  status(): Promise<HandoverStatus>;
  /** Asks for a counsellor: joins the queue (console) or hands off to the contact centre (events). */
  request(card: Omit<ContextCard, 'queuedAt'>): Promise<HandoverStatus>;
  /** True when the person was waiting and now is not. */
  leaveQueue(): Promise<boolean>;
  /** Counts a 1–5 rating for today, with nothing that says whose it was. */
  rate(rating: number): Promise<void>;
}

/** Something that happened to the person's handover outside their own turn, for the dialogs to put into words. */
export type HandoverEvent =
  | PersonEvent
  | { readonly kind: 'ended'; readonly by: 'person' }
  | { readonly kind: 'handoffFailed' };
