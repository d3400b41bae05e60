/**
 * What the bot and the console need of the front desk, whichever kind runs: `HandoverDesk` keeps
 * the queue, presence and relay in this process (one instance, no Redis); `RedisDesk` shares them
 * between instances through Redis. An answer may come at once or after a round trip, so callers
 * always `await` it.
 */
import type { ContextCard } from './contextCard.js';
import type { Availability, CounsellorLink, PersonLink, PersonStatus, StaffMember } from './handoverDesk.js';
import type { RiskAssessment } from '../risk/riskScreen.js';

type Maybe<T> = T | Promise<T>;

export interface Desk {
  /** Starts the clock that times out long waits and refreshes positions. */
  start(): Maybe<void>;
  stop(): Maybe<void>;

  // The person's side: called from their turns.
  availability(): Maybe<Availability>;
  statusOf(personKey: string): Maybe<PersonStatus>;
  /** Joins the queue (or, if already waiting, refreshes how to reach the person). */
  enqueue(personKey: string, card: Omit<ContextCard, 'queuedAt'>, link: PersonLink): Maybe<PersonStatus>;
  leaveQueue(personKey: string): Maybe<boolean>;
  /**
   * Hands the person's message to their counsellor; false when they are not in a live chat.
   * Throws `DeskUnavailableError` when they are, but the message cannot be passed on now.
   */
  relayFromPerson(personKey: string, text: string, risk: RiskAssessment): Maybe<boolean>;
  personTyping(personKey: string): void;
  /** The person said "end chat"; true when there was a chat to end. */
  endByPerson(personKey: string): Maybe<boolean>;
  /** The person's channel says they have gone: leave the queue or end their chat. */
  personGone(personKey: string): void;

  // The counsellor's side: called from console frames.
  /** A console page connected; returns what to call when it goes. */
  attach(staff: StaffMember, link: CounsellorLink): () => void;
  setAvailable(name: string, available: boolean): void;
  accept(name: string, ticket: string): void;
  send(name: string, chatId: string, text: string, ref: string | undefined): void;
  counsellorTyping(name: string, chatId: string): void;
  end(name: string, chatId: string, suggestModule: string | undefined): void;

  /** Times out long waits, tells people their new place, refreshes the consoles' queue view. */
  tick(): Maybe<void>;
  /** How busy the desk is at this instance, in numbers only (for the operations metrics; instances add up). */
  occupancy(): { readonly waiting: number; readonly liveChats: number; readonly counsellorsOnline: number };
}

/** The shared desk cannot be reached (Redis is down): live chat is temporarily unavailable. */
export class DeskUnavailableError extends Error {
  readonly code = 'DESK_UNAVAILABLE';

  constructor() {
    super('The live chat desk is temporarily unavailable');
    this.name = 'DeskUnavailableError';
  }
}
