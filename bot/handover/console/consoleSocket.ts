/**
 * The console's live connection: a WebSocket at `/console/ws`, accepted only for a signed-in
 * session (cookie, CSRF token, our Origin), speaking the frames in consoleFrames.ts. Heartbeats
 * find a counsellor whose network vanished without a close, so their people are re-queued
 * within seconds; a session that ends (sign-out, disabled account) closes its sockets.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { consoleRequestSchema, CONSOLE_ERROR_MESSAGES, type ConsoleFrame, type ConsoleRequest } from '../consoleFrames.js';
import type { Desk } from '../desk.js';
import type { AnyConsoleSessions, ConsoleSession } from './consoleSessions.js';
import { authenticateUpgrade, type UpgradeAuth } from './consoleAuthRoutes.js';
import type { Logger } from '../../privacy/logger.js';
import { refuseUpgrade, type UpgradeRouter } from '../../upgradeRouter.js';

export const CONSOLE_SOCKET_PATH = '/console/ws';
/** The largest frame a console may send: a long message plus its envelope. */
const MAX_FRAME_BYTES = 32 * 1024;
const CLOSE_SESSION_ENDED = 4001;

export interface ConsoleSocketOptions {
  readonly heartbeatMs?: number;
}

export interface ConsoleSocket {
  /** Closes every console connection. */
  close(): Promise<void>;
}

export function attachConsoleSocket(
  upgrades: UpgradeRouter,
  desk: Desk,
  sessions: AnyConsoleSessions,
  log: Logger,
  { heartbeatMs = 1000 }: ConsoleSocketOptions = {},
): ConsoleSocket {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const socketsOfToken = new Map<string, Set<WebSocket>>();

  upgrades.route(CONSOLE_SOCKET_PATH, (req, socket, head, url) => {
    if (url.pathname !== CONSOLE_SOCKET_PATH) return refuseUpgrade(socket, 404);
    const decided = (auth: UpgradeAuth) => {
      if (!auth.ok) return refuseUpgrade(socket, auth.status);
      wss.handleUpgrade(req, socket, head, (ws) => connected(ws, auth.session, auth.token));
    };
    const auth = authenticateUpgrade(sessions, req);
    if (auth instanceof Promise) {
      auth.then(decided, (error: unknown) => {
        log.error({ event: 'console.upgradeFailed', err: error });
        refuseUpgrade(socket, 500);
      });
    } else decided(auth);
  });

  const stopListening = sessions.onSessionEnded(({ token }) => {
    for (const ws of socketsOfToken.get(token) ?? []) ws.close(CLOSE_SESSION_ENDED, 'session ended');
  });

  function connected(ws: WebSocket, session: ConsoleSession, token: string): void {
    const sockets = socketsOfToken.get(token) ?? new Set<WebSocket>();
    sockets.add(ws);
    socketsOfToken.set(token, sockets);
    const send = (frame: ConsoleFrame) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
    };
    const detach = desk.attach({ name: session.name, role: session.role }, { send });

    let alive = true;
    ws.on('pong', () => {
      alive = true;
    });
    const heartbeat = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, heartbeatMs);
    heartbeat.unref();

    // Frames are acted on in the order they came, each after its session check.
    let handling = Promise.resolve();
    ws.on('message', (data, isBinary) => {
      const request = isBinary ? undefined : parse(data.toString());
      if (!request) return send({ type: 'error', code: 'BAD_MESSAGE', message: CONSOLE_ERROR_MESSAGES.BAD_MESSAGE });
      handling = handling.then(async () => {
        let live: ConsoleSession | undefined;
        try {
          live = await sessions.fromToken(token);
        } catch {
          return send({ type: 'error', code: 'LIVE_CHAT_UNAVAILABLE', message: CONSOLE_ERROR_MESSAGES.LIVE_CHAT_UNAVAILABLE });
        }
        // A session that ended between frames must not act any more.
        if (!live) return ws.close(CLOSE_SESSION_ENDED, 'session ended');
        act(request);
      });
    });
    const act = (request: ConsoleRequest) => {
      switch (request.type) {
        case 'availability':
          return desk.setAvailable(session.name, request.available);
        case 'accept':
          return desk.accept(session.name, request.ticket);
        case 'message':
          return desk.send(session.name, request.chatId, request.text, request.ref);
        case 'typing':
          return desk.counsellorTyping(session.name, request.chatId);
        case 'end':
          return desk.end(session.name, request.chatId, request.suggestModule);
      }
    };
    ws.on('error', (error) => log.warn({ event: 'console.socketError', err: error }));
    ws.on('close', () => {
      clearInterval(heartbeat);
      sockets.delete(ws);
      if (sockets.size === 0) socketsOfToken.delete(token);
      detach();
    });
  }

  return {
    close: async () => {
      stopListening();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function parse(text: string) {
  try {
    const result = consoleRequestSchema.safeParse(JSON.parse(text));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
