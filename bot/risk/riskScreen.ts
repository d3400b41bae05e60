/**
 * The seam where every free-text message is screened before any dialog sees it: what a screen
 * answers, and how the bot picks the screen for a message's language.
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
  /** `locale`: the message's language tag; a screen without that language uses its default. */
  screen(text: string, locale?: string): RiskAssessment;
}

export const NO_RISK: RiskAssessment = Object.freeze({ category: 'none', level: 'none', escalate: false });

/**
 * One screen per language, picked by the message's locale: exact tag, then its language
 * (`en-GB` -> `en`), then the default. A language without its own lexicon is screened with the
 * default's, which still catches the many English words used in any chat.
 */
export function screenByLocale(screens: ReadonlyMap<string, RiskScreen>, defaultLocale: string): RiskScreen {
  const fallback = screens.get(defaultLocale);
  if (!fallback) throw new Error(`no risk screen for the default locale "${defaultLocale}"`);
  const byLowerCase = new Map([...screens].map(([locale, screen]) => [locale.toLowerCase(), screen] as const));
  return Object.freeze({
    screen(text: string, locale?: string): RiskAssessment {
      const wanted = (locale ?? '').replace(/_/g, '-').toLowerCase();
      const screen = byLowerCase.get(wanted) ?? byLowerCase.get(wanted.split('-')[0] ?? '') ?? fallback;
      return screen.screen(text);
    },
  });
}
