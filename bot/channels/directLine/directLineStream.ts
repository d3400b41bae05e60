/**
 * The Direct Line WebSocket stream: `{activities, watermark}` pushed as the bot answers, what
 * the buffer holds after the client's watermark first, and an empty message as a keep-alive
 * (Web Chat ignores it; proxies see traffic). The ticket in the URL opens one conversation.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../privacy/logger.js';
import { refuseUpgrade, type UpgradeRouter } from '../../upgradeRouter.js';
import type { DirectLineConversations } from './directLineConversations.js';
import type { DirectLineTokens } from './directLineTokens.js';
import { parseWatermark } from './directLineRoutes.js';

const MOUNT_PATH = '/v3/directline';
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

export function attachDirectLineStream(upgrades: UpgradeRouter, options: DirectLineStreamOptions): DirectLineStream {
  const { tokens, conversations } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME });
  const open = new Set<WebSocket>();

  upgrades.route(MOUNT_PATH, (req, socket, head, url) => {
    const refuse = (status: number) => refuseUpgrade(socket, status);
    const match = STREAM_PATH.exec(url.pathname);
    if (!match) return refuse(404);
    const ticket = tokens.check(url.searchParams.get('t') ?? '', 'stream');
    if (!ticket.ok) return refuse(403);
    if (ticket.claims.conversationId !== decodedSegment(match[1]!)) return refuse(403);
    const conversationId = ticket.claims.conversationId;
    const watermark = parseWatermark(url.searchParams.get('watermark') ?? undefined);
    if (watermark === null) return refuse(400);
    const conversation = conversations.get(conversationId);
    if (!conversation) return refuse(404);
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

/** undefined for a broken %-escape, which names no conversation. */
function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
