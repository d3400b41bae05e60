/**
 * Waypoint's pieces as the benchmarks run them: settings pointing at the repository's real
 * content, and a bot behind our Direct Line service on a loopback port, mounted as bot/index.ts
 * mounts it (same routes, same server, same upgrade router).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createDirectLineChannel, type DirectLineChannel } from '../../../bot/channels/directLine/directLineChannel.js';
import type { TurnRunner } from '../../../bot/channels/turnRunner.js';
import { loadConfig, type Config } from '../../../bot/config.js';
import type { Logger } from '../../../bot/privacy/logger.js';
import { createServer } from '../../../bot/server.js';
import { routeUpgrades } from '../../../bot/upgradeRouter.js';
import { REPO_ROOT } from './benchResult.js';

/** Settings for a benchmark's Waypoint: the real content, counsellors always on duty, no logging. */
export function benchConfig(dataDir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    CONTENT_DIR: path.join(REPO_ROOT, 'resources/content'),
    RISK_DIR: path.join(REPO_ROOT, 'resources/risk'),
    HELPLINES_FILE: path.join(REPO_ROOT, 'resources/helplines.yaml'),
    HANDOVER_FILE: path.join(REPO_ROOT, 'tests/fixtures/handover/always-open.yaml'),
    LOG_LEVEL: 'silent',
    // Every simulated person comes from 127.0.0.1; the widget's per-address limit is for the open web.
    WIDGET_TOKENS_PER_MINUTE: '10000',
    ...env,
  });
}

export interface ServedDirectLine {
  readonly url: string;
  readonly channel: DirectLineChannel;
  close(): Promise<void>;
}

/** One bot behind our Direct Line service on 127.0.0.1. */
export async function serveDirectLine(bot: TurnRunner, key: Buffer, config: Config, log: Logger): Promise<ServedDirectLine> {
  const channel = createDirectLineChannel({
    bot,
    key,
    settings: config.directLine,
    publicUrl: undefined,
    widgetTokensPerMinute: config.widget.tokensPerMinute,
    log,
  });
  const app = createServer(
    { botFrameworkMessages: (_req, res) => void res.status(404).end(), directLine: channel.routes, widget: [channel.widgetToken] },
    log,
  );
  // A thousand people connecting at once must not overflow the accept queue (Node's default is 511).
  const server = app.listen({ port: 0, host: '127.0.0.1', backlog: 4096 });
  channel.attach(routeUpgrades(server, log));
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    channel,
    async close() {
      await channel.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
