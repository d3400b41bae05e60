/**
 * The checks and copies every storage backend applies to what botbuilder hands it, so lowdb
 * and Redis accept and refuse exactly the same items with the same codes.
 */
import { createHash } from 'node:crypto';
import type { StoreItem } from 'botbuilder';
import { StorageError } from './storageError.js';

/** Where a key is stored: a hash, so no key text reaches a file name or a Redis key name. */
export function hashedKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function assertKeys(keys: string[]): void {
  if (!Array.isArray(keys)) throw new StorageError('STORAGE_INVALID_KEY', 'Storage: keys are required.');
  keys.forEach(assertKey);
}

// Messages never quote a key: keys are pseudonymous, but error text ends up in logs.
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new StorageError('STORAGE_INVALID_KEY', 'Storage: a key must be a non-empty string.');
  }
}

export function eTagOf(item: StoreItem): string | undefined {
  return isPlainObject(item) && typeof item.eTag === 'string' ? item.eTag : undefined;
}

/** A detached JSON copy of the item without its eTag, so later changes by the caller do not leak in. */
export function toJsonValue(item: unknown): Record<string, unknown> {
  let copy: unknown;
  try {
    const text = JSON.stringify(item);
    copy = text === undefined ? undefined : JSON.parse(text);
  } catch {
    copy = undefined;
  }
  if (!isPlainObject(copy)) {
    throw new StorageError('STORAGE_NOT_JSON', 'Storage: a stored item must be a JSON-serialisable object.');
  }
  delete copy.eTag;
  return copy;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
