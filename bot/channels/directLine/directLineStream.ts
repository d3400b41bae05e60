/**
 * The Direct Line WebSocket stream: `{activities, watermark}` pushed as the bot answers, what
 * the buffer holds after the client's watermark first, and an empty message as a keep-alive
 * (Web Chat ignores it; proxies see traffic). The ticket in the URL opens one conversation.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../privacy/logger.js';
import type { DirectLineConversations } from './directLineConversations.js';
import type { DirectLineTokens } from './directLineTokens.js';
import { parseWatermark } from './directLineRoutes.js';

const STREAM_PATH = /^\/v3\/directline\/conversations\/([^/]+)\/stream$/;
/** Clients only ping; nothing they send over the stream is read. */
const MAX_CLIENT_FRAME = 1024;

export interface DirectLineStreamOptions {
  readonly tokens: DirectLineTokens;
  readonly conversations: DirectLineConversations;
  readonly keepAliveMs: number;
  readonly log: Logger;
}

export interface DirectLineStream {
  /** Open streams, for the benchmark and tests. */
  readonly openCount: number;
  close(): Promise<void>;
}

export function attachDirectLineStream(server: Server, options: DirectLineStreamOptions): DirectLineStream {
  const { tokens, conversations } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME });
  const open = new Set<WebSocket>();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = STREAM_PATH.exec(url.pathname);
    if (!match) return;
    const refuse = (status: number, reason: string) =>
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`);
    const ticket = tokens.check(url.searchParams.get('t') ?? '', 'stream');
    const conversationId = decodeURIComponent(match[1]!);
    if (!ticket.ok) return refuse(403, 'Forbidden');
    if (ticket.claims.conversationId !== conversationId) return refuse(403, 'Forbidden');
    const watermark = parseWatermark(url.searchParams.get('watermark') ?? undefined);
    if (watermark === null) return refuse(400, 'Bad Request');
    const conversation = conversations.get(conversationId);
    if (!conversation) return refuse(404, 'Not Found');
    wss.handleUpgrade(req, socket, head, (ws) => {
      open.add(ws);
      conversation.touch();
      const send = (payload: string) => {
        if (ws.readyState === ws.OPEN) ws.send(payload);
      };
      const backlog = conversation.after(watermark);
      if (backlog.activities.length > 0) send(JSON.stringify(backlog));
      const unsubscribe = conversation.subscribe(
        (group) => send(JSON.stringify(group)),
        () => ws.close(1000, 'conversation ended'),
      );
      let alive = true;
      ws.on('pong', () => (alive = true));
      const keepAlive = setInterval(() => {
        if (!alive) return ws.terminate();
        alive = false;
        ws.ping();
        send('');
        conversation.touch();
      }, options.keepAliveMs);
      keepAlive.unref();
      ws.on('close', () => {
        clearInterval(keepAlive);
        unsubscribe();
        open.delete(ws);
        conversation.touch();
      });
      ws.on('error', () => ws.terminate());
    });
  });

  return {
    get openCount() {
      return open.size;
    },
    async close() {
      for (const ws of open) ws.close(1001, 'server stopping');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
