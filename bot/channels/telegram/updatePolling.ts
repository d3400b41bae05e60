/**
 * Long polling: asks Telegram for updates (getUpdates with an offset and a timeout) in a loop,
 * so the bot works without a public address. Our own loop rather than grammY's `bot.start()`
 * so that stopping aborts the open request at once and confirms exactly what was taken in.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Api } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../../privacy/logger.js';
import { describeFailure, retryAfterSeconds } from './botApiErrors.js';
import { ALLOWED_UPDATES } from './inboundUpdate.js';

const FIRST_BACKOFF_MS = 1000;
/** grammY declares its own AbortSignal type (from a polyfill); Node's is the same thing at run time. */
type GrammySignal = Parameters<Api['getUpdates']>[1];
const MAX_BACKOFF_MS = 30_000;

export interface PollingOptions {
  readonly api: Api;
  /** Takes an update in without waiting for it to be handled. */
  readonly accept: (update: Update) => void;
  readonly log: Logger;
  /** How long Telegram holds each request open when there is nothing new. */
  readonly timeoutSeconds: number;
}

export interface Polling {
  /**
   * Stops asking; `beforeConfirm` runs once the loop has ended (let the updates taken in be
   * handled), then Telegram is told they are done, so a restart does not get them again.
   */
  stop(beforeConfirm: () => Promise<void>): Promise<void>;
}

export function startPolling({ api, accept, log, timeoutSeconds }: PollingOptions): Polling {
  const controller = new AbortController();
  const { signal } = controller;
  let offset = 0;
  const loop = (async () => {
    let backoffMs = FIRST_BACKOFF_MS;
    while (!signal.aborted) {
      try {
        const updates = await api.getUpdates({ offset, timeout: timeoutSeconds, allowed_updates: [...ALLOWED_UPDATES] }, signal as GrammySignal);
        backoffMs = FIRST_BACKOFF_MS;
        for (const update of updates) {
          offset = Math.max(offset, update.update_id + 1);
          accept(update);
        }
      } catch (error) {
        if (signal.aborted) break;
        // 409: another instance is polling, or a webhook is set. 401: the token was revoked.
        log.warn({ event: 'telegram.pollFailed', ...describeFailure(error) });
        const waitMs = (retryAfterSeconds(error) ?? 0) * 1000 || backoffMs;
        await sleep(waitMs, undefined, { signal }).catch(() => undefined);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  })();

  return {
    async stop(beforeConfirm) {
      controller.abort();
      await loop;
      await beforeConfirm();
      if (offset === 0) return;
      // Asking from the offset marks everything before it as received; whatever comes back stays unconfirmed.
      await api.getUpdates({ offset, limit: 1, timeout: 0 }).catch((error: unknown) => log.warn({ event: 'telegram.confirmFailed', ...describeFailure(error) }));
    },
  };
}
