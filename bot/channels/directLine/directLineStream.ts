/**
 * The Direct Line WebSocket stream: `{activities, watermark}` pushed as the bot answers, what
 * the buffer holds after the client's watermark first, and an empty message as a keep-alive
 * (Web Chat ignores it; proxies see traffic). The ticket in the URL opens one conversation.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../privacy/logger.js';
import { refuseUpgrade, type UpgradeRouter } from '../../upgradeRouter.js';
import type { ActivityGroup, DirectLineConversation, DirectLineConversations } from './directLineConversations.js';
import type { DirectLineTokens } from './directLineTokens.js';
import { parseWatermark } from './directLineRoutes.js';
import { RemoteConversation, type RemoteStream, type SharedConversations } from './sharedConversations.js';

const MOUNT_PATH = '/v3/directline';
const STREAM_PATH = /^\/v3\/directline\/conversations\/([^/]+)\/stream$/;
/** Clients only ping; nothing they send over the stream is read. */
const MAX_CLIENT_FRAME = 1024;

export interface DirectLineStreamOptions {
  readonly tokens: DirectLineTokens;
  readonly conversations: DirectLineConversations;
  readonly keepAliveMs: number;
  readonly log: Logger;
  /** With several instances: streams for conversations held on others. */
  readonly shared?: SharedConversations;
}

type UpgradeArgs = [req: IncomingMessage, socket: Duplex, head: Buffer];

/** Where a stream's activities come from: the buffer here, or the conversation's home elsewhere. */
interface StreamSource {
  touch(): void;
  close(): void;
}

export interface DirectLineStream {
  /** Open streams, for the benchmark and tests. */
  readonly openCount: number;
  close(): Promise<void>;
}

export function attachDirectLineStream(upgrades: UpgradeRouter, options: DirectLineStreamOptions): DirectLineStream {
  const { tokens, conversations, shared, log } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME });
  const open_ = new Set<WebSocket>();

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
    if (conversation) return void accept(req, socket, head, bufferSource(conversation, watermark));
    if (!shared) return refuse(404);
    shared
      .find(conversationId, { userId: ticket.claims.userId, locale: ticket.claims.locale })
      .then((found) => {
        if (found === 'notFound') return refuse(404);
        if (found === 'unreachable') return refuse(503);
        if (found instanceof RemoteConversation) return fromHome(found, watermark, req, socket, head);
        // Its home was gone: this instance has just taken it over.
        accept(req, socket, head, bufferSource(found, watermark));
      })
      .catch((error: unknown) => {
        log.warn({ event: 'directLine.streamFailed', err: error });
        if (!socket.destroyed) refuse(503);
      });
  });

  /**
   * A conversation held on another instance: listening there starts before the upgrade, so a
   * home that cannot be reached is a refusal rather than a socket that closes at once.
   */
  async function fromHome(conversation: RemoteConversation, watermark: number | undefined, ...upgrade: UpgradeArgs): Promise<void> {
    let socketSide: { send(payload: string): void; end(): void } | undefined;
    const early: (string | undefined)[] = [];
    let remote: RemoteStream;
    try {
      remote = await shared!.openStream(
        conversation,
        watermark,
        (group) => (socketSide ? socketSide.send(JSON.stringify(group)) : early.push(JSON.stringify(group))),
        () => (socketSide ? socketSide.end() : early.push(undefined)),
      );
    } catch (error) {
      log.warn({ event: 'directLine.streamFailed', err: error });
      return refuseUpgrade(upgrade[1], 503);
    }
    // The client may have given up while the home answered; then nothing calls back.
    let upgraded = false;
    upgrade[1].once('close', () => upgraded || remote.close());
    accept(...upgrade, (send, end) => {
      upgraded = true;
      for (const payload of early) if (payload !== undefined) send(payload);
      if (early.includes(undefined)) end();
      socketSide = { send, end };
      return { touch: () => remote.keepAlive(), close: () => remote.close() };
    });
  }

  /** Upgrades, then feeds the socket from `open` with keep-alives until either side closes. */
  function accept(...[req, socket, head, open]: [...UpgradeArgs, (send: (payload: string) => void, onEnded: () => void) => StreamSource]): void {
    wss.handleUpgrade(req, socket, head, (ws) => {
      open_.add(ws);
      const send = (payload: string) => {
        if (ws.readyState === ws.OPEN) ws.send(payload);
      };
      const source = open(send, () => ws.close(1000, 'conversation ended'));
      let alive = true;
      ws.on('pong', () => (alive = true));
      const keepAlive = setInterval(() => {
        if (!alive) return ws.terminate();
        alive = false;
        ws.ping();
        send('');
        source.touch();
      }, options.keepAliveMs);
      keepAlive.unref();
      ws.on('close', () => {
        clearInterval(keepAlive);
        source.close();
        open_.delete(ws);
      });
      ws.on('error', () => ws.terminate());
    });
  }

  return {
    get openCount() {
      return open_.size;
    },
    async close() {
      for (const ws of open_) ws.close(1001, 'server stopping');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** The buffer here: what the client has not seen, then whatever the bot says next. */
/**
 * Made here, not inline in the upgrade handler: a closure made there shares the handler's scope,
 * which holds the upgrade request, so every open stream kept its request alive (~1.8 KB each;
 * tests/bench/conversationMemory.ts --profile).
 */
function bufferSource(conversation: DirectLineConversation, watermark: number | undefined) {
  return (send: (payload: string) => void, onEnded: () => void): StreamSource => fromBuffer(conversation, watermark, send, onEnded);
}

function fromBuffer(conversation: DirectLineConversation, watermark: number | undefined, send: (payload: string) => void, onEnded: () => void): StreamSource {
  conversation.touch();
  const backlog: ActivityGroup = conversation.after(watermark);
  if (backlog.activities.length > 0) send(JSON.stringify(backlog));
  const unsubscribe = conversation.subscribe((group) => send(JSON.stringify(group)), onEnded);
  return {
    touch: () => conversation.touch(),
    close: () => {
      unsubscribe();
      conversation.touch();
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
