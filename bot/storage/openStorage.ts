/**
 * Picks the backend from the settings: Redis when REDIS_URL is set (several instances share
 * it), otherwise the embedded lowdb store in DATA_DIR (one instance). The privacy guard goes
 * around what this returns.
 */
import type { Config } from '../config.js';
import type { Logger } from '../privacy/logger.js';
import { keepLastKnownState } from './lastKnownState.js';
import { createLowdbStorage } from './lowdbStorage.js';
import type { WaypointStorage } from './waypointStorage.js';

export async function openStorage(config: Config, log: Logger): Promise<WaypointStorage> {
  const { url, keyPrefix } = config.redis;
  if (!url) return createLowdbStorage({ dir: config.dataDir });
  log.info({ event: 'storage.opened', backend: 'redis' });
  // Imported only here: ioredis is start-up time an instance on lowdb does not need to spend.
  const { createRedisStorage } = await import('./redisStorage.js');
  // Only a shared store can be out of reach while this process runs on; see lastKnownState.ts.
  return keepLastKnownState(createRedisStorage({ url, prefix: keyPrefix, retentionDays: config.retentionDays, log }));
}
