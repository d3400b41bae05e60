/** A real start-up cache in `dir` that counts its hits and writes (of entries called `only`, if given). */
import { openStartupCache, type StartupCache } from '../../bot/cache/startupCache.js';

export interface CountingCache {
  readonly cache: StartupCache;
  hits(): number;
  writes(): number;
}

export function countingCache(dir: string, only?: string): CountingCache {
  const inner = openStartupCache(dir);
  const counted = (name: string) => only === undefined || name === only;
  let hits = 0;
  let writes = 0;
  return {
    cache: {
      read: async (name, key) => {
        const bytes = await inner.read(name, key);
        if (bytes && counted(name)) hits++;
        return bytes;
      },
      write: async (name, key, bytes) => {
        if (counted(name)) writes++;
        await inner.write(name, key, bytes);
      },
    },
    hits: () => hits,
    writes: () => writes,
  };
}
