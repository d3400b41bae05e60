/**
 * Console staff accounts: who may sign in to /console, with which role, and the check of their
 * password. Names are the first names help-seekers see ("Sam"); passwords are kept only as scrypt
 * hashes in a self-describing string, so the cost can be raised later without breaking old ones.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { openStaffAccountFile, type StoredStaffAccount } from '../storage/staffAccountFile.js';

export type StaffRole = 'counsellor' | 'supervisor';

export interface StaffAccount {
  name: string;
  role: StaffRole;
  disabled: boolean;
  /** ISO timestamp. */
  createdAt: string;
}

export interface StaffAccounts {
  /** Throws StaffAccountError INVALID_NAME, WEAK_PASSWORD or DUPLICATE_NAME. */
  add(name: string, password: string, role: StaffRole): Promise<StaffAccount>;
  /** Every account, in the order they were added. */
  list(): Promise<StaffAccount[]>;
  /** Throws StaffAccountError UNKNOWN_NAME. */
  disable(name: string): Promise<void>;
  /** Throws StaffAccountError UNKNOWN_NAME. */
  enable(name: string): Promise<void>;
  /** The account when the name exists, is active and the password is right; otherwise undefined. */
  verify(name: string, password: string): Promise<StaffAccount | undefined>;
}

export type StaffAccountErrorCode = 'INVALID_NAME' | 'WEAK_PASSWORD' | 'DUPLICATE_NAME' | 'UNKNOWN_NAME';

/** A refusal a person can act on; the message never quotes a password. */
export class StaffAccountError extends Error {
  constructor(
    readonly code: StaffAccountErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StaffAccountError';
  }
}

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_NAME_LENGTH = 40;

const DEFAULT_COST = 2 ** 15;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 64;
// Bounds for parameters read back from the file, so a hand-edited hash cannot make a sign-in hang
// or claim gigabytes of memory.
const MIN_COST = 2 ** 10;
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

// Letters and combining marks of any script (so names in Devanagari or with decomposed accents
// work), digits, space, hyphen and straight or curly apostrophe; at least one letter.
const NAME_PATTERN = /^[\p{L}\p{M}\p{Nd} '’-]+$/u;
const HAS_LETTER = /\p{L}/u;

export function openStaffAccounts(dataDir: string, options: { scryptCost?: number } = {}): StaffAccounts {
  const cost = options.scryptCost ?? DEFAULT_COST;
  // The same bounds as for hashes read back, or new accounts could never sign in.
  if (!validScryptParameters(cost, BLOCK_SIZE, PARALLELISM)) throw new RangeError('scryptCost must be a power of two from 2^10 to 2^18');
  const file = openStaffAccountFile(dataDir);
  // Checked for unknown names so a sign-in takes as long whether or not the name exists; its
  // result is ignored, so a fixed salt and key are fine.
  const dummyHash = ['scrypt', cost, BLOCK_SIZE, PARALLELISM, Buffer.alloc(SALT_BYTES).toString('base64'), Buffer.alloc(KEY_BYTES).toString('base64')].join('$');

  async function add(name: string, password: string, role: StaffRole): Promise<StaffAccount> {
    const cleanName = validName(name);
    checkPassword(password);
    if (role !== 'counsellor' && role !== 'supervisor') throw new TypeError('role must be counsellor or supervisor');
    // Hashing first keeps the file's queue free during the slow part.
    const passwordHash = await hashPassword(password, cost);
    return file.update((accounts) => {
      if (find(accounts, cleanName)) {
        throw new StaffAccountError('DUPLICATE_NAME', `There is already an account called ${cleanName} (names are compared ignoring case).`);
      }
      const account: StoredStaffAccount = { name: cleanName, role, disabled: false, createdAt: new Date().toISOString(), passwordHash };
      accounts.push(account);
      return publicView(account);
    });
  }

  async function setDisabled(name: string, disabled: boolean): Promise<void> {
    await file.update((accounts) => {
      const account = find(accounts, name);
      if (!account) throw new StaffAccountError('UNKNOWN_NAME', `There is no account called ${cleanForMessage(name)}.`);
      account.disabled = disabled;
    });
  }

  async function verify(name: string, password: string): Promise<StaffAccount | undefined> {
    const account = typeof name === 'string' ? find(await file.read(), name) : undefined;
    const stored = account?.passwordHash ?? dummyHash;
    // Disabled accounts are checked too, so their answer takes as long as anyone else's.
    const matches = await passwordMatches(typeof password === 'string' ? password : '', stored);
    return account && matches && !account.disabled ? publicView(account) : undefined;
  }

  return {
    add,
    list: async () => (await file.read()).map(publicView),
    disable: (name) => setDisabled(name, true),
    enable: (name) => setDisabled(name, false),
    verify,
  };
}

/** The comparison key for names: case-insensitive and independent of how accents were typed. */
export function nameKey(name: string): string {
  return name.trim().normalize('NFC').toLowerCase();
}

function find(accounts: StoredStaffAccount[], name: string): StoredStaffAccount | undefined {
  const key = nameKey(name);
  return accounts.find((account) => nameKey(account.name) === key);
}

function validName(name: string): string {
  const clean = typeof name === 'string' ? name.trim().normalize('NFC') : '';
  const length = [...clean].length;
  if (length < 1 || length > MAX_NAME_LENGTH || !NAME_PATTERN.test(clean) || !HAS_LETTER.test(clean)) {
    throw new StaffAccountError(
      'INVALID_NAME',
      `A name must be 1 to ${MAX_NAME_LENGTH} characters: letters, digits, spaces, hyphens or apostrophes, with at least one letter.`,
    );
  }
  return clean;
}

// Names are echoed in CLI messages only; cut and strip control characters so a pasted mistake stays readable.
function cleanForMessage(name: string): string {
  return String(name).replace(/\p{Cc}/gu, '').trim().slice(0, MAX_NAME_LENGTH + 10);
}

function checkPassword(password: string): void {
  if (typeof password !== 'string' || [...password.normalize('NFC')].length < MIN_PASSWORD_LENGTH) {
    throw new StaffAccountError('WEAK_PASSWORD', `A password must be at least ${MIN_PASSWORD_LENGTH} characters long.`);
  }
}

function publicView(account: StoredStaffAccount): StaffAccount {
  return { name: account.name, role: account.role, disabled: account.disabled, createdAt: account.createdAt };
}

/** `scrypt$N$r$p$saltB64$hashB64`. */
async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(password, salt, KEY_BYTES, { N: cost, r: BLOCK_SIZE, p: PARALLELISM });
  return ['scrypt', cost, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  const [scheme, n, r, p, saltB64, hashB64] = parts;
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  // A damaged hash locks that one account out rather than breaking sign-in for everyone.
  if (parts.length !== 6 || scheme !== 'scrypt' || !validScryptParameters(N, R, P) || !saltB64 || !hashB64) return false;
  const expected = Buffer.from(hashB64, 'base64');
  if (expected.length === 0) return false;
  const actual = await deriveKey(password, Buffer.from(saltB64, 'base64'), expected.length, { N, r: R, p: P });
  return timingSafeEqual(actual, expected);
}

function validScryptParameters(N: number, r: number, p: number): boolean {
  return (
    Number.isInteger(N) && N >= MIN_COST && (N & (N - 1)) === 0 &&
    Number.isInteger(r) && r >= 1 && 128 * N * r <= MAX_SCRYPT_MEMORY &&
    Number.isInteger(p) && p >= 1 && p <= 16
  );
}

function deriveKey(password: string, salt: Buffer, length: number, options: { N: number; r: number; p: number }): Promise<Buffer> {
  // scrypt needs about 128·N·r bytes; Node's default 32 MiB cap is exactly too small for N = 2^15.
  const scryptOptions: ScryptOptions = { ...options, maxmem: 256 * options.N * options.r };
  // NFC, so the same password typed on another keyboard or OS still matches.
  const normalised = password.normalize('NFC');
  return new Promise((resolve, reject) => {
    scrypt(normalised, salt, length, scryptOptions, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
