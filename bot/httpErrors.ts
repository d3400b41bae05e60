/**
 * Every error an HTTP client can get from Waypoint, in one catalogue: a stable code, a status
 * and a reason a developer can act on. No stack trace or input is ever echoed back.
 */
import type { RequestHandler, Response } from 'express';

export const HTTP_ERRORS = {
  BAD_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  BAD_ACTIVITY: { status: 400, message: 'The request body is not a valid Bot Framework activity.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the activity as JSON with Content-Type: application/json.' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNAUTHORIZED: { status: 401, message: 'The request is not authorised for this bot.' },
  NOT_FOUND: { status: 404, message: 'There is nothing at this address.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This address does not accept that method.' },
  BAD_REQUEST: { status: 400, message: 'The request is missing a field or has one of the wrong type.' },
  NOT_SIGNED_IN: { status: 401, message: 'Sign in to the console first.' },
  LOGIN_FAILED: { status: 401, message: 'That name and password do not match an active account.' },
  CSRF_FAILED: { status: 403, message: 'The request did not come from the console page (missing or wrong CSRF token or origin).' },
  FORBIDDEN: { status: 403, message: 'Your account may not do this.' },
  LOCKED_OUT: { status: 429, message: 'Too many failed sign-ins for this account. Try again later.' },
  AUTH_MISSING: { status: 401, message: 'Send a Direct Line token or secret as "Authorization: Bearer <token>".' },
  TOKEN_INVALID: { status: 403, message: 'The Direct Line token is not valid here.' },
  TOKEN_EXPIRED: { status: 403, message: 'The Direct Line token has expired; start a new conversation or refresh the token before it expires.' },
  SECRET_REQUIRED: { status: 403, message: "This call needs the site's Direct Line secret, not a token." },
  TOKEN_REQUIRED: { status: 400, message: 'This call refreshes a token: send the token, not the secret.' },
  CONVERSATION_FORBIDDEN: { status: 403, message: 'This token belongs to another conversation.' },
  CONVERSATION_NOT_FOUND: { status: 404, message: 'There is no such conversation, or it has ended.' },
  CONSOLE_UNAVAILABLE: { status: 503, message: 'Signing in to the console is unavailable for a moment (the servers have lost touch with each other). Try again shortly.' },
  CONVERSATION_UNREACHABLE: { status: 503, message: 'The conversation is held by another server that cannot be reached just now. Try again in a moment.' },
  BAD_WATERMARK: { status: 400, message: 'The watermark must be a whole number from an earlier response.' },
  BAD_DATE_RANGE: { status: 400, message: 'Send from and to as YYYY-MM-DD, from not after to, at most 366 days apart.' },
  FILES_NOT_ACCEPTED: { status: 415, message: 'This chat does not accept files or images. Please describe things in words instead.' },
  TOO_MANY_TURNS: { status: 429, message: 'Too many messages are still being answered in this conversation. Wait for a reply and send again.' },
  RATE_LIMITED: { status: 429, message: 'Too many chats were started from here in a short time. Please wait a minute and try again.' },
  TELEGRAM_SECRET_INVALID: { status: 401, message: 'The X-Telegram-Bot-Api-Secret-Token header is missing or wrong.' },
  METRICS_TOKEN_INVALID: { status: 401, message: 'Send the metrics token (METRICS_TOKEN) as "Authorization: Bearer <token>".' },
  METRICS_LOOPBACK_ONLY: { status: 403, message: 'Without METRICS_TOKEN, metrics are served only to this machine, not through a proxy. Set METRICS_TOKEN to read them from elsewhere.' },
  INTERNAL: { status: 500, message: 'Something went wrong on our side. The error id helps staff find it.' },
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** Who is told of error answers on each response (set by observeErrorAnswers). */
const observers = new WeakMap<Response, (code: HttpErrorCode) => void>();

/** Sends `{ error: { code, message, detail?, errorId? } }` with the catalogue's status. */
export function sendError(
  res: Response,
  code: HttpErrorCode,
  extra: { detail?: string; errorId?: string; retryAfterSeconds?: number } = {},
): void {
  const { status, message } = HTTP_ERRORS[code];
  if (res.headersSent) return;
  const { retryAfterSeconds, ...details } = extra;
  if (retryAfterSeconds !== undefined) res.set('Retry-After', String(retryAfterSeconds));
  observers.get(res)?.(code);
  res.status(status).json({ error: { code, message, ...details } });
}

/** Middleware that tells `onError` the code of every error answer sent with sendError (for the metrics). */
export function observeErrorAnswers(onError: (code: HttpErrorCode) => void): RequestHandler {
  return (_req, res, next) => {
    observers.set(res, onError);
    next();
  };
}
