import type { Storage } from 'botbuilder';

/**
 * Keys under this prefix hold daily aggregate counts: no person, id or text in them (see
 * bot/metrics/). They are what evaluation needs over months, so every backend exempts them from
 * retention (no sweep, no expiry).
 */
export const LASTING_PREFIX = 'aggregates/';

/**
 * botbuilder's Storage plus what retention and shutdown need. Every backend (lowdb now,
 * Redis later) implements this, so the bot never knows which one it talks to.
 */
export interface WaypointStorage extends Storage {
  /** Deletes every item last written before `cutoff`; resolves to how many were deleted. */
  deleteIdleSince(cutoff: Date): Promise<number>;
  /** Resolves when the backend can be read and written now (for readiness checks); rejects otherwise. */
  ping(): Promise<void>;
  /** Waits for writes in flight, then releases files or connections. Safe to call twice. */
  close(): Promise<void>;
}
