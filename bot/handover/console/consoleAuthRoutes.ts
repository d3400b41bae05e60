/**
 * Sign-in for the counsellor console: the login, session and logout endpoints under
 * `/console/api`, the middleware that guards the other console endpoints, and the check for the
 * console's WebSocket upgrade. The session lives in an HttpOnly, SameSite=Strict cookie; anything
 * that changes state also needs the page's CSRF token and, when the browser names one, our Origin.
 */
import type { IncomingMessage } from 'node:http';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { sendError } from '../../httpErrors.js';
import type { StaffRole } from '../staffAccounts.js';
import { SESSION_COOKIE, sameSecret, type AnyConsoleSessions, type ConsoleSession, type ConsoleSessions, type SharedConsoleSessions } from './consoleSessions.js';
import { ConsoleSessionsUnavailableError } from './sharedConsoleSessions.js';

/** A name and a password are tiny; anything bigger is a mistake or an attack. */
const BODY_LIMIT = '4kb';
const COOKIE_PATH = '/console';
const CSRF_HEADER = 'X-CSRF-Token';

/** Mount at `/console/api`: POST /login, GET /session, POST /logout. */
export function consoleAuthRoutes(sessions: AnyConsoleSessions): express.Router {
  const router = express.Router();
  router.use(noStore);

  router.post('/login', sameOriginOnly, requireJsonBody, express.json({ limit: BODY_LIMIT }), async (req, res) => {
    const body: unknown = req.body;
    const { name, password } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (typeof name !== 'string' || typeof password !== 'string') {
      return sendError(res, 'BAD_REQUEST', { detail: 'Send {"name": "...", "password": "..."} with both as strings.' });
    }
    const result = await sessions.login(name, password);
    if (!result.ok && result.reason === 'locked') {
      res.set('Retry-After', String(result.retryAfterSeconds));
      return sendError(res, 'LOCKED_OUT');
    }
    // One answer for an unknown name, a wrong password and a disabled account: no name is confirmed.
    if (!result.ok) return sendError(res, 'LOGIN_FAILED');
    // Signing in again in the same browser replaces the old session rather than leaving it live.
    const previous = await sessions.fromCookieHeader(req.headers.cookie);
    if (previous) await sessions.logout(previous.token);
    res.cookie(SESSION_COOKIE, result.token, cookieOptions(req));
    res.json(publicSession(result.session));
  });

  router.get('/session', async (req, res) => {
    const signedIn = await sessions.fromCookieHeader(req.headers.cookie);
    if (!signedIn) return sendError(res, 'NOT_SIGNED_IN');
    res.json(publicSession(signedIn.session));
  });

  router.post('/logout', requireConsoleSession(sessions, { csrf: true }), async (req, res) => {
    const signedIn = await sessions.fromCookieHeader(req.headers.cookie);
    if (signedIn) await sessions.logout(signedIn.token);
    res.clearCookie(SESSION_COOKIE, cookieOptions(req));
    res.status(204).end();
  });

  router.use(bodyErrors);
  return router;
}

/**
 * Guards a console endpoint: 401 NOT_SIGNED_IN without a live session, 403 CSRF_FAILED when
 * `csrf` is set and the `X-CSRF-Token` header or the Origin is wrong, 403 FORBIDDEN when a role is
 * required that the account lacks (a supervisor passes wherever a counsellor does). The session is
 * then available to later handlers through `consoleSessionOf(res)`.
 */
export function requireConsoleSession(sessions: AnyConsoleSessions, options: { csrf: boolean; role?: StaffRole }): RequestHandler {
  return async (req, res, next) => {
    const signedIn = await sessions.fromCookieHeader(req.headers.cookie);
    if (!signedIn) return sendError(res, 'NOT_SIGNED_IN');
    if (options.csrf && (!isSameOrigin(req) || !sameSecret(req.get(CSRF_HEADER), signedIn.session.csrfToken))) {
      return sendError(res, 'CSRF_FAILED');
    }
    if (options.role === 'supervisor' && signedIn.session.role !== 'supervisor') return sendError(res, 'FORBIDDEN');
    res.locals.consoleSession = signedIn.session;
    next();
  };
}

/** The session `requireConsoleSession` found for this request. */
export function consoleSessionOf(res: Response): ConsoleSession {
  const session = res.locals.consoleSession as ConsoleSession | undefined;
  if (!session) throw new Error('consoleSessionOf: the route is not behind requireConsoleSession');
  return session;
}

/**
 * Checks a WebSocket upgrade to `/console/ws?csrf=<csrfToken>` before it is accepted: 403 for a
 * foreign Origin, 401 without a live session cookie, 403 when the csrf parameter is missing or
 * wrong. Behind a TLS-terminating proxy the scheme is unknown here, so an Origin of either
 * `http://<Host>` or `https://<Host>` is ours.
 */
export type UpgradeAuth = { ok: true; session: ConsoleSession; token: string } | { ok: false; status: 401 | 403 | 503 };

/** At once with sessions kept in this process; after a round trip with shared ones (503 while they are unreachable). */
export function authenticateUpgrade(sessions: ConsoleSessions, req: IncomingMessage): UpgradeAuth;
export function authenticateUpgrade(sessions: AnyConsoleSessions, req: IncomingMessage): UpgradeAuth | Promise<UpgradeAuth>;
export function authenticateUpgrade(sessions: SharedConsoleSessions | ConsoleSessions, req: IncomingMessage): UpgradeAuth | Promise<UpgradeAuth> {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (origin !== undefined && !(host && [`http://${host}`, `https://${host}`].some((ours) => sameOrigin(origin, ours)))) {
    return { ok: false, status: 403 };
  }
  const decide = (signedIn: { token: string; session: ConsoleSession } | undefined): UpgradeAuth => {
    if (!signedIn) return { ok: false, status: 401 };
    const csrf = new URL(req.url ?? '/', 'http://localhost').searchParams.get('csrf');
    if (!sameSecret(csrf, signedIn.session.csrfToken)) return { ok: false, status: 403 };
    return { ok: true, session: signedIn.session, token: signedIn.token };
  };
  const found = sessions.fromCookieHeader(req.headers.cookie);
  if (!(found instanceof Promise)) return decide(found);
  return found.then(decide, (error: unknown) => {
    if (error instanceof ConsoleSessionsUnavailableError) return { ok: false, status: 503 } as const;
    throw error;
  });
}

function publicSession(session: ConsoleSession) {
  return { name: session.name, role: session.role, csrfToken: session.csrfToken };
}

function cookieOptions(req: Request): express.CookieOptions {
  // No Max-Age: the cookie dies with the browser; the server enforces idle and absolute limits.
  return { httpOnly: true, sameSite: 'strict', path: COOKIE_PATH, secure: req.secure };
}

/** Browsers send Origin on every cross-site POST; clients that send none (curl, tests) are not browsers. */
function isSameOrigin(req: Request): boolean {
  const origin = req.get('origin');
  return origin === undefined || sameOrigin(origin, `${req.protocol}://${req.get('host') ?? ''}`);
}

// Scheme and host are case-insensitive; browsers send them in lower case, Host headers may not be.
function sameOrigin(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

const sameOriginOnly: RequestHandler = (req, res, next) => (isSameOrigin(req) ? next() : sendError(res, 'CSRF_FAILED'));

const requireJsonBody: RequestHandler = (req, res, next) =>
  req.is('application/json') ? next() : sendError(res, 'UNSUPPORTED_MEDIA_TYPE', { detail: 'Send the sign-in as JSON.' });

const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

/** Body-parser failures answer here, so no parser message or stack trace reaches the client. */
const bodyErrors: ErrorRequestHandler = (error, _req, res, next) => {
  const type = (error as { type?: string } | undefined)?.type;
  if (type === 'entity.parse.failed') return sendError(res, 'BAD_JSON');
  if (type === 'entity.too.large') return sendError(res, 'BODY_TOO_LARGE');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return sendError(res, 'UNSUPPORTED_MEDIA_TYPE');
  if (error instanceof ConsoleSessionsUnavailableError) return sendError(res, 'CONSOLE_UNAVAILABLE', { retryAfterSeconds: 5 });
  // Anything else is ours: the server's error handler logs it and answers 500 with an error id.
  next(error);
};
