/**
 * Settings for a whole Waypoint under test: a free loopback port, the test's own data folder,
 * the real content, counsellors always on duty, and a privacy guard that throws instead of
 * dropping, so a leak fails the test. `env` adds or overrides settings.
 */
import path from 'node:path';
import { loadConfig, type Config } from '../../bot/config.js';
import { REPO_ROOT } from './botHarness.js';

export const ALWAYS_OPEN = path.join(REPO_ROOT, 'tests/fixtures/handover/always-open.yaml');

export function testConfig(dataDir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    CONTENT_DIR: path.join(REPO_ROOT, 'resources/content'),
    HANDOVER_FILE: ALWAYS_OPEN,
    PRIVACY_GUARD: 'throw',
    ...env,
  });
}
