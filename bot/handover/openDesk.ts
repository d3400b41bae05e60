/**
 * Which front desk this instance runs: with Redis (REDIS_URL, and so an instance bus) the desk
 * shared by every instance, so a person and a counsellor may be connected to different ones;
 * without it the desk of one instance, in memory. An external contact centre
 * (HANDOVER_MODE=events) keeps its own queue, so there the local desk only answers opening hours.
 */
import type { Config } from '../config.js';
import type { InstanceBus } from '../redis/instanceBus.js';
import type { Desk } from './desk.js';
import { HandoverDesk, type HandoverDeskOptions } from './handoverDesk.js';

export async function openDesk(config: Pick<Config, 'redis' | 'handoverMode'>, bus: InstanceBus | undefined, options: HandoverDeskOptions): Promise<Desk> {
  if (bus && config.handoverMode === 'console') {
    // Imported only here: an instance without Redis need not spend start-up time on the shared desk.
    const { RedisDesk } = await import('./redisDesk.js');
    return new RedisDesk({ ...options, bus, keyPrefix: config.redis.keyPrefix });
  }
  return new HandoverDesk(options);
}
