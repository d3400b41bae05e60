/**
 * `POST /webchat/token`: the widget's way to a conversation token without the site's secret
 * ever reaching a browser. Each call starts a new anonymous conversation; a client gets only so
 * many a minute.
 */
import express from 'express';
import { sendError } from '../../httpErrors.js';
import type { RateLimit } from './clientRateLimit.js';
import { isLocaleTag } from './inboundActivity.js';
import { newConversationId, newUserId, type DirectLineTokens } from './directLineTokens.js';

export function widgetTokenRoute(tokens: DirectLineTokens, limit: RateLimit): express.Router {
  const router = express.Router();
  router.post('/webchat/token', express.json({ limit: '1kb' }), (req, res) => {
    const allowance = limit.take(req.ip ?? 'unknown');
    if (!allowance.ok) return sendError(res, 'RATE_LIMITED', { retryAfterSeconds: allowance.retryAfterSeconds });
    const asked = (req.body as { locale?: unknown } | undefined)?.locale;
    const locale = isLocaleTag(asked) ? asked : undefined;
    const conversationId = newConversationId();
    const { token, expiresIn } = tokens.issue({ conversationId, userId: newUserId(), locale });
    res.json({ conversationId, token, expires_in: expiresIn });
  });
  router.all('/webchat/token', (_req, res) => sendError(res, 'METHOD_NOT_ALLOWED'));
  return router;
}
