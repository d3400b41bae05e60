/**
 * What a Direct Line client may send, checked at the door. Only the fields the bot uses pass:
 * the text (which the bot wraps as this turn's free text), the locale, Web Chat's
 * clientActivityID, and of any attachment only its type, so the bot can say it cannot take
 * files without a file ever being read. Everything else a client sends is dropped here.
 */
import { ActivityTypes, type Activity } from 'botbuilder';

const ACCEPTED_TYPES = new Set<string>([ActivityTypes.Message, ActivityTypes.Typing, ActivityTypes.EndOfConversation, ActivityTypes.Event]);
const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$/;
const MAX_CLIENT_ID = 128;
const MAX_EVENT_NAME = 64;

export type InboundCheck = { readonly ok: true; readonly activity: Partial<Activity> } | { readonly ok: false; readonly problem: string };

/** The clean activity to run, or why the body is not one. */
export function checkInboundActivity(body: unknown): InboundCheck {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('the body must be a JSON object');
  const input = body as Record<string, unknown>;
  if (typeof input.type !== 'string' || !ACCEPTED_TYPES.has(input.type)) {
    return fail(`"type" must be one of: ${[...ACCEPTED_TYPES].join(', ')}`);
  }
  const activity: Partial<Activity> = { type: input.type };
  if (input.text !== undefined && input.text !== null) {
    if (typeof input.text !== 'string') return fail('"text" must be a string');
    activity.text = input.text;
  }
  if (input.locale !== undefined && input.locale !== null) {
    if (!isLocaleTag(input.locale)) return fail('"locale" must be a language tag such as "en-GB"');
    activity.locale = input.locale;
  }
  if (input.type === ActivityTypes.Event) {
    if (typeof input.name !== 'string' || input.name.length > MAX_EVENT_NAME) return fail(`"name" must be a string of at most ${MAX_EVENT_NAME} characters`);
    activity.name = input.name;
  }
  const clientActivityId = readClientActivityId(input.channelData);
  if (typeof clientActivityId === 'object') return clientActivityId;
  if (clientActivityId !== undefined) activity.channelData = { clientActivityID: clientActivityId };
  if (input.attachments !== undefined && input.attachments !== null) {
    if (!Array.isArray(input.attachments)) return fail('"attachments" must be a list');
    activity.attachments = input.attachments.map((attachment) => ({ contentType: contentTypeOf(attachment) }));
  }
  return { ok: true, activity };
}

function readClientActivityId(channelData: unknown): string | undefined | { ok: false; problem: string } {
  if (channelData === undefined || channelData === null) return undefined;
  if (typeof channelData !== 'object' || Array.isArray(channelData)) return fail('"channelData" must be an object');
  const id = (channelData as Record<string, unknown>).clientActivityID;
  if (id === undefined) return undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_CLIENT_ID) {
    return fail(`"channelData.clientActivityID" must be a string of 1 to ${MAX_CLIENT_ID} characters`);
  }
  return id;
}

/** A BCP 47 language tag of the plain kind browsers send, e.g. "en-GB" or "de". */
export function isLocaleTag(value: unknown): value is string {
  return typeof value === 'string' && LOCALE.test(value);
}

function contentTypeOf(attachment: unknown): string {
  const type = (attachment as { contentType?: unknown } | null)?.contentType;
  return typeof type === 'string' && type.length <= 100 ? type : 'application/octet-stream';
}

function fail(problem: string): { ok: false; problem: string } {
  return { ok: false, problem };
}
