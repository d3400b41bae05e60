/**
 * The counsellor console's page and assets, with a Content-Security-Policy that lets the page
 * load only from this server and talk only to it: a message a person types can never run as
 * script in a counsellor's browser, and nothing leaves for a third party.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler } from 'express';
import type { AnyConsoleSessions } from './consoleSessions.js';
import { consoleAuthRoutes } from './consoleAuthRoutes.js';
import { dashboardRoutes, type DashboardSource } from './dashboardRoutes.js';
import { plainHost } from '../../plainHost.js';

const ASSETS = fileURLToPath(new URL('../../../resources/web/console/', import.meta.url));
const FILES: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/console.js': 'console.js',
  '/console.css': 'console.css',
  '/dashboard.js': 'dashboard.js',
  '/dashboard.css': 'dashboard.css',
};

/** Mount at `/console`. With a `dashboard` source, supervisors also get the dashboard. */
export function consolePages(sessions: AnyConsoleSessions, dashboard?: DashboardSource): express.Router {
  const router = express.Router({ strict: true });
  router.use('/api', consoleAuthRoutes(sessions));
  if (dashboard) router.use(dashboardRoutes({ ...dashboard, sessions, pagePolicy: consolePolicy, assetsDir: ASSETS }));
  for (const [route, file] of Object.entries(FILES)) {
    router.get(route, consolePolicy, (_req, res) => {
      res.sendFile(path.join(ASSETS, file), { dotfiles: 'deny', cacheControl: false, lastModified: false, etag: false });
    });
  }
  return router;
}

const consolePolicy: RequestHandler = (req, res, next) => {
  const host = plainHost(req.get('host'));
  res.set({
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      // 'self' covers ws: in current browsers; the explicit entries keep older ones working.
      `connect-src 'self' ws://${host} wss://${host}`,
      "img-src 'self' data:",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'Cache-Control': 'no-store',
  });
  next();
};
