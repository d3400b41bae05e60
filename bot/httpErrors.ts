/**
 * Every error an HTTP client can get from Waypoint, in one catalogue: a stable code, a status
 * and a reason a developer can act on. No stack trace or input is ever echoed back.
 */
import type { Response } from 'express';

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
  INTERNAL: { status: 500, message: 'Something went wrong on our side. The error id helps staff find it.' },
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** Sends `{ error: { code, message, detail?, errorId? } }` with the catalogue's status. */
export function sendError(
  res: Response,
  code: HttpErrorCode,
  extra: { detail?: string; errorId?: string } = {},
): void {
  const { status, message } = HTTP_ERRORS[code];
  if (res.headersSent) return;
  res.status(status).json({ error: { code, message, ...extra } });
}
