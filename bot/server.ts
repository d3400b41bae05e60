/**
 * The HTTP surface: security headers, body limits, health, the channel routes, and one error
 * handler that answers in the error catalogue's words. No bot logic lives here.
 */
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { observeErrorAnswers, sendError, type HttpErrorCode } from './httpErrors.js';
import { newErrorId, type Logger } from './privacy/logger.js';

/** Activities are small; anything bigger is a mistake or an attack. */
const BODY_LIMIT = '64kb';
/** A Telegram update can quote a whole earlier message (4096 characters) besides its own. */
const TELEGRAM_BODY_LIMIT = '256kb';

export interface ServerRoutes {
  /** `POST /api/messages`: the Bot Framework endpoint. */
  readonly botFrameworkMessages: RequestHandler;
  /** `/console`: the counsellor console's page and sign-in. */
  readonly console?: express.Router;
  /** `/v3/directline`: our own Direct Line 3.0 service for Web Chat. */
  readonly directLine?: express.Router;
  /** `/`: the demo page, the embeddable widget and its chat panel. */
  readonly widget?: readonly express.Router[];
  /** `POST <path>`: Telegram's webhook, when the Telegram channel runs in webhook mode. */
  readonly telegramWebhook?: { readonly path: string; readonly handler: RequestHandler };
  /** `GET /metrics`: Prometheus text, guarded by a token or loopback (bot/metrics/metricsRoute.ts). */
  readonly metrics?: RequestHandler;
  /** `GET /readyz`: whether to send people here now, unlike `/healthz` (alive). */
  readonly readiness?: RequestHandler;
}

export interface ServerOptions {
  /** Behind a reverse proxy: take the client address and protocol from X-Forwarded-*. */
  readonly trustProxy?: boolean;
  /** Told the code of every error answer, for the metrics. */
  readonly onErrorAnswer?: (code: HttpErrorCode) => void;
}

export function createServer(routes: ServerRoutes, log: Logger, { trustProxy = false, onErrorAnswer }: ServerOptions = {}): express.Express {
  const app = express();
  app.set('trust proxy', trustProxy);
  app.disable('x-powered-by');
  app.set('etag', false);
  if (onErrorAnswer) app.use(observeErrorAnswers(onErrorAnswer));
  app.use(securityHeaders);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  if (routes.readiness) app.get('/readyz', routes.readiness);
  if (routes.metrics) app.get('/metrics', routes.metrics);
  app.post('/api/messages', express.json({ limit: BODY_LIMIT }), routes.botFrameworkMessages);
  app.all('/api/messages', (_req, res) => sendError(res, 'METHOD_NOT_ALLOWED'));
  if (routes.console) app.use('/console', routes.console);
  if (routes.directLine) app.use('/v3/directline', routes.directLine);
  if (routes.telegramWebhook) {
    const { path, handler } = routes.telegramWebhook;
    app.post(path, express.json({ limit: TELEGRAM_BODY_LIMIT }), handler);
    app.all(path, (_req, res) => sendError(res, 'METHOD_NOT_ALLOWED'));
  }
  for (const router of routes.widget ?? []) app.use(router);

  app.use((_req, res) => sendError(res, 'NOT_FOUND'));
  app.use(errorHandler(log));
  return app;
}

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'Cache-Control': 'no-store',
  });
  next();
};

/** Body-parser errors become 4xx with a reason; anything else a 500 with an error id. */
function errorHandler(log: Logger): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    const type = (error as { type?: string }).type;
    if (type === 'entity.parse.failed') return sendError(res, 'BAD_JSON');
    if (type === 'entity.too.large') return sendError(res, 'BODY_TOO_LARGE');
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') return sendError(res, 'UNSUPPORTED_MEDIA_TYPE');
    // Other client mistakes the framework already classed as such: a body that will not inflate,
    // a path with a broken %-escape.
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) return sendError(res, 'BAD_REQUEST');
    const errorId = newErrorId();
    log.error({ event: 'http.failed', errorId, err: error });
    sendError(res, 'INTERNAL', { errorId });
  };
}
