/**
 * The seam where every free-text message is screened before any dialog sees it.
 * The classifier (built on natural, with a clinician-edited lexicon) plugs in here.
 */

export type RiskCategory = 'suicide' | 'child_at_risk' | 'human' | 'distress' | 'none';
export type RiskLevel = 'none' | 'low' | 'elevated' | 'high' | 'imminent';

export interface RiskAssessment {
  readonly category: RiskCategory;
  readonly level: RiskLevel;
  /** True when the message must interrupt whatever dialog is active. */
  readonly escalate: boolean;
}

export interface RiskScreen {
  screen(text: string): RiskAssessment;
}

export const NO_RISK: RiskAssessment = Object.freeze({ category: 'none', level: 'none', escalate: false });

/** Used until the classifier lands: screens nothing, so the pipeline's order is already in place. */
export const passThroughRiskScreen: RiskScreen = Object.freeze({ screen: () => NO_RISK });
