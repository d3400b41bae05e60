/**
 * Puts the contacts of resources/helplines.yaml into the person's language: the emergency
 * number first, then each line with how to reach it and when.
 */
import type { Content } from '../../bot/content/schema.js';
import { inLocale, type Country, type HelplinePurpose } from '../../bot/content/helplines.js';
import { fill } from '../replies.js';

/** `emergencyAlreadySaid`: the general emergency advice was just given, so it is not repeated for a country without its own number. */
export function contactBubbles(content: Content, country: Country, purposes: readonly HelplinePurpose[], emergencyAlreadySaid = false): string[] {
  const words = content.messages.helplines;
  const bubbles: string[] = [];
  if (country.emergency) bubbles.push(fill(words.emergency, { number: country.emergency }));
  else if (!emergencyAlreadySaid) bubbles.push(words.emergencyUnknown);
  for (const line of country.lines) {
    if (!purposes.includes(line.purpose)) continue;
    const ways = [
      line.phone && fill(words.phone, { phone: line.phone }),
      line.sms,
      line.web && `${words.open} ${line.web}`,
    ].filter(Boolean);
    const hours = inLocale(line.hours, content.locale).replace(/[.\s]+$/, '');
    bubbles.push(fill(words.line, { name: line.name, contact: ways.join(', '), hours }));
  }
  return bubbles;
}
