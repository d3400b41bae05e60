/**
 * Composition root: settings -> storage -> adapters -> bot -> server. `npm start` runs this file;
 * tests call startWaypoint() with their own settings.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './privacy/logger.js';
import { createRuntime, type Runtime, type RuntimeOptions } from './runtime.js';
import { createCounsellorConsole, type CounsellorConsoleOptions } from './handover/console/counsellorConsole.js';
import { createServer } from './server.js';
import { routeUpgrades } from './upgradeRouter.js';
import { createOperationsMetrics } from './metrics/operationsMetrics.js';
import { metricsRoute } from './metrics/metricsRoute.js';
import { createReadiness } from './metrics/readiness.js';
import { botFrameworkMessages, createBotFrameworkAdapter } from './channels/botFramework/botFrameworkChannel.js';
import { createDirectLineChannel, type DirectLineChannel } from './channels/directLine/directLineChannel.js';
import { widgetPages } from './channels/webChat/widgetPages.js';
// Telegram (grammY) and Redis (ioredis) are imported in startWaypoint only when configured: every
// module loaded is start-up time, and most deployments use neither.
import type { TelegramChannel } from './channels/telegram/telegramChannel.js';
import type { InstanceBus } from './redis/instanceBus.js';
import { corruptStoreReport, isStorageCorrupt } from './storage/storageCorruptError.js';

export interface RunningWaypoint {
  readonly url: string;
  readonly port: number;
  readonly runtime: Runtime;
  /** Our Direct Line service (Web Chat and any Direct Line client). */
  readonly directLine: DirectLineChannel;
  /** The Telegram channel, when TELEGRAM_BOT_TOKEN is set. */
  readonly telegram: TelegramChannel | undefined;
  /** Stops accepting requests, lets turns in flight finish, flushes storage. */
  stop(): Promise<void>;
}

export interface StartOptions extends RuntimeOptions {
  /** Session and socket timings of the counsellor console; tests shorten them. */
  readonly console?: Pick<CounsellorConsoleOptions, 'sessions' | 'socket'>;
  /** Keep-alive period of Direct Line streams; tests shorten it. */
  readonly directLineKeepAliveMs?: number;
}

export async function startWaypoint(config: Config, log: Logger, options: StartOptions = {}): Promise<RunningWaypoint> {
  const metrics = createOperationsMetrics({ now: options.now });
  // With Redis, instances reach each other through it: Direct Line conversations, Telegram polling and live chat span them.
  const bus: InstanceBus | undefined = config.redis.url
    ? (await import('./redis/instanceBus.js')).createInstanceBus({ url: config.redis.url, prefix: config.redis.keyPrefix, log })
    : undefined;
  if (bus && !(await bus.listening)) log.warn({ event: 'bus.notListening' });
  let runtime: Runtime;
  try {
    runtime = await createRuntime(config, log, { ...options, metrics, bus });
  } catch (error) {
    await bus?.close();
    throw error;
  }
  const adapter = createBotFrameworkAdapter(config.azure);
  const counsellorConsole =
    config.handoverMode === 'console'
      ? createCounsellorConsole({
          dataDir: config.dataDir,
          desk: runtime.desk,
          counts: runtime.counts,
          now: options.now,
          log,
          // With Redis, a console session works on every instance (no sticky sessions needed).
          shared: bus ? { bus, keyPrefix: config.redis.keyPrefix } : undefined,
          ...options.console,
        })
      : undefined;
  const directLine = createDirectLineChannel({
    bot: runtime.bot,
    key: runtime.directLineKey,
    settings: config.directLine,
    publicUrl: config.publicUrl,
    widgetTokensPerMinute: config.widget.tokensPerMinute,
    log,
    now: options.now,
    keepAliveMs: options.directLineKeepAliveMs,
    shared: bus ? { bus, keyPrefix: config.redis.keyPrefix } : undefined,
  });
  metrics.readFrom({ desk: () => runtime.desk.occupancy(), directLineConversations: () => directLine.conversations.size });
  const readiness = createReadiness({ storage: runtime.storage, contentLoaded: () => runtime.content.locales.size > 0, log });
  const widget = await widgetPages({ quickExitUrl: config.widget.quickExitUrl, allowedOrigins: config.widget.allowedOrigins });
  const { token: telegramToken } = config.telegram;
  const telegram: TelegramChannel | undefined = telegramToken
    ? (await import('./channels/telegram/telegramChannel.js')).createTelegramChannel({
        token: telegramToken,
        settings: config.telegram,
        bot: runtime.bot,
        content: runtime.content,
        log,
        shared: bus ? { bus, keyPrefix: config.redis.keyPrefix } : undefined,
      })
    : undefined;
  const app = createServer(
    {
      botFrameworkMessages: botFrameworkMessages(adapter, runtime.bot, log),
      console: counsellorConsole?.routes,
      directLine: directLine.routes,
      widget: [directLine.widgetToken, widget],
      telegramWebhook: telegram?.webhook,
      metrics: metricsRoute(metrics, { token: config.metricsToken, log }),
      readiness: readiness.route,
    },
    log,
    { trustProxy: config.trustProxy, onErrorAnswer: (code) => metrics.errorAnswered(code) },
  );
  const server = app.listen(config.port, config.host);
  const upgrades = routeUpgrades(server, log);
  counsellorConsole?.attach(upgrades);
  directLine.attach(upgrades);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  log.info({ event: 'server.started', port, auth: config.azure.appId ? 'azure' : 'anonymous' });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      readiness.stopping();
      // First: no new Telegram updates, and the ones taken in finish while storage is still open.
      await telegram?.stop();
      const closed = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await counsellorConsole?.close();
      await directLine.close();
      await closed;
      // The desk still talks to other instances while it closes (handing its people back).
      await runtime.close();
      await bus?.close();
      log.info({ event: 'server.stopped' });
    })());
  if (telegram) {
    // Once the server listens: in webhook mode Telegram starts delivering as soon as it is told where.
    try {
      await telegram.start();
    } catch (error) {
      await stop();
      throw error;
    }
  }
  return { url: `http://${host}:${port}`, port, runtime, directLine, telegram, stop };
}

async function main(): Promise<void> {
  // A local .env is a convenience for development; real deployments set the environment.
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  const log = createLogger({ level: config.logLevel });
  let running: RunningWaypoint;
  try {
    running = await startWaypoint(config, log);
  } catch (error) {
    // Content errors list files and lines for the editor; they contain no user data.
    const report = (error as { problems?: unknown }).problems ? (error as Error).message : undefined;
    if (report) process.stderr.write(`Waypoint cannot start: the content has errors.\n${report}\n`);
    // Unreadable store files are named (hashes, no user data) so an operator can decide about them.
    else if (isStorageCorrupt(error)) process.stderr.write(`${corruptStoreReport(error, config.dataDir)}\n`);
    else log.fatal({ event: 'server.startFailed', err: error });
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    log.info({ event: 'server.stopping', signal });
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ event: 'server.stopFailed', err: error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // Announced only once the signal handlers are in: a supervisor (or a test) that stops the
  // process as soon as it reads this line must get a clean shutdown, not the default kill.
  const consoleNote = config.handoverMode === 'console' ? `, counsellor console ${running.url}/console` : '';
  process.stdout.write(`Waypoint is listening on ${running.url} (web chat demo ${running.url}/, POST /api/messages, GET /healthz, GET /readyz, GET /metrics${consoleNote})\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
