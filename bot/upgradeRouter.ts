/**
 * One door for WebSocket upgrades. Node gives every `upgrade` listener the raw socket with no
 * error listener, and an exception in one stops the whole process; an upgrade nobody claims is
 * never answered and holds the server open. So one listener parses the address, hands the
 * request to the route that owns its path, and answers everything else itself.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { newErrorId, type Logger } from './privacy/logger.js';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => void;

export interface UpgradeRouter {
  /** `handler` gets upgrades to `path` and anything below it. */
  route(path: string, handler: UpgradeHandler): void;
}

const REASONS: Readonly<Record<number, string>> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** Answers an upgrade with a plain HTTP status and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number): void {
  const reason = REASONS[status] ?? 'Refused';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`);
}

export function routeUpgrades(server: Server, log: Logger): UpgradeRouter {
  const routes: { path: string; handler: UpgradeHandler }[] = [];
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      // `GET http://[ HTTP/1.1` reaches us too.
      return refuseUpgrade(socket, 400);
    }
    const route = routes.find(({ path }) => url.pathname === path || url.pathname.startsWith(`${path}/`));
    if (!route) return refuseUpgrade(socket, 404);
    try {
      route.handler(req, socket, head, url);
    } catch (error) {
      const errorId = newErrorId();
      log.error({ event: 'upgrade.failed', errorId, err: error });
      if (!socket.destroyed) refuseUpgrade(socket, 500);
    }
  });
  return {
    route(path, handler) {
      routes.push({ path, handler });
    },
  };
}
