/**
 * Builds the bot and what it stands on (content, secret, storage behind the privacy guard,
 * retention) from the settings. Shared by the server, the terminal chat and the tests, so all
 * three run the same pipeline.
 */
import type { Config } from './config.js';
import { loadContent } from './content/loadContent.js';
import type { ContentLibrary } from './content/schema.js';
import { openStorage } from './storage/openStorage.js';
import type { WaypointStorage } from './storage/waypointStorage.js';
import { guardStorage } from './privacy/storageGuard.js';
import { createPseudonymizer, deriveKey, loadOrCreateSecret } from './privacy/pseudonym.js';
import { startRetentionSweep, type RetentionSweep } from './privacy/retention.js';
import type { Logger } from './privacy/logger.js';
import type { RiskScreen } from './risk/riskScreen.js';
import { loadRiskScreen } from './risk/loadRiskScreen.js';
import { loadHelplines, type Helplines } from './content/helplines.js';
import { loadHandoverSettings } from './handover/handoverSettings.js';
import { createOpeningHours } from './handover/openingHours.js';
import type { Desk } from './handover/desk.js';
import { openDesk } from './handover/openDesk.js';
import { Handover } from './handover/handover.js';
import { createAggregateCounts, type AggregateCounts } from './metrics/aggregateCounts.js';
import type { OperationsMetrics } from './metrics/operationsMetrics.js';
import type { InstanceBus } from './redis/instanceBus.js';
import { WaypointBot } from './waypointBot.js';

export interface Runtime {
  readonly bot: WaypointBot;
  readonly content: ContentLibrary;
  readonly helplines: Helplines;
  readonly risk: RiskScreen;
  readonly storage: WaypointStorage;
  /** Who waits for and talks with counsellors, on this instance. */
  readonly desk: Desk;
  readonly counts: AggregateCounts;
  /** Signs Direct Line tokens; the same on every instance that shares the pseudonym secret. */
  readonly directLineKey: Buffer;
  readonly retention: RetentionSweep;
  /** Stops the sweep and flushes storage; safe to call twice. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** The clock for opening hours and the queue; tests inject one. */
  readonly now?: () => number;
  /** Where turns and privacy-guard refusals are counted for GET /metrics; the server passes one. */
  readonly metrics?: OperationsMetrics;
  /** With Redis: how instances reach each other; the handover desk is then shared by all of them. */
  readonly bus?: InstanceBus;
}

export async function createRuntime(config: Config, log: Logger, { now = Date.now, metrics, bus }: RuntimeOptions = {}): Promise<Runtime> {
  const content = await loadContent(config.contentDir, { defaultLocale: config.defaultLocale });
  const helplines = await loadHelplines(config.helplinesFile);
  const risk = await loadRiskScreen(config.riskDir, config.defaultLocale);
  const handoverSettings = await loadHandoverSettings(config.handoverFile);
  const secret = await loadOrCreateSecret(config.dataDir, config.pseudonymSecret);
  const storage = guardStorage(await openStorage(config, log), {
    onViolation: config.privacyGuard,
    onReject: ({ keyCount }) => {
      log.error({ event: 'privacy.writeRefused', keyCount });
      metrics?.privacyWriteRefused();
    },
  });
  const counts = createAggregateCounts(storage, {
    languages: content.locales.keys(),
    defaultLocale: content.defaultLocale,
    log,
    now: () => new Date(now()),
  });
  const desk = await openDesk(config, bus, {
    hours: createOpeningHours(handoverSettings),
    queue: handoverSettings.queue,
    modules: [...content.forLocale(config.defaultLocale).modules.values()].map(({ id, title }) => ({ id, title })),
    counts,
    log,
    now,
  });
  await desk.start();
  const handover = new Handover({ mode: config.handoverMode, desk, counts, log, timeZone: handoverSettings.timeZone, now });
  const bot = new WaypointBot({
    content,
    storage,
    pseudonymize: createPseudonymizer(secret),
    risk,
    helplines,
    handover,
    counts,
    log,
    onTurnEnded: metrics?.turnEnded,
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
    desk,
    counts,
    directLineKey: deriveKey(secret, 'directline-tokens'),
    retention,
    close: () =>
      (closing ??= (async () => {
        await desk.stop();
        await retention.stop();
        // Today's tallies reach storage before it closes.
        await counts.close();
        await storage.close();
      })()),
  };
}
