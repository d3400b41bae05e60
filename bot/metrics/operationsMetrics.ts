/**
 * What an operator scrapes from one Waypoint (GET /metrics, Prometheus text): turns and how
 * long they take, how many conversations are active, the counsellors' desk, errors by code and
 * privacy-guard refusals. Every label value comes from a fixed list in this file or the error
 * catalogue, never from a request: a channel id, user id or word typed cannot become a series.
 *
 * Each Waypoint has its own registry, so several in one process (tests) never count into each
 * other's; the process's own metrics (CPU, memory, event loop) belong to the process and are
 * collected once, into a registry shared by all of them.
 */
import { Channels } from 'botbuilder';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HTTP_ERRORS, type HttpErrorCode } from '../httpErrors.js';

/** What the bot reports about one finished turn. */
export interface TurnReport {
  /** As the activity said it; anything not on the Bot Framework list is counted as "other". */
  readonly channelId: string | undefined;
  /** The conversation's pseudonym: held in memory for ACTIVE_WINDOW_MS, never exported. */
  readonly conversationKey: string;
  readonly durationMs: number;
  readonly failed: boolean;
}

/** Numbers read when Prometheus scrapes, from registries that already hold them. */
export interface ScrapeSources {
  readonly desk?: () => { readonly waiting: number; readonly liveChats: number; readonly counsellorsOnline: number };
  readonly directLineConversations?: () => number;
}

export interface OperationsMetrics {
  turnEnded(turn: TurnReport): void;
  errorAnswered(code: HttpErrorCode): void;
  privacyWriteRefused(): void;
  /** Adds gauges read at scrape time; the composition root calls it once the parts exist. */
  readFrom(sources: ScrapeSources): void;
  /** The Prometheus text exposition of this instance and the process. */
  scrape(): Promise<{ readonly contentType: string; readonly body: string }>;
}

/** A conversation with a turn this recent counts as active. */
export const ACTIVE_WINDOW_MS = 15 * 60_000;
/** Beyond this many active conversations the oldest are forgotten (the gauge undercounts, memory stays bounded). */
const MAX_TRACKED_CONVERSATIONS = 100_000;
const OTHER_CHANNEL = 'other';
/** Bot Framework's own list of channel ids: the only values the `channel` label can take, besides "other". */
export const CHANNEL_LABELS: ReadonlySet<string> = new Set([...Object.values(Channels), OTHER_CHANNEL]);
/** Turn failures are counted with the HTTP error codes, under a code of their own. */
export const TURN_FAILED = 'TURN_FAILED';
export const ERROR_CODE_LABELS: ReadonlySet<string> = new Set([...Object.keys(HTTP_ERRORS), TURN_FAILED]);
/** Seconds: a menu reply takes milliseconds, a slow storage or connector seconds. */
const TURN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

let processRegistry: Registry | undefined;

export function createOperationsMetrics({ now = Date.now }: { now?: () => number } = {}): OperationsMetrics {
  const registry = new Registry();
  const turns = new Counter({
    name: 'waypoint_turns_total',
    help: 'Turns the bot has run (typing indicators excluded), by channel.',
    labelNames: ['channel'],
    registers: [registry],
  });
  const turnSeconds = new Histogram({
    name: 'waypoint_turn_duration_seconds',
    help: 'Time from an activity reaching the bot to its turn being done (queueing behind the same conversation included), by channel.',
    labelNames: ['channel'],
    buckets: TURN_BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'waypoint_errors_total',
    help: 'Error answers by code from the HTTP error catalogue, and turns that failed (TURN_FAILED).',
    labelNames: ['code'],
    registers: [registry],
  });
  // Every code from zero, so an alert on a rate sees the first error.
  for (const code of ERROR_CODE_LABELS) errors.inc({ code }, 0);
  const privacyRefusals = new Counter({
    name: 'waypoint_privacy_guard_rejections_total',
    help: "Storage writes the privacy guard refused because they held the turn's free text.",
    registers: [registry],
  });

  // Insertion order is last-turn order (a key is deleted and re-set on each turn), so expiry trims from the front.
  const lastTurn = new Map<string, { readonly channel: string; readonly at: number }>();
  function forgetInactive(): void {
    const cutoff = now() - ACTIVE_WINDOW_MS;
    for (const [key, { at }] of lastTurn) {
      if (at >= cutoff && lastTurn.size <= MAX_TRACKED_CONVERSATIONS) break;
      lastTurn.delete(key);
    }
  }
  new Gauge({
    name: 'waypoint_active_conversations',
    help: `Conversations with a turn in the last ${ACTIVE_WINDOW_MS / 60_000} minutes on this instance, by channel.`,
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      forgetInactive();
      const perChannel = new Map<string, number>();
      for (const { channel } of lastTurn.values()) perChannel.set(channel, (perChannel.get(channel) ?? 0) + 1);
      this.reset();
      for (const [channel, count] of perChannel) this.set({ channel }, count);
    },
  });

  const sources: ScrapeSources[] = [];
  const readGauge = (name: string, help: string, read: (from: ScrapeSources) => number | undefined) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const values = sources.map(read).filter((value): value is number => value !== undefined);
        if (values.length > 0) this.set(values.reduce((sum, value) => sum + value, 0));
      },
    });
  readGauge('waypoint_directline_conversations_open', 'Direct Line conversations open on this instance (not ended or idled out).', (from) =>
    from.directLineConversations?.(),
  );
  readGauge('waypoint_handover_queue_length', "People waiting for a counsellor at this instance's desk.", (from) => from.desk?.().waiting);
  readGauge('waypoint_handover_live_chats', "Live chats between a person and a counsellor at this instance's desk.", (from) => from.desk?.().liveChats);
  readGauge('waypoint_counsellors_online', "Counsellors with the console open (or reconnecting) at this instance's desk.", (from) => from.desk?.().counsellorsOnline);

  return {
    turnEnded({ channelId, conversationKey, durationMs, failed }) {
      const channel = channelLabel(channelId);
      turns.inc({ channel });
      turnSeconds.observe({ channel }, durationMs / 1000);
      if (failed) errors.inc({ code: TURN_FAILED });
      lastTurn.delete(conversationKey);
      lastTurn.set(conversationKey, { channel, at: now() });
      if (lastTurn.size > MAX_TRACKED_CONVERSATIONS) forgetInactive();
    },
    errorAnswered(code) {
      // The type says so; the check keeps a caller that casts from minting a label.
      if (ERROR_CODE_LABELS.has(code)) errors.inc({ code });
    },
    privacyWriteRefused() {
      privacyRefusals.inc();
    },
    readFrom(more) {
      sources.push(more);
    },
    async scrape() {
      const merged = Registry.merge([sharedProcessRegistry(), registry]);
      return { contentType: merged.contentType, body: await merged.metrics() };
    },
  };
}

function channelLabel(channelId: string | undefined): string {
  const lower = channelId?.toLowerCase() ?? '';
  return CHANNEL_LABELS.has(lower) ? lower : OTHER_CHANNEL;
}

/** Created on first scrape: collecting starts observers (GC, event loop delay) that live as long as the process. */
function sharedProcessRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}
