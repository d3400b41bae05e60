/**
 * Deletes state nobody has touched for `retentionDays`. What we hold is already minimal; this
 * makes sure even that does not outlive its use, without anyone having to ask.
 */
import type { WaypointStorage } from '../storage/waypointStorage.js';
import type { Logger } from './logger.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** The first sweep waits this long (or one interval, if shorter) so it does not compete with start-up. */
const FIRST_SWEEP_DELAY_MS = 1000;

export interface RetentionOptions {
  retentionDays: number;
  intervalMs: number;
  log: Logger;
  /** Injected in tests; defaults to the wall clock. */
  now?: () => Date;
}

export interface RetentionSweep {
  /** Stops the timer and waits for a sweep in progress. Safe to call more than once. */
  stop(): Promise<void>;
  /** Sweeps now (joining a sweep already running) and resolves to how many items were deleted. */
  sweepNow(): Promise<number>;
}

/** Starts sweeping soon after start-up and then every `intervalMs`, until `stop()`. */
export function startRetentionSweep(storage: WaypointStorage, options: RetentionOptions): RetentionSweep {
  const { retentionDays, intervalMs, log, now = () => new Date() } = options;
  if (!(retentionDays > 0)) throw new RangeError('retentionDays must be a positive number');
  if (!(intervalMs >= 1)) throw new RangeError('intervalMs must be at least 1');

  let running: Promise<number> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function sweepNow(): Promise<number> {
    running ??= sweep().finally(() => {
      running = undefined;
    });
    return running;
  }

  async function sweep(): Promise<number> {
    const cutoff = new Date(now().getTime() - retentionDays * DAY_MS);
    try {
      const deleted = await storage.deleteIdleSince(cutoff);
      log.info({ event: 'retention.sweep', deleted }, 'retention sweep');
      return deleted;
    } catch (err) {
      log.error({ event: 'retention.sweep.failed', err }, 'retention sweep failed; retrying next interval');
      throw err;
    }
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    // Chained timeouts, not setInterval: a slow sweep is never overlapped by the next one.
    timer = setTimeout(() => {
      sweepNow()
        .catch(() => undefined) // already logged; the next interval retries
        .finally(() => schedule(intervalMs));
    }, delayMs);
    // Retention must never be the reason the process stays alive.
    timer.unref();
  }

  schedule(Math.min(intervalMs, FIRST_SWEEP_DELAY_MS));

  return {
    sweepNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
