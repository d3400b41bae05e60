/**
 * How dialogs speak: content Text becomes one chat bubble per list item, and buttons ride on
 * the last bubble as suggested actions (imBack), which every channel can render or type.
 */
import { ActionTypes, InputHints, MessageFactory, type Activity, type CardAction, type TurnContext } from 'botbuilder';
import type { Text } from '../bot/content/schema.js';

export interface Button {
  readonly code: string;
  readonly label: string;
}

export type Placeholders = Readonly<Record<string, string | number>>;

/** Fills `{name}` placeholders; the content check guarantees only known names are used. */
export function fill(template: string, values: Placeholders = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

export function bubbles(text: Text, values?: Placeholders): string[] {
  return (Array.isArray(text) ? text : [text]).map((bubble) => fill(bubble, values));
}

function messages(text: Text, values: Placeholders | undefined, buttons: readonly Button[]): Partial<Activity>[] {
  const parts = bubbles(text, values);
  return parts.map((part, index) => {
    const isLast = index === parts.length - 1;
    if (!isLast || buttons.length === 0) return MessageFactory.text(part, undefined, InputHints.AcceptingInput);
    const actions: CardAction[] = buttons.map((b) => ({ type: ActionTypes.ImBack, title: b.label, value: b.label }));
    const reply = MessageFactory.suggestedActions(actions, part);
    reply.inputHint = InputHints.ExpectingInput;
    return reply;
  });
}

/** Sends text as one or more bubbles. */
export async function say(context: TurnContext, text: Text, values?: Placeholders): Promise<void> {
  await context.sendActivities(messages(text, values, []));
}

/** Sends text and offers buttons on its last bubble. */
export async function ask(context: TurnContext, text: Text, buttons: readonly Button[], values?: Placeholders): Promise<void> {
  await context.sendActivities(messages(text, values, buttons));
}
