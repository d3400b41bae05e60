/**
 * The Telegram channel, put together: grammY's Bot for the Bot API, the adapter that runs turns,
 * the per-chat queues, and either long polling (the default, no public address needed) or a
 * webhook on our own express server. Started when TELEGRAM_BOT_TOKEN is set.
 */
import http from 'node:http';
import https from 'node:https';
import type { RequestHandler } from 'express';
import { Bot } from 'grammy';
import type { Config } from '../../config.js';
import type { ContentLibrary } from '../../content/schema.js';
import type { Logger } from '../../privacy/logger.js';
import type { InstanceBus } from '../../redis/instanceBus.js';
import type { TurnRunner } from '../turnRunner.js';
import { registerCommands } from './botCommands.js';
import { describeFailure } from './botApiErrors.js';
import { ALLOWED_UPDATES } from './inboundUpdate.js';
import { RecentMessages } from './recentMessages.js';
import { TelegramAdapter } from './telegramAdapter.js';
import { TelegramSender } from './telegramSender.js';
import { TelegramUpdates } from './telegramUpdates.js';
import { telegramWebhookHandler } from './telegramWebhook.js';
import { startPolling, type Polling } from './updatePolling.js';
import { startPollingLease, type PollingLease } from './pollingLease.js';

/** Telegram's own default; a stop aborts the open request, so it never makes shutdown wait. */
const POLL_TIMEOUT_SECONDS = 30;
/** Turns still running at shutdown get this long to finish before their sends are cut off. */
const DRAIN_MS = 10_000;
/** Another instance's answer to "which of this chat's messages do you remember?" is waited for this long. */
const RECENT_ELSEWHERE_MS = 1000;
const RECENT_KIND = 'tg.recent';

export interface TelegramChannelOptions {
  readonly token: string;
  readonly settings: Config['telegram'];
  readonly bot: TurnRunner;
  readonly content: ContentLibrary;
  readonly log: Logger;
  /**
   * With several instances (REDIS_URL): in polling mode only the holder of a lease polls; in
   * either mode "delete my data" also deletes the messages other instances sent or took in.
   */
  readonly shared?: { readonly bus: InstanceBus; readonly keyPrefix: string };
}

export interface TelegramChannel {
  /** What to mount for webhook mode (POST, after express.json()); undefined when polling. */
  readonly webhook: { readonly path: string; readonly handler: RequestHandler } | undefined;
  /** Checks the token (getMe), registers the command menu, then polls or sets the webhook. */
  start(): Promise<void>;
  /** Stops taking updates, lets the ones taken in finish, and closes the connections. */
  stop(): Promise<void>;
  /** Resolves when the chat's updates taken in so far have been handled and what they sent has gone (tests wait on it). */
  idle(chatId: number): Promise<void>;
}

export function createTelegramChannel({ token, settings, bot: turns, content, log, shared }: TelegramChannelOptions): TelegramChannel {
  // Our own agent, so stop() can close its kept-alive connections instead of leaving them to time out.
  const agent = settings.apiRoot.startsWith('https:') ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const bot = new Bot(token, { client: { apiRoot: settings.apiRoot, baseFetchConfig: { agent } } });
  const shutdown = new AbortController();
  const recent = new RecentMessages();
  const sender = new TelegramSender({ api: bot.api, recent, log, signal: shutdown.signal });
  let updates: TelegramUpdates | undefined;
  // In webhook mode grammY hands each update to this middleware; it is queued, not awaited.
  bot.use((ctx) => updates?.accept(ctx.update));
  bot.catch(({ error }) => log.error({ event: 'telegram.middlewareFailed', ...describeFailure(error) }));
  const webhook = settings.webhook;
  let polling: Polling | undefined;
  let lease: PollingLease | undefined;
  // Message ids travel between instances as messages, never into Redis keys; raw chat ids too.
  shared?.bus.handle(RECENT_KIND, (body) => recent.take((body as { chatId: number }).chatId));
  const recentElsewhere = shared
    ? async (chatId: number) => (await shared.bus.gather<number[]>(RECENT_KIND, { chatId }, RECENT_ELSEWHERE_MS)).flat()
    : undefined;

  return {
    webhook: webhook ? { path: webhook.path, handler: telegramWebhookHandler(bot, webhook.secret) } : undefined,
    async start() {
      try {
        await bot.init();
        const botAccount = { id: String(bot.botInfo.id), name: bot.botInfo.first_name, role: 'bot' };
        const adapter = new TelegramAdapter({ bot: turns, sender, recent, content, botAccount, log, recentElsewhere });
        updates = new TelegramUpdates({ adapter, sender, recent, log });
        await registerCommands(bot.api, content);
        if (webhook) {
          await bot.api.setWebhook(webhook.url, { secret_token: webhook.secret, allowed_updates: [...ALLOWED_UPDATES] });
        } else {
          // getUpdates is refused while a webhook is set (from an earlier deployment, say).
          await bot.api.deleteWebhook();
          const accept = updates.accept.bind(updates);
          const poll = () => startPolling({ api: bot.api, accept, log, timeoutSeconds: POLL_TIMEOUT_SECONDS });
          if (!shared) polling = poll();
          else {
            lease = startPollingLease({
              bus: shared.bus,
              keyPrefix: shared.keyPrefix,
              botId: bot.botInfo.id,
              log,
              onTaken: () => void (polling ??= poll()),
              onLost: async () => {
                const lost = polling;
                polling = undefined;
                // Confirmed at once: the new holder must not get them again.
                await lost?.stop(async () => {});
              },
            });
          }
        }
      } catch (error) {
        log.error({ event: 'telegram.startFailed', ...describeFailure(error) });
        agent.destroy();
        throw new TelegramStartError(describeFailure(error).errorCode);
      }
      log.info({ event: 'telegram.started', mode: webhook ? 'webhook' : 'polling' });
    },
    async idle(chatId) {
      await updates?.idle(chatId);
      await sender.idle(chatId);
    },
    async stop() {
      const drained = async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_MS)));
        await Promise.race([Promise.all([updates?.idle(), sender.idle()]), timeout]);
        clearTimeout(timer);
        shutdown.abort();
      };
      await lease?.pause();
      if (polling) await polling.stop(drained);
      else await drained();
      // Only now: another instance polls from the offset this one has just confirmed.
      await lease?.release();
      agent.destroy();
      log.info({ event: 'telegram.stopped' });
    },
  };
}

/** Start-up failed: a wrong token (401), an unreachable API root ('network')… Says so without the token. */
export class TelegramStartError extends Error {
  readonly code = 'TELEGRAM_START_FAILED';
  static readonly safeMessage = true;

  constructor(errorCode: number | string) {
    super(`The Telegram channel could not start (Bot API error ${errorCode}). Check TELEGRAM_BOT_TOKEN and TELEGRAM_API_ROOT.`);
  }
}
