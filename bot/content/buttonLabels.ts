/**
 * Every button label the content can offer, normalised. A message that is exactly one of them
 * is a button press (or the label typed out): the bot's own words, not the person's. Some
 * labels name risks on purpose (a warning sign such as "looking for time alone with a child"),
 * and the risk screen must not answer a person ticking their safety plan with a crisis dialog.
 */
import { normalise } from '../language/matchChoice.js';
import type { Content } from './schema.js';

const cache = new WeakMap<Content, ReadonlySet<string>>();

export function isButtonLabel(content: Content, text: string): boolean {
  let labels = cache.get(content);
  if (!labels) {
    labels = collectLabels(content);
    cache.set(content, labels);
  }
  return labels.has(normalise(text));
}

function collectLabels(content: Content): ReadonlySet<string> {
  const labels = new Set<string>();
  for (const module of content.modules.values()) {
    labels.add(module.title);
    for (const step of module.steps) if (step.type === 'choice') for (const option of step.options) labels.add(option.label);
  }
  for (const section of content.safetyPlan.sections) for (const item of section.items) labels.add(item.label);
  const { consent, menu, module, reflect, pick, end, deleteData, safety, handover } = content.messages;
  labels.add(consent.agree).add(consent.decline).add(module.continue).add(reflect.skip).add(pick.done);
  for (const label of [menu.myPlan, menu.talkToPerson, menu.help, menu.resume, menu.startOver, menu.chooseAnother]) labels.add(label);
  for (const label of [end.menu, end.human, deleteData.confirm, deleteData.cancel]) labels.add(label);
  for (const label of [safety.talkNow, safety.safeNow, safety.carryOn, safety.urges, safety.misunderstood, safety.childSafety.steppedAway]) labels.add(label);
  for (const label of [safety.followUp.yes, safety.followUp.no, safety.followUp.notSure]) labels.add(label);
  for (const label of [handover.connectMe, handover.notNow, handover.leaveQueue, handover.keepWaiting, handover.skipRating, handover.startSuggested]) labels.add(label);
  return new Set([...labels].map(normalise));
}
