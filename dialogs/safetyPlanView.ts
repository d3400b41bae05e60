/** Turns the stored item codes of a safety plan back into the person's own list, in their language. */
import type { Content } from '../bot/content/schema.js';
import type { Profile } from './profile.js';

export function renderSafetyPlan(content: Content, profile: Profile): string[] {
  const { plan } = content.messages;
  const chosen = content.safetyPlan.sections.map((section) => ({
    section,
    items: section.items.filter((item) => profile.safetyPlan[section.id]?.includes(item.code)),
  }));
  if (chosen.every(({ items }) => items.length === 0)) {
    return Array.isArray(plan.empty) ? [...plan.empty] : [plan.empty];
  }
  const sections = chosen.map(({ section, items }) => {
    const lines = items.length > 0 ? items.map((item) => `• ${item.label}`) : [plan.sectionEmpty];
    return [section.title, ...lines].join('\n');
  });
  return [plan.heading, ...sections];
}
