/**
 * `GET /metrics` for Prometheus. Metrics hold no person's data, but they show how busy the
 * service is and when, which is still not for everyone: with METRICS_TOKEN set a scraper must
 * send it; without one only this machine may read them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { sendError } from '../httpErrors.js';
import { newErrorId, type Logger } from '../privacy/logger.js';
import type { OperationsMetrics } from './operationsMetrics.js';

export interface MetricsRouteOptions {
  /** When set, requests must carry `Authorization: Bearer <token>`; when not, only loopback peers are answered. */
  readonly token: string | undefined;
  readonly log: Logger;
}

export function metricsRoute(metrics: OperationsMetrics, { token, log }: MetricsRouteOptions): RequestHandler {
  const expected = token === undefined ? undefined : digest(token);
  return async (req, res) => {
    if (expected) {
      if (!bearerMatches(req.headers.authorization, expected)) {
        res.set('WWW-Authenticate', 'Bearer');
        return sendError(res, 'METRICS_TOKEN_INVALID');
      }
    } else if (!isLocalRequest(req)) {
      return sendError(res, 'METRICS_LOOPBACK_ONLY');
    }
    try {
      const { contentType, body } = await metrics.scrape();
      res.type(contentType).send(body);
    } catch (error) {
      const errorId = newErrorId();
      log.error({ event: 'metrics.scrapeFailed', errorId, err: error });
      sendError(res, 'INTERNAL', { errorId });
    }
  };
}

/**
 * True when the TCP peer is this machine and no proxy says it is passing the request on. The
 * socket's address is the only one that cannot be claimed by the client: X-Forwarded-For is
 * never believed here, even with TRUST_PROXY, and a local reverse proxy (whose every request
 * comes from 127.0.0.1) is recognised by the forwarding headers it adds and refused.
 */
function isLocalRequest(req: Pick<IncomingMessage, 'socket' | 'headers'>): boolean {
  const { headers } = req;
  if (headers['x-forwarded-for'] !== undefined || headers.forwarded !== undefined || headers['x-real-ip'] !== undefined) return false;
  return isLoopbackAddress(req.socket.remoteAddress);
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Compared as digests, so the comparison takes the same time whatever the length or content sent. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer +(\S+)\s*$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), expected);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
