/**
 * Our own Direct Line 3.0 service, put together: tokens, conversations with their delivery
 * buffers, the adapter that runs turns, the REST routes, the WebSocket stream, the widget's
 * token endpoint, and the sweep that ends conversations left idle.
 */
import { ActivityTypes } from 'botbuilder';
import type express from 'express';
import type { Config } from '../../config.js';
import type { Logger } from '../../privacy/logger.js';
import type { InstanceBus } from '../../redis/instanceBus.js';
import type { UpgradeRouter } from '../../upgradeRouter.js';
import type { TurnRunner } from '../turnRunner.js';
import { createRateLimit } from './clientRateLimit.js';
import { DirectLineAdapter } from './directLineAdapter.js';
import { DirectLineConversations, type DirectLineConversation } from './directLineConversations.js';
import { directLineRoutes } from './directLineRoutes.js';
import { attachDirectLineStream, type DirectLineStream } from './directLineStream.js';
import { createDirectLineTokens } from './directLineTokens.js';
import { SharedConversations } from './sharedConversations.js';
import { widgetTokenRoute } from './widgetTokenRoute.js';

export interface DirectLineChannelOptions {
  readonly bot: TurnRunner;
  /** Signs tokens (derived from the pseudonym secret, so instances that share it agree). */
  readonly key: Buffer;
  readonly settings: Config['directLine'];
  readonly publicUrl: string | undefined;
  readonly widgetTokensPerMinute: number;
  readonly log: Logger;
  readonly now?: () => number;
  /** Keep-alive period of open streams; tests shorten it. */
  readonly keepAliveMs?: number;
  /** With several instances (REDIS_URL): how they reach each other, and the prefix of Redis keys. */
  readonly shared?: { readonly bus: InstanceBus; readonly keyPrefix: string };
}

export interface DirectLineChannel {
  /** Mount at `/v3/directline`. */
  readonly routes: express.Router;
  /** Mount at `/`: `POST /webchat/token`. */
  readonly widgetToken: express.Router;
  readonly conversations: DirectLineConversations;
  /** Accepts stream connections on the server's WebSocket upgrades. */
  attach(upgrades: UpgradeRouter): void;
  /**
   * Closes streams and stops the sweep. Alone, it ends every conversation (so counsellors hear
   * people left); with other instances it lets go of them instead, for the others to take over.
   */
  close(): Promise<void>;
}

export function createDirectLineChannel(options: DirectLineChannelOptions): DirectLineChannel {
  const { settings, log, now = Date.now } = options;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const tokens = createDirectLineTokens(options.key, settings.tokenSeconds, now);
  // A token may be refreshed until it expires; an ended conversation stays refused that long.
  const tombstoneMs = settings.tokenSeconds * 1000;
  const conversations = new DirectLineConversations({
    bufferActivities: settings.bufferActivities,
    bufferMs: settings.bufferMs,
    idleMs: settings.idleMs,
    tombstoneMs,
    now,
    relay: options.shared ? (conversation, group) => shared?.relay(conversation, group) : undefined,
  });
  const shared = options.shared
    ? new SharedConversations({
        bus: options.shared.bus,
        keyPrefix: options.shared.keyPrefix,
        conversations,
        homeMs: settings.idleMs,
        endedMs: tombstoneMs,
        keepAliveMs,
        endConversation,
        log,
        now,
      })
    : undefined;
  const adapter = new DirectLineAdapter(conversations, options.bot, shared);
  let stream: DirectLineStream | undefined;

  async function endConversation(conversation: DirectLineConversation): Promise<void> {
    try {
      // The bot hears the person has gone (a counsellor is told; a queue place is freed).
      await adapter.receive(conversation, { type: ActivityTypes.EndOfConversation });
    } finally {
      await shared?.ended(conversation);
      conversations.end(conversation.id);
    }
  }

  const sweepEvery = Math.min(60_000, Math.max(1000, settings.idleMs / 4));
  const sweep = setInterval(() => {
    for (const conversation of conversations.idle()) {
      endConversation(conversation).catch((error: unknown) => log.warn({ event: 'directLine.endFailed', err: error }));
    }
  }, sweepEvery);
  sweep.unref();

  return {
    routes: directLineRoutes({ tokens, conversations, adapter, secret: settings.secret, publicUrl: options.publicUrl, endConversation, log, now, shared }),
    widgetToken: widgetTokenRoute(tokens, createRateLimit(options.widgetTokensPerMinute, now)),
    conversations,
    attach(upgrades) {
      stream = attachDirectLineStream(upgrades, { tokens, conversations, keepAliveMs, log, shared });
    },
    async close() {
      clearInterval(sweep);
      if (shared) shared.close();
      else await Promise.allSettled([...conversations.all()].map((conversation) => endConversation(conversation)));
      await stream?.close();
    },
  };
}
