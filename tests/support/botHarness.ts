/**
 * A real Waypoint runtime for tests: real content, a real lowdb store in a temp dir, the privacy
 * guard in 'throw' mode and every log line captured, talking through the in-memory channel.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Activity } from 'botbuilder';
import { loadConfig, type Config } from '../../bot/config.js';
import { createLogger } from '../../bot/privacy/logger.js';
import { createRuntime, type Runtime } from '../../bot/runtime.js';
import { MemoryAdapter, type MemoryIdentity } from '../../bot/channels/memory/memoryAdapter.js';

export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export interface BotHarness {
  readonly dataDir: string;
  readonly config: Config;
  runtime: Runtime;
  /** Every log line written so far, as raw text. */
  logText(): string;
  /** Parsed log lines. */
  logLines(): Record<string, unknown>[];
  /** Opens a chat as a person; the same userId on a new conversation is a returning person. */
  person(identity?: Partial<MemoryIdentity>): MemoryAdapter;
  /** Closes the runtime and starts a new one on the same data, as a server restart does. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function createBotHarness(env: Record<string, string> = {}): Promise<BotHarness> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-test-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    CONTENT_DIR: path.join(REPO_ROOT, 'resources/content'),
    // RISK_DIR in the environment runs the suite against another lexicon (e.g. one being edited).
    RISK_DIR: process.env.RISK_DIR ?? path.join(REPO_ROOT, 'resources/risk'),
    HELPLINES_FILE: path.join(REPO_ROOT, 'resources/helplines.yaml'),
    HANDOVER_FILE: path.join(REPO_ROOT, 'tests/fixtures/handover/always-open.yaml'),
    PRIVACY_GUARD: 'throw',
    LOG_LEVEL: 'debug',
    ...env,
  });
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const log = createLogger({ level: config.logLevel, destination: sink });
  let runtime = await createRuntime(config, log);
  let closed = false;
  const harness: BotHarness = {
    dataDir,
    config,
    runtime,
    logText: () => chunks.join(''),
    logLines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    person: (identity = {}) => new MemoryAdapter({ run: (context) => harness.runtime.bot.run(context) }, { userId: 'person-1', ...identity }),
    async restart() {
      await harness.runtime.close();
      runtime = await createRuntime(config, log);
      harness.runtime = runtime;
    },
    async close() {
      if (closed) return;
      closed = true;
      await harness.runtime.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** The text of each message reply, in order. */
export function texts(replies: Activity[]): string[] {
  return replies.filter((r) => r.type === 'message' && r.text).map((r) => r.text!);
}

/** The button labels offered by the last reply that offers any. */
export function buttons(replies: Activity[]): string[] {
  const withButtons = replies.filter((r) => (r.suggestedActions?.actions ?? []).length > 0);
  return (withButtons.at(-1)?.suggestedActions?.actions ?? []).map((a) => String(a.title));
}
