/**
 * The names of everything Waypoint counts, in one place: the code that counts and the dashboard
 * that reads must agree, and a reviewer can see here that no name carries a person's words or
 * ids. Module ids come from the content, categories and levels from the risk screen.
 *
 * What each name counts (once each, where it happens):
 * - conversation.started: the first turn the bot answers in a conversation it holds no state for
 *   (new chat; again after "delete my data", retention or a broken dialog stack wiped that state).
 * - consent.given: the person agreed to the consent text (again when its version is raised).
 * - module.started.<id>: a module begins at its first step (fresh, restarted or after an update);
 *   resuming mid-way is not a new start. module.completed.<id>: its end step is reached.
 * - safetyPlan.created: a safety-plan list is saved and the person's plan goes from empty to not.
 * - escalation.<category>.<level>: the risk screen escalated a message (also in a live chat,
 *   where it flags the message to the counsellor).
 * - handover.requested: someone not already waiting or chatting asked for a counsellor. It ends
 *   in handover.outOfHours, handover.nobodyOnline, handover.queued (in events mode: handed to the
 *   contact centre) or a "not now".
 * - handover.connected and handover.waited.<bucket>: a counsellor accepted a queued request;
 *   handover.timedOut: the queue gave up on it. Being put back at the front after a counsellor's
 *   connection dropped is the same request, so it is not counted again.
 * - handover.rating.<1-5>: a rating after a chat. data.deleted: "delete my data" confirmed.
 */
export const COUNTED = {
  conversationStarted: 'conversation.started',
  consentGiven: 'consent.given',
  safetyPlanCreated: 'safetyPlan.created',
  handoverRequested: 'handover.requested',
  handoverQueued: 'handover.queued',
  handoverConnected: 'handover.connected',
  handoverTimedOut: 'handover.timedOut',
  handoverOutOfHours: 'handover.outOfHours',
  handoverNobodyOnline: 'handover.nobodyOnline',
  dataDeleted: 'data.deleted',
} as const;

export const moduleStarted = (moduleId: string): string => `module.started.${moduleId}`;
export const moduleCompleted = (moduleId: string): string => `module.completed.${moduleId}`;
export const escalation = (category: string, level: string): string => `escalation.${category}.${level}`;
export const rating = (stars: number): string => `handover.rating.${stars}`;

/** Upper bounds (minutes, exclusive) of the waiting-time histogram; the last bucket is open-ended. */
export const WAIT_BUCKETS: readonly { readonly name: string; readonly belowMinutes: number }[] = [
  { name: 'lt1m', belowMinutes: 1 },
  { name: '1to5m', belowMinutes: 5 },
  { name: '5to15m', belowMinutes: 15 },
  { name: '15to30m', belowMinutes: 30 },
  { name: '30to60m', belowMinutes: 60 },
  { name: 'ge60m', belowMinutes: Infinity },
];

/** The histogram counter for a wait of `waitedMs`. */
export function waited(waitedMs: number): string {
  const minutes = waitedMs / 60_000;
  const bucket = WAIT_BUCKETS.find(({ belowMinutes }) => minutes < belowMinutes) ?? WAIT_BUCKETS[WAIT_BUCKETS.length - 1]!;
  return `handover.waited.${bucket.name}`;
}
