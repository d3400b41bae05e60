/**
 * What the bot hands to the dialogs for one turn. Dialogs never import storage, channels or
 * express; whatever they need from the runtime arrives here.
 */
import type { TurnContext } from 'botbuilder';
import type { Content } from '../bot/content/schema.js';
import type { FreeText } from '../bot/privacy/freeText.js';
import type { RiskAssessment } from '../bot/risk/riskScreen.js';
import type { Helplines } from '../bot/content/helplines.js';
import type { HandoverEvent, HandoverService } from '../bot/handover/handoverService.js';

export interface TurnServices {
  /** Content in this person's language. */
  readonly content: Content;
  /** What the person typed, if anything; readable only through reveal(). */
  readonly freeText: FreeText | undefined;
  readonly risk: RiskAssessment;
  readonly helplines: Helplines;
  /** Live chat with a counsellor, for this person. */
  readonly handover: HandoverService;
  /** Set when this turn brings news about the person's handover instead of a message from them. */
  readonly handoverEvent?: HandoverEvent;
  /** Erases everything stored for this person and conversation, now, and skips this turn's save. */
  eraseMyData(): Promise<void>;
  /** Counts one event (a name from bot/metrics/countedEvents.ts) for today, by this turn's channel and language only. */
  count(event: string): void;
}

const TURN_SERVICES = Symbol('waypoint.turnServices');

export function setTurnServices(context: TurnContext, services: TurnServices): void {
  context.turnState.set(TURN_SERVICES, services);
}

export function turnServices(context: TurnContext): TurnServices {
  const services = context.turnState.get(TURN_SERVICES) as TurnServices | undefined;
  if (!services) throw new Error('Turn services missing: dialogs must run inside WaypointBot.');
  return services;
}
