/**
 * Builds the bot and what it stands on (content, secret, storage behind the privacy guard,
 * retention) from the settings. Shared by the server, the terminal chat and the tests, so all
 * three run the same pipeline.
 */
import type { Config } from './config.js';
import { loadContent } from './content/loadContent.js';
import type { ContentLibrary } from './content/schema.js';
import { createLowdbStorage } from './storage/lowdbStorage.js';
import type { WaypointStorage } from './storage/waypointStorage.js';
import { guardStorage } from './privacy/storageGuard.js';
import { createPseudonymizer, loadOrCreateSecret } from './privacy/pseudonym.js';
import { startRetentionSweep, type RetentionSweep } from './privacy/retention.js';
import type { Logger } from './privacy/logger.js';
import type { RiskScreen } from './risk/riskScreen.js';
import { loadRiskScreen } from './risk/loadRiskScreen.js';
import { loadHelplines, type Helplines } from './content/helplines.js';
import { noHandover } from './handover/handoverRelay.js';
import { WaypointBot } from './waypointBot.js';

export interface Runtime {
  readonly bot: WaypointBot;
  readonly content: ContentLibrary;
  readonly helplines: Helplines;
  readonly risk: RiskScreen;
  readonly storage: WaypointStorage;
  readonly retention: RetentionSweep;
  /** Stops the sweep and flushes storage; safe to call twice. */
  close(): Promise<void>;
}

export async function createRuntime(config: Config, log: Logger): Promise<Runtime> {
  const content = await loadContent(config.contentDir, { defaultLocale: config.defaultLocale });
  const helplines = await loadHelplines(config.helplinesFile);
  const risk = await loadRiskScreen(config.riskDir, config.defaultLocale);
  const secret = await loadOrCreateSecret(config.dataDir, config.pseudonymSecret);
  const storage = guardStorage(await createLowdbStorage({ dir: config.dataDir }), {
    onViolation: config.privacyGuard,
    onReject: ({ keyCount }) => log.error({ event: 'privacy.writeRefused', keyCount }),
  });
  const bot = new WaypointBot({
    content,
    storage,
    pseudonymize: createPseudonymizer(secret),
    risk,
    helplines,
    handover: noHandover,
    log,
  });
  const retention = startRetentionSweep(storage, {
    retentionDays: config.retentionDays,
    intervalMs: config.retentionSweepMs,
    log,
  });
  let closing: Promise<void> | undefined;
  return {
    bot,
    content,
    helplines,
    risk,
    storage,
    retention,
    close: () =>
      (closing ??= (async () => {
        await retention.stop();
        await storage.close();
      })()),
  };
}
