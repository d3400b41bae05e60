/**
 * The fields botbuilder needs before it can run a turn. Checked at the door so a malformed
 * request gets a 400 that says what is missing, instead of an exception deep in the SDK.
 */
const REQUIRED_TEXT_FIELDS: ReadonlyArray<readonly [string, (body: Record<string, unknown>) => unknown]> = [
  ['type', (b) => b.type],
  ['channelId', (b) => b.channelId],
  ['serviceUrl', (b) => b.serviceUrl],
  ['conversation.id', (b) => (b.conversation as Record<string, unknown> | undefined)?.id],
  ['from.id', (b) => (b.from as Record<string, unknown> | undefined)?.id],
];

/** Returns why the body is not a usable activity, or undefined when it is. */
export function activityProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object';
  const record = body as Record<string, unknown>;
  for (const [name, read] of REQUIRED_TEXT_FIELDS) {
    const value = read(record);
    if (typeof value !== 'string' || value.trim() === '') return `"${name}" must be a non-empty string`;
  }
  try {
    const url = new URL(record.serviceUrl as string);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return '"serviceUrl" must be an http(s) URL';
  } catch {
    return '"serviceUrl" must be an absolute URL';
  }
  if (record.text !== undefined && typeof record.text !== 'string') return '"text" must be a string';
  if (record.attachments !== undefined && !Array.isArray(record.attachments)) return '"attachments" must be a list';
  return undefined;
}
