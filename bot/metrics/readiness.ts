/**
 * `GET /readyz`: may this instance be sent people now? Unlike `/healthz` (the process is alive),
 * it says no while the content is missing, while storage cannot be reached, and once shutdown
 * has begun, so a load balancer sends turns elsewhere instead of to an instance that would fail
 * them. The answer names a reason code and nothing else: no error text, path or stack.
 */
import type { RequestHandler } from 'express';
import type { Logger } from '../privacy/logger.js';
import type { WaypointStorage } from '../storage/waypointStorage.js';

export type NotReadyReason = 'CONTENT_NOT_LOADED' | 'STORAGE_UNREACHABLE' | 'STORAGE_TIMEOUT' | 'STOPPING';

export interface ReadinessOptions {
  readonly storage: Pick<WaypointStorage, 'ping'>;
  /** The composition root loads content before it listens; this guards a library left without languages. */
  readonly contentLoaded: () => boolean;
  readonly log: Logger;
  /** A ping slower than this counts as unreachable: a probe must not hang. */
  readonly timeoutMs?: number;
}

export interface Readiness {
  /** Mount at `GET /readyz`. */
  readonly route: RequestHandler;
  /** From now on the answer is "not ready", so traffic drains before the server closes. */
  stopping(): void;
}

const DEFAULT_TIMEOUT_MS = 2000;

export function createReadiness({ storage, contentLoaded, log, timeoutMs = DEFAULT_TIMEOUT_MS }: ReadinessOptions): Readiness {
  let stopping = false;
  // Probes that arrive while a check runs share it, so a flood of probes is one ping.
  let running: Promise<NotReadyReason | undefined> | undefined;
  let lastReason: NotReadyReason | undefined | null = null;

  async function check(): Promise<NotReadyReason | undefined> {
    if (stopping) return 'STOPPING';
    if (!contentLoaded()) return 'CONTENT_NOT_LOADED';
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<NotReadyReason>((resolve) => {
      timer = setTimeout(() => resolve('STORAGE_TIMEOUT'), timeoutMs);
    });
    const pinged = storage.ping().then(
      () => undefined,
      () => 'STORAGE_UNREACHABLE' as const,
    );
    try {
      return await Promise.race([pinged, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  function noteChange(reason: NotReadyReason | undefined): void {
    if (reason === lastReason) return;
    // Only changes are logged: a probe every few seconds would otherwise fill the log.
    if (reason) log.warn({ event: 'readiness.lost', reason });
    else if (lastReason !== null) log.info({ event: 'readiness.regained' });
    lastReason = reason;
  }

  return {
    route: async (_req, res) => {
      running ??= check().finally(() => {
        running = undefined;
      });
      const reason = await running;
      noteChange(reason);
      if (reason) res.status(503).json({ status: 'not ready', reason });
      else res.json({ status: 'ready' });
    },
    stopping() {
      stopping = true;
    },
  };
}
