/**
 * A store file that exists but cannot be read as what it should hold. It still holds someone's
 * progress (or a lasting count), so the store never treats it as absent and never writes over
 * it: reads and writes of its key fail, and start-up refuses until an operator decides.
 */

/** Why a file was refused. */
export type CorruptFileProblem = 'not JSON' | 'not a store record' | 'holds another key';

export interface CorruptFile {
  /** Relative to DATA_DIR, `/`-separated, e.g. `state/3f/3f9a…e1.json`: a hash, never a key. */
  readonly file: string;
  readonly problem: CorruptFileProblem;
}

/** How many files a message lists; the rest are counted. The full list is in `files`. */
const LISTED_FILES = 10;

export class StorageCorruptError extends Error {
  /** File names are hashes and problems are fixed text: the message may be logged. */
  static readonly safeMessage = true;
  override readonly name = 'StorageCorruptError';
  readonly code = 'STORAGE_CORRUPT';
  readonly files: readonly CorruptFile[];

  constructor(files: readonly CorruptFile[]) {
    const listed = files.slice(0, LISTED_FILES).map(({ file, problem }) => `  ${file}: ${problem}`);
    if (files.length > LISTED_FILES) listed.push(`  … and ${files.length - LISTED_FILES} more`);
    super(`Storage: ${files.length} unreadable store file(s) under DATA_DIR:\n${listed.join('\n')}`);
    this.files = Object.freeze([...files]);
  }
}

export function isStorageCorrupt(error: unknown): error is StorageCorruptError {
  return error instanceof StorageCorruptError;
}

/**
 * What an operator reads when start-up stops on this error: every file, why, and what they can
 * do about it. Names are hashes under DATA_DIR, so it holds nothing about anyone.
 */
export function corruptStoreReport(error: StorageCorruptError, dataDir: string): string {
  return [
    `Waypoint cannot start: ${error.files.length} stored file(s) cannot be read, and starting would risk losing what they hold.`,
    `In DATA_DIR (${dataDir}):`,
    ...error.files.map(({ file, problem }) => `  ${file}: ${problem}`),
    'Nothing has been changed or deleted. Restore these files from a backup, or move them out of DATA_DIR',
    '(keep a copy) to start without them: whoever they belong to then starts afresh.',
  ].join('\n');
}
