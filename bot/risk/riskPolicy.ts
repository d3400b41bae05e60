/**
 * What a risk assessment means for the conversation. One place decides which categories and
 * levels interrupt the active dialog, and which safety response answers them, so the
 * classifier, the CLI and the dialogs cannot disagree.
 */
import type { RiskAssessment, RiskCategory, RiskLevel } from './riskScreen.js';

const LEVEL_ORDER: readonly RiskLevel[] = ['none', 'low', 'elevated', 'high', 'imminent'];

export function higherLevel(a: RiskLevel, b: RiskLevel): RiskLevel {
  return LEVEL_ORDER.indexOf(a) >= LEVEL_ORDER.indexOf(b) ? a : b;
}

export function atLeast(level: RiskLevel, floor: RiskLevel): boolean {
  return LEVEL_ORDER.indexOf(level) >= LEVEL_ORDER.indexOf(floor);
}

/** Everything but low distress interrupts: low mood mid-module is met by the module itself. */
export function shouldEscalate(category: RiskCategory, level: RiskLevel): boolean {
  if (category === 'none') return false;
  if (category === 'distress') return atLeast(level, 'elevated');
  return true;
}

/**
 * The safety response for an escalation:
 * - `crisis`: suicide with a plan, means or time: crisis lines at once, then a counsellor.
 * - `childSafety`: a child may be at risk: stop now, emergency number, counsellor first in line.
 * - `followUp`: a suicide signal without plan or time: a few yes/no questions refine the level.
 * - `handover`: the person asked for someone.
 * - `grounding`: strong distress: a short grounding step, then a counsellor or the urges module.
 */
export type SafetyResponse = 'crisis' | 'childSafety' | 'followUp' | 'handover' | 'grounding';

export function safetyResponseFor(risk: RiskAssessment): SafetyResponse | undefined {
  if (!risk.escalate) return undefined;
  switch (risk.category) {
    case 'suicide':
      return atLeast(risk.level, 'high') ? 'crisis' : 'followUp';
    case 'child_at_risk':
      return 'childSafety';
    case 'human':
      return 'handover';
    case 'distress':
      return 'grounding';
    default:
      return undefined;
  }
}
