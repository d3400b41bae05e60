import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openStaffAccounts, StaffAccountError, type StaffAccounts } from '../../bot/handover/staffAccounts.js';

// The lowest cost the accounts accept; the default (2^15) is exercised by the CLI test.
const FAST = { scryptCost: 2 ** 10 };
const PASSWORD = 'correct horse battery';

let dataDir: string;
let accounts: StaffAccounts;
const accountsFile = () => path.join(dataDir, 'counsellors.json');

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-staff-'));
  accounts = openStaffAccounts(dataDir, FAST);
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<StaffAccountError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StaffAccountError);
  return error as StaffAccountError;
}

describe('staff accounts', () => {
  it('adds, lists, disables and enables accounts, in the order they were added', async () => {
    expect(await accounts.list()).toEqual([]);
    const sam = await accounts.add('  Sam ', PASSWORD, 'counsellor');
    expect(sam).toEqual({ name: 'Sam', role: 'counsellor', disabled: false, createdAt: expect.any(String) });
    expect(Number.isNaN(Date.parse(sam.createdAt))).toBe(false);
    await accounts.add('Priya', PASSWORD, 'supervisor');

    await accounts.disable('SAM');
    expect((await accounts.list()).map((a) => [a.name, a.role, a.disabled])).toEqual([
      ['Sam', 'counsellor', true],
      ['Priya', 'supervisor', false],
    ]);
    await accounts.enable('sam');
    expect((await accounts.list())[0]!.disabled).toBe(false);
    expect((await refusal(accounts.disable('Nobody'))).code).toBe('UNKNOWN_NAME');
    expect((await refusal(accounts.enable('Nobody'))).code).toBe('UNKNOWN_NAME');
  });

  it('refuses a name that differs from an existing one only in case', async () => {
    await accounts.add('Sam', PASSWORD, 'counsellor');
    const error = await refusal(accounts.add('sAM', PASSWORD, 'supervisor'));
    expect(error.code).toBe('DUPLICATE_NAME');
    expect(await accounts.list()).toHaveLength(1);
  });

  it.each([[''], ['   '], ['a'.repeat(41)], ['Sam!'], ['<b>Sam</b>'], ['Sam\nJo'], ['1234'], ['Sam_Jo']])(
    'refuses the name %j',
    async (name) => {
      expect((await refusal(accounts.add(name, PASSWORD, 'counsellor'))).code).toBe('INVALID_NAME');
    },
  );

  it('accepts names in any script, with digits, hyphens, apostrophes and spaces, up to 40 characters', async () => {
    for (const name of ['Zoë', 'Анна', '陳', "O'Neil", 'Mary-Jane', 'Jo 2', 'a'.repeat(40)]) {
      expect((await accounts.add(name, PASSWORD, 'counsellor')).name).toBe(name);
    }
  });

  it('refuses a password shorter than 12 characters', async () => {
    const error = await refusal(accounts.add('Sam', 'elevenchars', 'counsellor'));
    expect(error.code).toBe('WEAK_PASSWORD');
    expect(error.message).not.toContain('elevenchars');
    await expect(accounts.add('Sam', 'twelve chars', 'counsellor')).resolves.toMatchObject({ name: 'Sam' });
  });

  it('stores only a self-describing scrypt hash, in a file only its owner can read', async () => {
    await accounts.add('Sam', PASSWORD, 'counsellor');
    const text = await readFile(accountsFile(), 'utf8');
    expect(text).not.toContain(PASSWORD);
    const stored = (JSON.parse(text) as { accounts: Array<Record<string, unknown>> }).accounts;
    expect(stored[0]!.passwordHash).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{86}==$/);
    expect((await stat(accountsFile())).mode & 0o777).toBe(0o600);
    expect(await readdir(dataDir)).toEqual(['counsellors.json']);
    // Hashes are salted: the same password never gives the same string twice.
    await accounts.add('Jo', PASSWORD, 'counsellor');
    const [first, second] = (JSON.parse(await readFile(accountsFile(), 'utf8')) as { accounts: Array<{ passwordHash: string }> }).accounts;
    expect(first!.passwordHash).not.toBe(second!.passwordHash);
  });

  it('verifies the right password, case-insensitively by name, and nothing else', async () => {
    await accounts.add('Sam', PASSWORD, 'supervisor');
    await accounts.add('Jo', PASSWORD, 'counsellor');
    expect(await accounts.verify('sam', PASSWORD)).toMatchObject({ name: 'Sam', role: 'supervisor' });
    expect(await accounts.verify('Sam', `${PASSWORD} `)).toBeUndefined();
    expect(await accounts.verify('Nobody', PASSWORD)).toBeUndefined();
    expect(await accounts.verify('', PASSWORD)).toBeUndefined();
    await accounts.disable('Jo');
    expect(await accounts.verify('Jo', PASSWORD)).toBeUndefined();
    await accounts.enable('Jo');
    expect(await accounts.verify('Jo', PASSWORD)).toMatchObject({ name: 'Jo' });
  });

  it('sees changes another process made to the file, and verifies hashes of another cost', async () => {
    const other = openStaffAccounts(dataDir, { scryptCost: 2 ** 11 });
    await other.add('Sam', PASSWORD, 'counsellor');
    expect(await accounts.verify('Sam', PASSWORD)).toMatchObject({ name: 'Sam' });
    await other.disable('Sam');
    expect(await accounts.verify('Sam', PASSWORD)).toBeUndefined();
  });

  it('refuses to touch a damaged file instead of treating it as empty', async () => {
    await writeFile(accountsFile(), '{"accounts": [{"name": "Sam"', { mode: 0o600 });
    await expect(accounts.add('Jo', PASSWORD, 'counsellor')).rejects.toMatchObject({ code: 'STAFF_FILE_INVALID' });
    await writeFile(accountsFile(), '{"accounts": [{"name": "Sam"}]}', { mode: 0o600 });
    await expect(accounts.list()).rejects.toMatchObject({ code: 'STAFF_FILE_INVALID' });
    expect(await readFile(accountsFile(), 'utf8')).toBe('{"accounts": [{"name": "Sam"}]}');
  });

  it('keeps every account when several are added at once', async () => {
    await Promise.all(['Ann', 'Ben', 'Cal', 'Dee'].map((name) => accounts.add(name, PASSWORD, 'counsellor')));
    expect((await accounts.list()).map((a) => a.name).sort()).toEqual(['Ann', 'Ben', 'Cal', 'Dee']);
  });
});
