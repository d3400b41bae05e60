/**
 * Everything a Redis holds, as one text to search: every key name (found with SCAN) and every
 * value whatever its type. For canary tests: what a person typed must be in none of it.
 */
import { connectRedis } from '../../bot/redis/redisConnection.js';
import { captureLog } from './capturedLog.js';

export async function everythingInRedis(url: string): Promise<{ keys: string[]; text: string }> {
  const client = connectRedis(url, { log: captureLog().log, name: 'test-scan' });
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const parts = [...keys];
    for (const key of keys) {
      const type = await client.type(key);
      if (type === 'string') parts.push((await client.get(key)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await client.lrange(key, '0', '-1')));
      else if (type === 'set') parts.push(JSON.stringify(await client.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await client.zrange(key, '0', '-1', 'WITHSCORES')));
      else if (type === 'stream') parts.push(JSON.stringify(await client.xrange(key, '-', '+')));
      // 'none': it expired between SCAN and now.
      else if (type !== 'none') throw new Error(`a Redis key of type ${type}: teach everythingInRedis to read it`);
    }
    return { keys, text: parts.join('\n') };
  } finally {
    client.disconnect();
  }
}
