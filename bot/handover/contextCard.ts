/**
 * What a counsellor learns about a person before they say hello: structured facts only, never
 * their words, so the person does not have to repeat themselves and nothing they typed travels.
 */
import type { RiskCategory, RiskLevel } from '../risk/riskScreen.js';

export interface ContextCard {
  /** The person's language, as their channel reports it. */
  readonly locale: string;
  readonly channel: string;
  /** Why they asked: the risk screen's category and level, not the message that caused it. */
  readonly reason: { readonly category: RiskCategory; readonly level: RiskLevel };
  readonly modulesCompleted: readonly { readonly id: string; readonly title: string }[];
  readonly safetyPlan: boolean;
  /** Epoch milliseconds; set by the desk when they join the queue. */
  readonly queuedAt: number;
}

export const PRIORITIES = ['child_imminent', 'suicide', 'child', 'other'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Queue order: a child at imminent risk first, then suicide risk, then other child safety, then everyone else. */
export function priorityOf(reason: ContextCard['reason']): Priority {
  if (reason.category === 'child_at_risk') return reason.level === 'imminent' ? 'child_imminent' : 'child';
  if (reason.category === 'suicide') return 'suicide';
  return 'other';
}
