/**
 * While the shared store is unreachable, a person part-way through a module should still get
 * their next step. This keeps, in this process's memory only, the last state each recent key
 * was read or written with; when a read fails because the store is unavailable and every key
 * asked for is known here, the read is answered from memory. Writes still fail (the turn says
 * progress was not saved), but what the turn meant to save is remembered, so the following
 * turn carries on from it instead of repeating a step.
 *
 * Only pseudonymous structured state passes through here, after the privacy guard: wrap the
 * backend with this, and this with the guard. Aggregate counts are never kept.
 */
import type { StoreItems } from 'botbuilder';
import { isStorageUnavailable } from './storageError.js';
import { LASTING_PREFIX, type WaypointStorage } from './waypointStorage.js';

export interface LastKnownStateOptions {
  /** Most keys remembered; the least recently used are forgotten first. */
  readonly maxItems?: number;
  /** A remembered state older than this is not used: the person has likely moved on or left. */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

interface Remembered {
  /** JSON of the item without its eTag; null: known not to exist. */
  readonly json: string | null;
  readonly at: number;
}

const DEFAULT_MAX_ITEMS = 5000;
const DEFAULT_MAX_AGE_MS = 30 * 60 * 1000;

export function keepLastKnownState(inner: WaypointStorage, options: LastKnownStateOptions = {}): WaypointStorage {
  const { maxItems = DEFAULT_MAX_ITEMS, maxAgeMs = DEFAULT_MAX_AGE_MS, now = Date.now } = options;
  const remembered = new Map<string, Remembered>();

  function remember(key: string, item: unknown): void {
    if (key.startsWith(LASTING_PREFIX)) return;
    remembered.delete(key);
    let json: string | null;
    try {
      json = item === undefined ? null : withoutETag(item);
    } catch {
      return; // not JSON: the store refuses it too, so there is nothing to remember
    }
    remembered.set(key, { json, at: now() });
    if (remembered.size > maxItems) remembered.delete(remembered.keys().next().value as string);
  }

  /** The remembered items, as fresh copies; undefined unless every key is known and recent. */
  function recall(keys: string[]): StoreItems | undefined {
    const items: StoreItems = {};
    for (const key of keys) {
      const entry = remembered.get(key);
      if (!entry || now() - entry.at > maxAgeMs) return undefined;
      // No eTag: if the store is back by the time this turn saves, its write goes through.
      if (entry.json !== null) items[key] = JSON.parse(entry.json) as StoreItems[string];
    }
    return items;
  }

  return {
    async read(keys) {
      try {
        const items = await inner.read(keys);
        for (const key of keys) remember(key, items[key]);
        return items;
      } catch (error) {
        const known = isStorageUnavailable(error) ? recall(keys) : undefined;
        if (known) return known;
        throw error;
      }
    },
    async write(changes) {
      try {
        await inner.write(changes);
      } catch (error) {
        if (isStorageUnavailable(error)) for (const [key, item] of Object.entries(changes ?? {})) remember(key, item);
        throw error;
      }
      for (const [key, item] of Object.entries(changes)) remember(key, item);
    },
    async delete(keys) {
      // Forgotten here even when the store cannot be reached: a deleted person is never served from memory.
      for (const key of keys ?? []) remembered.delete(key);
      await inner.delete(keys);
    },
    deleteIdleSince: (cutoff) => inner.deleteIdleSince(cutoff),
    ping: () => inner.ping(),
    async close() {
      remembered.clear();
      await inner.close();
    },
  };
}

function withoutETag(item: unknown): string | null {
  const json = JSON.stringify(item);
  if (json === undefined) return null;
  const copy = JSON.parse(json) as unknown;
  if (typeof copy === 'object' && copy !== null && !Array.isArray(copy)) delete (copy as { eTag?: unknown }).eTag;
  return JSON.stringify(copy);
}
