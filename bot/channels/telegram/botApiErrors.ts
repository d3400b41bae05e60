/**
 * Bot API failures: waiting out Telegram's rate limit, and describing a failure for the log.
 * grammY's errors carry the request payload (message text, chat ids) and its network errors
 * can carry the request URL, which contains the bot token: so they are never logged as they
 * are, only their method and error code.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GrammyError, HttpError } from 'grammy';

/** Longer waits are not worth holding a chat's messages for; the call fails instead. */
const MAX_RETRY_AFTER_SECONDS = 60;
const MAX_ATTEMPTS = 4;

/** What the log may say about a failed call. */
export interface ApiFailure {
  readonly method: string;
  /** Telegram's error code (400, 403, 429…), or 'network'. */
  readonly errorCode: number | 'network' | 'unknown';
}

/**
 * Calls Telegram, and on 429 waits the `retry_after` Telegram asks for and tries again. Run it
 * inside the chat's queue: the wait then holds up that chat only.
 */
export async function withRateLimitRetry<T>(
  call: () => Promise<T>,
  { signal, onWait }: { signal?: AbortSignal; onWait?: (retryAfterSeconds: number) => void } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      const retryAfter = retryAfterSeconds(error);
      if (retryAfter === undefined || retryAfter > MAX_RETRY_AFTER_SECONDS || attempt >= MAX_ATTEMPTS) throw error;
      onWait?.(retryAfter);
      await sleep(retryAfter * 1000, undefined, { signal });
    }
  }
}

/** Seconds Telegram asks us to wait, when the error is its rate limit. */
export function retryAfterSeconds(error: unknown): number | undefined {
  if (!(error instanceof GrammyError) || error.error_code !== 429) return undefined;
  const seconds = error.parameters.retry_after;
  return typeof seconds === 'number' && seconds >= 0 ? seconds : 1;
}

export function describeFailure(error: unknown): ApiFailure {
  if (error instanceof GrammyError) return { method: error.method, errorCode: error.error_code };
  if (error instanceof HttpError) return { method: methodOf(error.message), errorCode: 'network' };
  return { method: 'unknown', errorCode: 'unknown' };
}

function methodOf(message: string): string {
  return /for '([A-Za-z]{1,40})'/.exec(message)?.[1] ?? 'unknown';
}
