/**
 * Who is signed in to the counsellor console, kept in memory only: a restart signs everyone out,
 * which is acceptable for a handful of staff and means no session secret is ever on disk. Also
 * slows password guessing: five failed sign-ins for one name within 15 minutes lock that name for
 * 15 minutes, whether or not the name exists.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../../privacy/logger.js';
import { nameKey, type StaffAccounts, type StaffRole } from '../staffAccounts.js';

export const SESSION_COOKIE = 'waypoint_console';

export interface ConsoleSession {
  readonly name: string;
  readonly role: StaffRole;
  /** Sent back by the page in `X-CSRF-Token` (or `?csrf=` on the WebSocket); never in a cookie. */
  readonly csrfToken: string;
}

export type LoginResult =
  | { ok: true; token: string; session: ConsoleSession }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; retryAfterSeconds: number };

export type SessionEndReason = 'logout' | 'expired' | 'account' | 'ended';

export interface ConsoleSessions {
  login(name: string, password: string): Promise<LoginResult>;
  /** The live session for a token, or undefined; counts as activity for the idle timeout. */
  fromToken(token: string | undefined): ConsoleSession | undefined;
  /** Finds the session named by the `waypoint_console` cookie in a `Cookie` header. */
  fromCookieHeader(header: string | undefined): { token: string; session: ConsoleSession } | undefined;
  logout(token: string): void;
  /** Ends every session of that name (case-insensitive). */
  endSessionsOf(name: string): void;
  /**
   * Tells the listener about every session that ends, however it ends, so open WebSockets can be
   * closed. Returns the function that removes the listener.
   */
  onSessionEnded(listener: (ended: { token: string; name: string; reason: SessionEndReason }) => void): () => void;
  /**
   * Ends the sessions of accounts that were disabled, removed or changed role since sign-in and
   * forgets expired sessions and lockouts. `start()` runs it every 30 seconds.
   */
  checkAccounts(): Promise<void>;
  /** Starts the background account check; it never keeps the process alive. */
  start(): void;
  stop(): void;
}

/**
 * The same sessions shared by every instance through Redis (sharedConsoleSessions.ts), so sign-in
 * works behind a balancer without sticky sessions; looking one up takes a round trip.
 */
export interface SharedConsoleSessions extends Omit<ConsoleSessions, 'fromToken' | 'fromCookieHeader' | 'logout' | 'endSessionsOf'> {
  fromToken(token: string | undefined): Promise<ConsoleSession | undefined>;
  fromCookieHeader(header: string | undefined): Promise<{ token: string; session: ConsoleSession } | undefined>;
  logout(token: string): Promise<void>;
  endSessionsOf(name: string): Promise<void>;
}

/** Either kind: callers `await` every lookup. */
export type AnyConsoleSessions = ConsoleSessions | SharedConsoleSessions;

export interface ConsoleSessionOptions {
  idleTimeoutMs?: number;
  absoluteTimeoutMs?: number;
  accountCheckIntervalMs?: number;
  /** Clock in epoch milliseconds; tests inject one to expire sessions and lockouts without waiting. */
  now?: () => number;
  /** Where a failed account check is reported; the check is retried at the next interval. */
  log?: Logger;
}

const MINUTE = 60_000;
const MAX_FAILURES = 5;
const FAILURE_WINDOW_MS = 15 * MINUTE;
const LOCKOUT_MS = 15 * MINUTE;
// Names longer than this cannot exist; cutting keys bounds the memory a guessing script can fill.
const MAX_LOCKOUT_KEY_LENGTH = 64;

interface LiveSession {
  session: ConsoleSession;
  startedAt: number;
  lastSeenAt: number;
}

interface Attempts {
  failures: number[];
  lockedUntil: number;
}

export function createConsoleSessions(accounts: StaffAccounts, options: ConsoleSessionOptions = {}): ConsoleSessions {
  const idleTimeoutMs = options.idleTimeoutMs ?? 120 * MINUTE;
  const absoluteTimeoutMs = options.absoluteTimeoutMs ?? 720 * MINUTE;
  const checkIntervalMs = options.accountCheckIntervalMs ?? 30_000;
  const now = options.now ?? Date.now;
  const sessions = new Map<string, LiveSession>();
  const attempts = new Map<string, Attempts>();
  const listeners = new Set<(ended: { token: string; name: string; reason: SessionEndReason }) => void>();
  let timer: NodeJS.Timeout | undefined;

  function end(token: string, reason: SessionEndReason): void {
    const live = sessions.get(token);
    if (!live) return;
    sessions.delete(token);
    for (const listener of listeners) listener({ token, name: live.session.name, reason });
  }

  function isExpired(live: LiveSession, at: number): boolean {
    return at - live.lastSeenAt >= idleTimeoutMs || at - live.startedAt >= absoluteTimeoutMs;
  }

  function attemptsOf(key: string, at: number): Attempts {
    const entry = attempts.get(key) ?? { failures: [], lockedUntil: 0 };
    entry.failures = entry.failures.filter((time) => at - time < FAILURE_WINDOW_MS);
    attempts.set(key, entry);
    return entry;
  }

  async function login(name: string, password: string): Promise<LoginResult> {
    const key = nameKey(String(name)).slice(0, MAX_LOCKOUT_KEY_LENGTH);
    const startedAt = now();
    const entry = attemptsOf(key, startedAt);
    if (entry.lockedUntil > startedAt) return locked(entry.lockedUntil - startedAt);
    if (entry.failures.length >= MAX_FAILURES) return lockNow(entry, startedAt);
    // Counted as a failure before the slow check, so parallel guesses cannot all slip past the limit.
    entry.failures.push(startedAt);
    const account = await accounts.verify(name, password);
    if (!account) return { ok: false, reason: 'invalid' };
    attempts.delete(key);
    const token = randomToken();
    const session: ConsoleSession = Object.freeze({ name: account.name, role: account.role, csrfToken: randomToken() });
    const at = now();
    sessions.set(token, { session, startedAt: at, lastSeenAt: at });
    return { ok: true, token, session };
  }

  function lockNow(entry: Attempts, at: number): LoginResult {
    entry.failures = [];
    entry.lockedUntil = at + LOCKOUT_MS;
    return locked(LOCKOUT_MS);
  }

  function fromToken(token: string | undefined): ConsoleSession | undefined {
    if (typeof token !== 'string' || token.length === 0) return undefined;
    const live = sessions.get(token);
    if (!live) return undefined;
    const at = now();
    if (isExpired(live, at)) {
      end(token, 'expired');
      return undefined;
    }
    live.lastSeenAt = at;
    return live.session;
  }

  function fromCookieHeader(header: string | undefined): { token: string; session: ConsoleSession } | undefined {
    // A stale duplicate cookie (another path or an old tab) must not hide the valid one.
    for (const token of sessionCookieValues(header)) {
      const session = fromToken(token);
      if (session) return { token, session };
    }
    return undefined;
  }

  function endSessionsOf(name: string): void {
    const key = nameKey(name);
    for (const [token, live] of [...sessions]) {
      if (nameKey(live.session.name) === key) end(token, 'ended');
    }
  }

  async function checkAccounts(): Promise<void> {
    const at = now();
    for (const [token, live] of [...sessions]) if (isExpired(live, at)) end(token, 'expired');
    for (const [key, entry] of [...attempts]) {
      if (entry.lockedUntil <= at && entry.failures.every((time) => at - time >= FAILURE_WINDOW_MS)) attempts.delete(key);
    }
    if (sessions.size === 0) return;
    // Only sessions older than the read: one signed in meanwhile was checked against a newer file.
    const checked = [...sessions];
    const active = new Map<string, StaffRole>();
    for (const account of await accounts.list()) if (!account.disabled) active.set(nameKey(account.name), account.role);
    for (const [token, live] of checked) {
      if (active.get(nameKey(live.session.name)) !== live.session.role) end(token, 'account');
    }
  }

  function start(): void {
    if (timer) return;
    timer = setInterval(() => {
      checkAccounts().catch((error: unknown) => options.log?.error({ event: 'console.accountCheckFailed', err: error }));
    }, checkIntervalMs);
    timer.unref();
  }

  function stop(): void {
    if (timer) clearInterval(timer);
    timer = undefined;
  }

  return {
    login,
    fromToken,
    fromCookieHeader,
    logout: (token) => end(token, 'logout'),
    endSessionsOf,
    onSessionEnded(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    checkAccounts,
    start,
    stop,
  };
}

/** Compares a secret the client sent with ours without revealing, through timing, how much matched. */
export function sameSecret(sent: unknown, expected: string): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The values of every `waypoint_console` cookie in a `Cookie` header, in order. */
export function sessionCookieValues(header: string | undefined): string[] {
  if (typeof header !== 'string') return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const index = pair.indexOf('=');
    if (index < 0 || pair.slice(0, index).trim() !== SESSION_COOKIE) continue;
    const value = pair.slice(index + 1).trim();
    if (value) values.push(value);
  }
  return values;
}

function locked(remainingMs: number): LoginResult {
  return { ok: false, reason: 'locked', retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)) };
}

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}
