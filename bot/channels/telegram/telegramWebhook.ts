/**
 * Webhook mode: Telegram POSTs each update to our URL with the secret we gave it in a header.
 * A request without that secret is refused (401) before anything reads it; grammY checks it
 * once more and hands the update on, and the request is answered before the turn runs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { webhookCallback, type Bot } from 'grammy';
import { sendError } from '../../httpErrors.js';

const SECRET_HEADER = 'X-Telegram-Bot-Api-Secret-Token';

/** Express handler for `POST <webhook path>`; expects express.json() to have run. */
export function telegramWebhookHandler(bot: Bot, secret: string): RequestHandler {
  const handleUpdate = webhookCallback(bot, 'express', { secretToken: secret });
  return async (req, res, next) => {
    if (!sameSecret(req.get(SECRET_HEADER), secret)) return sendError(res, 'TELEGRAM_SECRET_INVALID');
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || typeof (body as { update_id?: unknown }).update_id !== 'number') {
      return sendError(res, 'BAD_REQUEST', { detail: 'the body must be a Telegram update' });
    }
    try {
      await handleUpdate(req, res);
    } catch (error) {
      next(error);
    }
  };
}

/** Compared as hashes, so neither the time taken nor a length difference tells an attacker anything. */
function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
