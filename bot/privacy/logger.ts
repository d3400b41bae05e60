/**
 * The only door to pino. Logs are kept longer and seen by more people than anything else we
 * hold, so this logger is built to drop what a person typed even when the calling code is
 * careless: message-bearing fields are removed at any depth, error messages are never written
 * (they often quote their input), and messages are only ever our own constant strings.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** pino level name; defaults to 'info'. */
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream that captures them. */
  destination?: NodeJS.WritableStream | pino.DestinationStream;
}

/**
 * Fields that carry a person's words or a raw channel identity in Bot Framework activities,
 * Telegram updates and HTTP requests. pino's `redact` below removes the documented paths
 * cheaply; `scrub` removes the same names at any depth, where pino's paths cannot reach
 * (a Telegram update nests text at `update.message.text`).
 */
const SENSITIVE_KEYS = new Set([
  // What a person typed or sent.
  'text', 'caption', 'value', 'body', 'message', 'attachments', 'activity', 'activities',
  // Who they are on the channel.
  'from', 'recipient', 'conversation', 'chat',
  // Credentials.
  'authorization', 'cookie',
]);

const REDACT_PATHS = [
  'text', '*.text', 'activity', '*.activity', 'value', '*.value', 'message', 'body', '*.body', 'req.body',
  'attachments', '*.attachments', 'from', '*.from', 'recipient', '*.recipient', 'conversation', '*.conversation',
  'headers.authorization', '*.headers.authorization', 'headers.cookie', '*.headers.cookie',
];

const ERROR_KEY = 'err';
const MAX_DEPTH = 8;
const MAX_CAUSE_DEPTH = 3;
/** Codes and error names are identifiers; anything else could be free text in disguise. */
const IDENTIFIER = /^[A-Za-z0-9_.:$-]{1,64}$/;

/** Creates the process's logger; everything else gets it (or a child of it) passed in. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, remove: true },
    serializers: { [ERROR_KEY]: serializeTopLevelError, req: serializeRequest, res: serializeResponse },
    formatters: {
      log: (object) => scrubTopLevel(object),
      bindings: (bindings) => scrubTopLevel(bindings),
    },
    hooks: { logMethod: onlyConstantMessages },
  };
  const destination = options.destination as pino.DestinationStream | undefined;
  return destination ? pino(pinoOptions, destination) : pino(pinoOptions);
}

/**
 * A short id to show a person ("error id 3f9a0c1e") and to log with the failure, so staff can
 * find the line without the person having to describe what they typed.
 */
export function newErrorId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Normalises every call to `(object?, constantMessage?)`. Interpolation values (`'%s', text`)
 * are dropped: a message is our own constant, and data belongs in the object where it is
 * scrubbed. pino would otherwise use an error's message as the log message.
 */
function onlyConstantMessages(this: pino.Logger, args: unknown[], method: pino.LogFn): void {
  const [first, second] = args;
  if (first instanceof Error) {
    method.call(this, { [ERROR_KEY]: first }, typeof second === 'string' ? second : first.name);
    return;
  }
  if (typeof first === 'object' && first !== null) {
    const hasError = ERROR_KEY in first;
    const message = typeof second === 'string' ? second : hasError ? 'error' : undefined;
    if (message === undefined) method.call(this, first);
    else method.call(this, first, message);
    return;
  }
  if (typeof first === 'string') method.call(this, first);
  else method.call(this, {});
}

interface SafeError {
  type: string;
  code?: string | number;
  message?: string;
  stack?: string;
  cause?: SafeError;
}

/**
 * An error reduced to what helps staff without quoting anyone: its class, code and stack
 * frames. The message is kept only for our own errors that declare `static safeMessage = true`
 * (they describe files and lines, never input); subclasses inherit that promise.
 */
function serializeError(error: Error, causeDepth = 0): SafeError {
  const type = IDENTIFIER.test(error.name) ? error.name : 'Error';
  const safe: SafeError = { type };
  const code: unknown = (error as { code?: unknown }).code;
  if (typeof code === 'number' || (typeof code === 'string' && IDENTIFIER.test(code))) safe.code = code;
  if ((error.constructor as { safeMessage?: unknown }).safeMessage === true) safe.message = error.message;
  if (typeof error.stack === 'string') safe.stack = stackFrames(error, type);
  if (error.cause instanceof Error && causeDepth < MAX_CAUSE_DEPTH) safe.cause = serializeError(error.cause, causeDepth + 1);
  return safe;
}

/**
 * The stack with its header replaced by the error's type. The header is `Name: message` and a
 * message can span lines, so the message is cut out wherever it occurs and only `at` frames kept.
 */
function stackFrames(error: Error, type: string): string {
  const withoutMessage = error.message ? (error.stack ?? '').split(error.message).join('') : (error.stack ?? '');
  const frames = withoutMessage.split('\n').filter((line) => /^\s+at /.test(line));
  return [type, ...frames].join('\n');
}

function serializeTopLevelError(value: unknown): unknown {
  if (value instanceof Error) return serializeError(value);
  // Not an Error: it could be anything, including text. Keep only what kind of thing it was.
  return { type: typeof value };
}

/** Method and path only: no headers, query string (it can carry text) or remote address (an IP is identifying). */
function serializeRequest(request: { method?: unknown; url?: unknown }): unknown {
  const url = typeof request.url === 'string' ? request.url.split('?')[0] : undefined;
  return { method: request.method, url };
}

function serializeResponse(response: { statusCode?: unknown }): unknown {
  return { statusCode: response.statusCode };
}

/**
 * Objects under `err`, `req` and `res` go to their serializers untouched, which keep only
 * known-safe fields; everything else is scrubbed here.
 */
const SERIALIZED_KEYS = new Set([ERROR_KEY, 'req', 'res']);

function scrubTopLevel(object: Record<string, unknown>): Record<string, unknown> {
  const seen = new WeakSet<object>([object]);
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (SENSITIVE_KEYS.has(key)) continue;
    result[key] = SERIALIZED_KEYS.has(key) ? value : scrub(value, 1, seen);
  }
  return result;
}

/**
 * Walks plain data only. A class instance (a TurnContext, a socket) is named, not walked: its
 * insides are unknown, possibly huge, and may hold the activity under any name.
 */
function scrub(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) return serializeError(value);
  if (value instanceof Date) return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1, seen));
  // FreeText and other values that say how they serialise: use that form, scrubbed.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return scrub((value as { toJSON: () => unknown }).toJSON(), depth + 1, seen);
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    return `[${(value as { constructor?: { name?: string } }).constructor?.name || 'object'}]`;
  }
  const result: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (!SENSITIVE_KEYS.has(key)) result[key] = scrub(member, depth + 1, seen);
  }
  return result;
}
