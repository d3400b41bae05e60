/**
 * The counsellor console as one piece for the composition root: staff accounts from the data
 * folder, sessions in memory, the page and sign-in routes for `/console`, and the WebSocket on
 * the same HTTP server.
 */
import type express from 'express';
import { openStaffAccounts } from '../staffAccounts.js';
import type { HandoverDesk } from '../handoverDesk.js';
import type { Logger } from '../../privacy/logger.js';
import type { UpgradeRouter } from '../../upgradeRouter.js';
import { createConsoleSessions, type ConsoleSessionOptions } from './consoleSessions.js';
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
  readonly desk: HandoverDesk;
  readonly log: Logger;
  readonly sessions?: Omit<ConsoleSessionOptions, 'log'>;
  readonly socket?: ConsoleSocketOptions;
}

export function createCounsellorConsole({ dataDir, desk, log, sessions: sessionOptions, socket: socketOptions }: CounsellorConsoleOptions): CounsellorConsole {
  const sessions = createConsoleSessions(openStaffAccounts(dataDir), { ...sessionOptions, log });
  sessions.start();
  let socket: ConsoleSocket | undefined;
  return {
    routes: consolePages(sessions),
    attach(upgrades) {
      socket ??= attachConsoleSocket(upgrades, desk, sessions, log, socketOptions);
    },
    async close() {
      sessions.stop();
      await socket?.close();
    },
  };
}
