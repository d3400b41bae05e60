/**
 * The names of everything Waypoint counts, in one place: the code that counts and the dashboard
 * that reads must agree, and a reviewer can see here that no name carries a person's words or
 * ids. Module ids come from the content, categories and levels from the risk screen.
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
