/**
 * Scores the screen against labelled messages: per category precision, recall and
 * false-positive rate (one category against the rest), the confusion matrix, and how many
 * crisis messages would actually interrupt the conversation. Pure, so the CLI only formats.
 */
import type { RiskCategory, RiskLevel } from './riskScreen.js';
import { RISK_CATEGORIES } from './riskData.js';

export interface LabelledMessage {
  readonly text: string;
  readonly category: RiskCategory;
  readonly level?: RiskLevel;
}

export interface CategoryScore {
  readonly category: RiskCategory;
  /** Messages labelled with this category. */
  readonly support: number;
  readonly precision: number;
  readonly recall: number;
  /** Share of messages of other categories predicted as this one. */
  readonly falsePositiveRate: number;
}

export interface Evaluation {
  readonly total: number;
  readonly accuracy: number;
  readonly scores: readonly CategoryScore[];
  /** matrix[actual][predicted] = count, in RISK_CATEGORIES order. */
  readonly confusion: Readonly<Record<RiskCategory, Readonly<Record<RiskCategory, number>>>>;
  /** Share of `none` messages the screen flagged as any risk: the target is at most 0.05. */
  readonly noneFalsePositiveRate: number;
  /** Share of suicide and child_at_risk messages that escalate (whatever category they got). */
  readonly crisisEscalationRate: number;
}

export function evaluate(
  messages: readonly LabelledMessage[],
  predictions: readonly { category: RiskCategory; escalate: boolean }[],
): Evaluation {
  const confusion = Object.fromEntries(
    RISK_CATEGORIES.map((actual) => [actual, Object.fromEntries(RISK_CATEGORIES.map((p) => [p, 0]))]),
  ) as Record<RiskCategory, Record<RiskCategory, number>>;
  let crisis = 0;
  let crisisEscalated = 0;
  messages.forEach((message, i) => {
    const predicted = predictions[i];
    if (!predicted) throw new Error(`no prediction for message ${i}`);
    confusion[message.category][predicted.category] += 1;
    if (message.category === 'suicide' || message.category === 'child_at_risk') {
      crisis += 1;
      if (predicted.escalate) crisisEscalated += 1;
    }
  });

  const total = messages.length;
  const scores = RISK_CATEGORIES.map((category): CategoryScore => {
    const truePositive = confusion[category][category];
    const support = RISK_CATEGORIES.reduce((sum, p) => sum + confusion[category][p], 0);
    const predicted = RISK_CATEGORIES.reduce((sum, a) => sum + confusion[a][category], 0);
    const falsePositive = predicted - truePositive;
    const negatives = total - support;
    return {
      category,
      support,
      precision: ratio(truePositive, predicted),
      recall: ratio(truePositive, support),
      falsePositiveRate: ratio(falsePositive, negatives),
    };
  });
  const correct = RISK_CATEGORIES.reduce((sum, c) => sum + confusion[c][c], 0);
  const noneSupport = RISK_CATEGORIES.reduce((sum, p) => sum + confusion.none[p], 0);
  return {
    total,
    accuracy: ratio(correct, total),
    scores,
    confusion,
    noneFalsePositiveRate: ratio(noneSupport - confusion.none.none, noneSupport),
    crisisEscalationRate: ratio(crisisEscalated, crisis),
  };
}

/** 0/0 is reported as 1: nothing to find and nothing wrongly found. */
function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 1 : numerator / denominator;
}
