/**
 * The counsellor console as one piece for the composition root: staff accounts from the data
 * folder, sessions in memory (or in Redis, shared by every instance), the page and sign-in routes for `/console` (with the supervisor
 * dashboard when counts are given), and the WebSocket on the same HTTP server.
 */
import type express from 'express';
import { openStaffAccounts } from '../staffAccounts.js';
import type { Desk } from '../desk.js';
import type { Logger } from '../../privacy/logger.js';
import type { AggregateCounts } from '../../metrics/aggregateCounts.js';
import type { UpgradeRouter } from '../../upgradeRouter.js';
import { createConsoleSessions, type AnyConsoleSessions, type ConsoleSessionOptions } from './consoleSessions.js';
import { createSharedConsoleSessions } from './sharedConsoleSessions.js';
import type { InstanceBus } from '../../redis/instanceBus.js';
import { consolePages } from './consolePages.js';
import { attachConsoleSocket, type ConsoleSocket, type ConsoleSocketOptions } from './consoleSocket.js';

export interface CounsellorConsole {
  /** Mount at `/console`. */
  readonly routes: express.Router;
  /** Accepts console WebSockets on the server the routes are mounted on. */
  attach(upgrades: UpgradeRouter): void;
  close(): Promise<void>;
}

export interface CounsellorConsoleOptions {
  readonly dataDir: string;
  readonly desk: Desk;
  readonly log: Logger;
  /** The daily counts behind the supervisor dashboard; without them there is no dashboard. */
  readonly counts?: AggregateCounts;
  /** Epoch milliseconds; "today" for the dashboard's default range. */
  readonly now?: () => number;
  readonly sessions?: Omit<ConsoleSessionOptions, 'log'>;
  readonly socket?: ConsoleSocketOptions;
  /** With Redis: sessions shared by every instance, so sign-in works behind any balancer. */
  readonly shared?: { readonly bus: InstanceBus; readonly keyPrefix: string };
}

export function createCounsellorConsole({
  dataDir,
  desk,
  log,
  counts,
  now,
  sessions: sessionOptions,
  socket: socketOptions,
  shared,
}: CounsellorConsoleOptions): CounsellorConsole {
  const accounts = openStaffAccounts(dataDir);
  const sessions: AnyConsoleSessions = shared
    ? createSharedConsoleSessions(accounts, { ...sessionOptions, log, ...shared })
    : createConsoleSessions(accounts, { ...sessionOptions, log });
  sessions.start();
  let socket: ConsoleSocket | undefined;
  return {
    routes: consolePages(sessions, counts ? { counts, now, log } : undefined),
    attach(upgrades) {
      socket ??= attachConsoleSocket(upgrades, desk, sessions, log, socketOptions);
    },
    async close() {
      sessions.stop();
      await socket?.close();
    },
  };
}
