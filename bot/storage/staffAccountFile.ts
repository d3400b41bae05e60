/**
 * The one file that holds console staff accounts, `<DATA_DIR>/counsellors.json`, and the only code
 * that touches it. The `counsellor` CLI writes it while the server runs, so every operation reads
 * the file afresh instead of trusting a copy in memory. Writes are atomic (lowdb's steno writes a
 * temp file and renames it) and the file is readable by its owner only: it holds password hashes.
 */
import { chmod, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { z } from 'zod';
import type { StaffAccount } from '../handover/staffAccounts.js';

/** An account as stored: what everyone may see, plus the self-describing password hash. */
export interface StoredStaffAccount extends StaffAccount {
  passwordHash: string;
}

export interface StaffAccountFile {
  /** Every account in the file, in the order they were added; none when the file does not exist yet. */
  read(): Promise<StoredStaffAccount[]>;
  /**
   * Reads the file, lets `change` edit the list in place and writes it back. Operations of this
   * process run one at a time, so two changes never overwrite each other; if `change` throws,
   * nothing is written.
   */
  update<T>(change: (accounts: StoredStaffAccount[]) => T): Promise<T>;
}

export const STAFF_ACCOUNT_FILE_NAME = 'counsellors.json';
const FILE_MODE = 0o600;

const fileSchema = z.object({
  accounts: z.array(
    z.object({
      name: z.string().min(1),
      role: z.enum(['counsellor', 'supervisor']),
      disabled: z.boolean(),
      createdAt: z.string(),
      passwordHash: z.string().min(1),
    }),
  ),
});
type FileData = z.infer<typeof fileSchema>;

export function openStaffAccountFile(dataDir: string): StaffAccountFile {
  const file = path.join(dataDir, STAFF_ACCOUNT_FILE_NAME);
  // steno's temp file; it is renamed over the real file, so its mode becomes the file's mode.
  const tempFile = path.join(dataDir, `.${STAFF_ACCOUNT_FILE_NAME}.tmp`);
  let queue: Promise<unknown> = Promise.resolve();

  function serialised<T>(operation: () => Promise<T>): Promise<T> {
    const result = queue.then(operation);
    queue = result.catch(() => undefined);
    return result;
  }

  // Read through lowdb so the file is parsed exactly as lowdb writes it.
  async function readRaw(): Promise<unknown> {
    const db = new Low<unknown>(new JSONFile<unknown>(file), null);
    try {
      await db.read();
    } catch (error) {
      if (error instanceof SyntaxError) throw invalidFile(file, 'it is not valid JSON');
      throw error;
    }
    return db.data;
  }

  function parse(data: unknown): FileData {
    // A missing file is a fresh install; a broken one must never be mistaken for "no accounts",
    // or the next `add` would silently replace every account in it.
    if (data === null) return { accounts: [] };
    const parsed = fileSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw invalidFile(file, issue ? `${issue.path.join('.') || 'top level'}: ${issue.message}` : undefined);
    }
    return parsed.data;
  }

  async function write(data: FileData): Promise<void> {
    await mkdir(dataDir, { recursive: true });
    // Create (or tighten) the temp file with owner-only permissions before steno writes into it,
    // so the hashes are never readable by others, not even between the write and the rename.
    const handle = await open(tempFile, 'a', FILE_MODE);
    await handle.close();
    await chmod(tempFile, FILE_MODE);
    await new Low<FileData>(new JSONFile<FileData>(file), data).write();
  }

  return {
    read: () => serialised(async () => parse(await readRaw()).accounts),
    update: (change) =>
      serialised(async () => {
        const data = parse(await readRaw());
        const result = change(data.accounts);
        await write(data);
        return result;
      }),
  };
}

function invalidFile(file: string, reason?: string): Error & { code: string } {
  const message = `The staff account file ${file} cannot be used${reason ? `: ${reason}` : ''}. Fix or restore it.`;
  return Object.assign(new Error(message), { code: 'STAFF_FILE_INVALID' });
}
