/**
 * Pseudonymous ids for storage keys. A raw channel id can be an identity in itself (a Telegram
 * chat id is tied to a phone number), so storage only ever sees an HMAC of it under a secret
 * that stays on the server: stable for the same person, useless to anyone who copies the data.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PseudonymSecretError } from './errors.js';

/** 32 characters is 256 bits of hex: guessing the secret must be harder than guessing the ids. */
const MIN_SECRET_CHARS = 32;
const SECRET_FILE = 'secret.key';
/** 32 base64url characters are 192 bits of the HMAC: collisions are not a practical concern. */
const PSEUDONYM_CHARS = 32;

export type PseudonymKind = 'user' | 'conversation';
export type Pseudonymizer = (kind: PseudonymKind, channelId: string, rawId: string) => string;

/** Makes the function that turns a channel's raw user or conversation id into a storage-safe id. */
export function createPseudonymizer(secret: string): Pseudonymizer {
  assertStrongSecret(secret);
  return (kind, channelId, rawId) => {
    // The NUL separator keeps ("ab", "c") and ("a", "bc") apart; channel ids are our own constants.
    const digest = createHmac('sha256', secret).update(`${channelId}\u0000${rawId}`).digest('base64url');
    return `${kind}/${digest.slice(0, PSEUDONYM_CHARS)}`;
  };
}

/**
 * The configured secret, or the one kept in `<dataDir>/secret.key`, created on first start.
 * Keeping it beside the data means a restart keeps everyone's progress; losing it orphans the
 * stored state (which retention then deletes), it never exposes anyone.
 */
export async function loadOrCreateSecret(dataDir: string, configured?: string): Promise<string> {
  if (configured !== undefined) {
    assertStrongSecret(configured);
    return configured;
  }

  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, SECRET_FILE);
  const existing = await readSecretFile(file);
  if (existing !== undefined) return existing;

  const secret = randomBytes(32).toString('hex');
  try {
    // 'wx' fails if another process created the file meanwhile; then we use theirs.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const theirs = await readSecretFile(file);
    if (theirs === undefined) throw error;
    return theirs;
  }
}

async function readSecretFile(file: string): Promise<string | undefined> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const secret = content.trim();
  if (secret.length < MIN_SECRET_CHARS) {
    throw new PseudonymSecretError(
      'PRIVACY_SECRET_FILE_INVALID',
      `${file} holds fewer than ${MIN_SECRET_CHARS} characters; restore it from backup, or delete it to start over (stored progress will no longer be found)`,
    );
  }
  return secret;
}

function assertStrongSecret(secret: string): void {
  if (secret.length < MIN_SECRET_CHARS) {
    throw new PseudonymSecretError(
      'PRIVACY_SECRET_TOO_SHORT',
      `The pseudonym secret must be at least ${MIN_SECRET_CHARS} characters (for example: openssl rand -hex 32)`,
    );
  }
}

/**
 * A key for another purpose (e.g. signing Direct Line tokens) derived from the same secret, so
 * instances that share the secret agree on it and nothing new needs configuring.
 */
export function deriveKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`waypoint key\u0000${purpose}`).digest();
}
