/**
 * Errors a storage backend raises. The code is what handlers act on; the message is fixed text
 * that never quotes a key, a value or a server's own error text (which can echo a command and
 * its arguments), so it may be logged.
 */
export type StorageErrorCode =
  | 'STORAGE_UNAVAILABLE'
  | 'STORAGE_CLOSED'
  | 'STORAGE_ETAG_CONFLICT'
  | 'STORAGE_INVALID_KEY'
  | 'STORAGE_INVALID_CHANGES'
  | 'STORAGE_INVALID_CUTOFF'
  | 'STORAGE_NOT_JSON';

export class StorageError extends Error {
  static readonly safeMessage = true;

  constructor(
    readonly code: StorageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}

/**
 * True when the store could not be reached (Redis down or stalled): the turn cannot load or
 * save state, but nothing is wrong with the conversation itself, and it will work again later.
 */
export function isStorageUnavailable(error: unknown): boolean {
  return (error as { code?: unknown } | null | undefined)?.code === 'STORAGE_UNAVAILABLE';
}
