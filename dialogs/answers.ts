/**
 * Reads what the person answered this turn. A matched button or typed equivalent is marked
 * as a choice, so the privacy guard knows its code may be stored.
 */
import type { TurnContext } from 'botbuilder';
import { matchChoice } from '../bot/language/matchChoice.js';
import { turnServices } from './turnServices.js';
import type { Button } from './replies.js';

export interface ChoiceButton extends Button {
  readonly synonyms?: readonly string[];
}

/**
 * The code of the button the person pressed or named, or undefined. A number picks the button at
 * that position, unless an option names the number itself: "4" people is "3 to 5", not the
 * fourth button.
 */
export function chosenButton(context: TurnContext, buttons: readonly ChoiceButton[]): string | undefined {
  const freeText = turnServices(context).freeText;
  if (!freeText) return undefined;
  const typed = freeText.reveal().trim();
  const byNumber = /^\d{1,2}$/.test(typed) ? buttons[Number(typed) - 1] : undefined;
  const code =
    matchChoice(
      typed,
      buttons.map((b) => ({ code: b.code, phrases: [b.label, b.code, ...(b.synonyms ?? [])] })),
    ) ?? byNumber?.code;
  if (code !== undefined) freeText.markAsChoice();
  return code;
}

/** The whole number the person typed or pressed, if it lies within [min, max]. */
export function chosenNumber(context: TurnContext, min: number, max: number): number | undefined {
  const freeText = turnServices(context).freeText;
  const match = freeText?.reveal().trim().match(/^(\d{1,2})(?:\s*\/\s*\d{1,2})?$/);
  if (!freeText || !match) return undefined;
  const value = Number(match[1]);
  if (value < min || value > max) return undefined;
  freeText.markAsChoice();
  return value;
}
