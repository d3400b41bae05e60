/**
 * The supervisor dashboard under `/console`: the page, its figures as JSON and the same figures
 * as a CSV download, all suppressed (bot/metrics/suppression.ts) and all for supervisors only.
 * A counsellor is refused with 403 and someone not signed in with 401; a browser asking for the
 * page gets a short page that says so instead of JSON.
 */
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import { HTTP_ERRORS, sendError, type HttpErrorCode } from '../../httpErrors.js';
import type { Logger } from '../../privacy/logger.js';
import type { AggregateCounts } from '../../metrics/aggregateCounts.js';
import { parseDateRange, readDashboard, type DateRange } from '../../metrics/dashboardData.js';
import { dashboardCsv } from '../../metrics/dashboardCsv.js';
import type { AnyConsoleSessions } from './consoleSessions.js';
import { requireConsoleSession } from './consoleAuthRoutes.js';

export interface DashboardSource {
  readonly counts: AggregateCounts;
  /** Epoch milliseconds; sets "today" for the default range. */
  readonly now?: () => number;
  readonly log?: Logger;
}

interface DashboardRouteOptions extends DashboardSource {
  readonly sessions: AnyConsoleSessions;
  /** The console's page policy (CSP and no-store). */
  readonly pagePolicy: RequestHandler;
  readonly assetsDir: string;
}

const SEND_OPTIONS = { dotfiles: 'deny', cacheControl: false, lastModified: false, etag: false } as const;

/** Mount at `/console`: GET /dashboard, GET /api/dashboard, GET /api/dashboard.csv. */
export function dashboardRoutes({ sessions, counts, now = Date.now, log, pagePolicy, assetsDir }: DashboardRouteOptions): express.Router {
  const router = express.Router({ strict: true });
  const supervisorOnly = requireConsoleSession(sessions, { csrf: false, role: 'supervisor' });

  router.get('/dashboard', pagePolicy, async (req, res, next) => {
    const signedIn = await sessions.fromCookieHeader(req.headers.cookie);
    const refusal: HttpErrorCode | undefined = !signedIn ? 'NOT_SIGNED_IN' : signedIn.session.role !== 'supervisor' ? 'FORBIDDEN' : undefined;
    if (!refusal) return res.sendFile(path.join(assetsDir, 'dashboard.html'), SEND_OPTIONS, next);
    if (req.accepts(['json', 'html']) !== 'html') return sendError(res, refusal);
    res.status(HTTP_ERRORS[refusal].status).sendFile(path.join(assetsDir, 'dashboard-refused.html'), SEND_OPTIONS, next);
  });

  router.get('/api/dashboard', noStore, supervisorOnly, withRange(now, async (range, _req, res) => {
    res.json(await readDashboard(counts, range));
  }));

  router.get('/api/dashboard.csv', noStore, supervisorOnly, withRange(now, async (range, _req, res) => {
    const csv = dashboardCsv(await readDashboard(counts, range));
    log?.info({ event: 'dashboard.csvExported', days: range.days });
    res.set({
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="waypoint-${range.from}-to-${range.to}.csv"`,
    });
    res.send(csv);
  }));

  return router;
}

function withRange(
  now: () => number,
  handler: (range: DateRange, req: express.Request, res: express.Response) => Promise<void>,
): RequestHandler {
  return async (req, res) => {
    const today = new Date(now()).toISOString().slice(0, 10);
    const parsed = parseDateRange(req.query.from, req.query.to, today);
    if (!parsed.ok) return sendError(res, 'BAD_DATE_RANGE', { detail: parsed.detail });
    // A failed read rejects here; Express 5 hands it to the server's error handler (500 with an error id).
    await handler(parsed.range, req, res);
  };
}

const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};
