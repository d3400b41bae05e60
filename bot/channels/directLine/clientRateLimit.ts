/**
 * A per-client allowance of so many requests a minute, in memory. The client key (an address)
 * is held only for the minute it counts and never logged.
 */
export interface RateLimit {
  /** Counts one request; tells when the client may try again if it is over its allowance. */
  take(clientKey: string): { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };
}

const WINDOW_MS = 60_000;

export function createRateLimit(perMinute: number, now: () => number = Date.now): RateLimit {
  let windows = new Map<string, { startedAt: number; count: number }>();
  let lastPrune = now();
  return {
    take(clientKey) {
      const at = now();
      if (at - lastPrune > WINDOW_MS) {
        windows = new Map([...windows].filter(([, window]) => at - window.startedAt < WINDOW_MS));
        lastPrune = at;
      }
      let window = windows.get(clientKey);
      if (!window || at - window.startedAt >= WINDOW_MS) {
        window = { startedAt: at, count: 0 };
        windows.set(clientKey, window);
      }
      if (window.count >= perMinute) return { ok: false, retryAfterSeconds: Math.ceil((window.startedAt + WINDOW_MS - at) / 1000) };
      window.count++;
      return { ok: true };
    },
  };
}
