/**
 * A real redis-server for tests: its own process on a free loopback port, persistence off, in a
 * temporary folder, stopped by the test. Where no redis-server binary is installed the Redis
 * tests are skipped with one line saying how to install it; CI (.ci/run) installs it and sets
 * WAYPOINT_REQUIRE_REDIS, so there a missing binary fails the run.
 */
import { describe } from '@jest/globals';
import { REDIS_SERVER, haveRedis } from './redisProcess.js';

export { REDIS_SERVER, haveRedis, startRedisServer, type RedisServer } from './redisProcess.js';

if (!haveRedis && process.env.WAYPOINT_REQUIRE_REDIS) throw new Error(`${REDIS_SERVER} is missing: apt-get install -y redis-server`);

let toldSkip = false;
/** `describe` when redis-server is installed; otherwise `describe.skip` plus one line saying why. */
export function describeWithRedis(name: string, body: () => void): void {
  if (haveRedis) return describe(name, body);
  if (!toldSkip) process.stdout.write('Redis tests skipped: redis-server not found (apt-get install -y redis-server).\n');
  toldSkip = true;
  describe.skip(name, body);
}
