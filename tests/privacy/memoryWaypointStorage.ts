/** botbuilder's MemoryStorage with the extra methods WaypointStorage needs, for tests. */
import { MemoryStorage } from 'botbuilder';
import type { WaypointStorage } from '../../bot/storage/waypointStorage.js';

export function memoryWaypointStorage(): WaypointStorage & { memory: MemoryStorage } {
  const memory = new MemoryStorage();
  return {
    memory,
    read: (keys) => memory.read(keys),
    write: (changes) => memory.write(changes),
    delete: (keys) => memory.delete(keys),
    deleteIdleSince: async () => 0,
    ping: async () => undefined,
    close: async () => undefined,
  };
}
