/**
 * Console sessions shared by every instance (with Redis), so sign-in works behind a balancer with
 * no sticky sessions: the page may sign in through one instance, fetch its session from a second
 * and open its WebSocket on a third. The same rules as consoleSessions.ts (idle and absolute
 * limits, five failures lock a name for 15 minutes, disabled accounts signed out at the next
 * check), kept in Redis under hashes of the token and the name (redis/consoleSessionStore.ts).
 *
 * A session this instance has checked is trusted for a second before it is checked again, so a
 * console's frames do not each wait on Redis; a session that ends anywhere is announced on the
 * instance bus and its WebSockets close wherever they are. While Redis is down, sessions checked
 * here recently go on working and new sign-ins wait until it is back.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { InstanceBus } from '../../redis/instanceBus.js';
import { createConsoleSessionStore, type StoredSession } from '../../redis/consoleSessionStore.js';
import { nameKey, type StaffAccounts, type StaffRole } from '../staffAccounts.js';
import { sessionCookieValues, type ConsoleSession, type ConsoleSessionOptions, type LoginResult, type SessionEndReason, type SharedConsoleSessions } from './consoleSessions.js';

export interface SharedConsoleSessionOptions extends ConsoleSessionOptions {
  readonly bus: InstanceBus;
  readonly keyPrefix: string;
}

/** Sign-in and session checks cannot reach Redis just now (answered 503, not 500). */
export class ConsoleSessionsUnavailableError extends Error {
  readonly code = 'CONSOLE_UNAVAILABLE';

  constructor() {
    super('Console sessions are temporarily unavailable');
    this.name = 'ConsoleSessionsUnavailableError';
  }
}

const MINUTE = 60_000;
const MAX_FAILURES = 5;
const FAILURE_WINDOW_MS = 15 * MINUTE;
const LOCKOUT_MS = 15 * MINUTE;
const MAX_LOCKOUT_KEY_LENGTH = 64;
/** How long a session checked here is trusted before Redis is asked again. */
const RECHECK_MS = 1000;
const ENDED_TOPIC = 'console:sessionEnded';

interface Known {
  readonly token: string;
  readonly session: ConsoleSession;
  checkedAt: number;
}

interface EndedNews {
  readonly id: string;
  readonly name: string;
  readonly reason: SessionEndReason;
}

type Listener = (ended: { token: string; name: string; reason: SessionEndReason }) => void;

export function createSharedConsoleSessions(accounts: StaffAccounts, options: SharedConsoleSessionOptions): SharedConsoleSessions {
  const idleTimeoutMs = options.idleTimeoutMs ?? 120 * MINUTE;
  const absoluteTimeoutMs = options.absoluteTimeoutMs ?? 720 * MINUTE;
  const checkIntervalMs = options.accountCheckIntervalMs ?? 30_000;
  const now = options.now ?? Date.now;
  const store = createConsoleSessionStore(options.bus.redis, options.keyPrefix);
  /** Sessions used on this instance, by id: the tokens its WebSockets were opened with. */
  const known = new Map<string, Known>();
  const listeners = new Set<Listener>();
  let timer: NodeJS.Timeout | undefined;
  let stopHearing: (() => void) | undefined;

  const isExpired = (stored: StoredSession, at: number) => at - stored.lastSeenAt >= idleTimeoutMs || at - stored.startedAt >= absoluteTimeoutMs;

  /** Tells the listeners here, once, about a session that ended (anywhere). */
  function ended({ id, name, reason }: EndedNews): void {
    const entry = known.get(id);
    if (!entry) return;
    known.delete(id);
    for (const listener of listeners) listener({ token: entry.token, name, reason });
  }

  async function end(id: string, name: string, reason: SessionEndReason): Promise<void> {
    const removed = await store.remove(id);
    ended({ id, name, reason });
    if (removed) await options.bus.publish(ENDED_TOPIC, { id, name, reason } satisfies EndedNews);
  }

  async function hear(): Promise<void> {
    stopHearing ??= await options.bus.subscribe(ENDED_TOPIC, (body) => ended(body as EndedNews));
  }

  async function shared<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof ConsoleSessionsUnavailableError)) options.log?.warn({ event: 'console.sessionsUnavailable', err: error });
      throw new ConsoleSessionsUnavailableError();
    }
  }

  async function login(name: string, password: string): Promise<LoginResult> {
    const nameId = hashOf(nameKey(String(name)).slice(0, MAX_LOCKOUT_KEY_LENGTH));
    const startedAt = now();
    const lockedMs = await shared(() => store.lockedFor(nameId));
    if (lockedMs > 0) return locked(lockedMs);
    // Counted as a failure before the slow check, so parallel guesses cannot all slip past the limit.
    const earlier = await shared(() => store.addFailure(nameId, startedAt, FAILURE_WINDOW_MS));
    if (earlier >= MAX_FAILURES) {
      await shared(() => store.lock(nameId, LOCKOUT_MS));
      return locked(LOCKOUT_MS);
    }
    const account = await accounts.verify(name, password);
    if (!account) return { ok: false, reason: 'invalid' };
    const token = randomToken();
    const session: ConsoleSession = Object.freeze({ name: account.name, role: account.role, csrfToken: randomToken() });
    const at = now();
    await shared(async () => {
      await store.clearFailures(nameId);
      await store.put(hashOf(token), { ...session, startedAt: at, lastSeenAt: at }, idleTimeoutMs);
    });
    known.set(hashOf(token), { token, session, checkedAt: at });
    return { ok: true, token, session };
  }

  async function fromToken(token: string | undefined): Promise<ConsoleSession | undefined> {
    if (typeof token !== 'string' || token.length === 0) return undefined;
    const id = hashOf(token);
    const entry = known.get(id);
    const at = now();
    if (entry && at - entry.checkedAt < RECHECK_MS) return entry.session;
    let stored: StoredSession | undefined;
    try {
      stored = await store.get(id);
    } catch {
      // Redis is down: a session checked here within its idle limit keeps working until it is back.
      if (entry && at - entry.checkedAt < idleTimeoutMs) return entry.session;
      throw new ConsoleSessionsUnavailableError();
    }
    if (!stored) {
      known.delete(id);
      return undefined;
    }
    if (isExpired(stored, at)) {
      await end(id, stored.name, 'expired').catch(() => undefined);
      return undefined;
    }
    await store.put(id, { ...stored, lastSeenAt: at }, idleTimeoutMs).catch(() => undefined);
    const session = entry?.session ?? Object.freeze({ name: stored.name, role: stored.role, csrfToken: stored.csrfToken });
    known.set(id, { token, session, checkedAt: at });
    return session;
  }

  async function fromCookieHeader(header: string | undefined): Promise<{ token: string; session: ConsoleSession } | undefined> {
    // A stale duplicate cookie (another path or an old tab) must not hide the valid one.
    for (const token of sessionCookieValues(header)) {
      const session = await fromToken(token);
      if (session) return { token, session };
    }
    return undefined;
  }

  async function endSessionsOf(name: string): Promise<void> {
    const key = nameKey(name);
    for (const id of await store.ids()) {
      const stored = await store.get(id);
      if (stored && nameKey(stored.name) === key) await end(id, stored.name, 'ended');
    }
  }

  async function checkAccounts(): Promise<void> {
    await hear();
    const at = now();
    const ids = await store.ids();
    for (const [id, entry] of [...known]) if (!ids.includes(id)) ended({ id, name: entry.session.name, reason: 'expired' });
    if (ids.length === 0) return;
    const active = new Map<string, StaffRole>();
    for (const account of await accounts.list()) if (!account.disabled) active.set(nameKey(account.name), account.role);
    for (const id of ids) {
      const stored = await store.get(id);
      if (!stored) continue;
      if (isExpired(stored, at)) await end(id, stored.name, 'expired');
      else if (active.get(nameKey(stored.name)) !== stored.role) await end(id, stored.name, 'account');
    }
  }

  return {
    login,
    fromToken,
    fromCookieHeader,
    logout: async (token) => {
      const id = hashOf(token);
      const stored = await shared(() => store.get(id));
      await shared(() => end(id, stored?.name ?? known.get(id)?.session.name ?? '', 'logout'));
    },
    endSessionsOf,
    onSessionEnded(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    checkAccounts,
    start() {
      if (timer) return;
      void hear().catch(() => undefined);
      timer = setInterval(() => {
        checkAccounts().catch((error: unknown) => options.log?.warn({ event: 'console.accountCheckFailed', err: error }));
      }, checkIntervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      stopHearing?.();
      stopHearing = undefined;
    },
  };
}

function hashOf(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

function locked(remainingMs: number): LoginResult {
  return { ok: false, reason: 'locked', retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)) };
}
