import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPseudonymizer, loadOrCreateSecret } from '../../bot/privacy/pseudonym.js';

const SECRET = 'a'.repeat(64);
const OTHER_SECRET = 'b'.repeat(64);
const CANARY_ID = '987654321012';

describe('createPseudonymizer', () => {
  const pseudonym = createPseudonymizer(SECRET);

  it('gives the same id for the same person every time', () => {
    expect(pseudonym('user', 'telegram', CANARY_ID)).toBe(createPseudonymizer(SECRET)('user', 'telegram', CANARY_ID));
  });

  it('gives different ids for a different channel, id, kind or secret', () => {
    const ids = new Set([
      pseudonym('user', 'telegram', CANARY_ID),
      pseudonym('user', 'directline', CANARY_ID),
      pseudonym('user', 'telegram', '987654321013'),
      pseudonym('conversation', 'telegram', CANARY_ID),
      createPseudonymizer(OTHER_SECRET)('user', 'telegram', CANARY_ID),
    ]);
    expect(ids.size).toBe(5);
  });

  it('has the form kind/<32 base64url characters> and contains no part of the raw id', () => {
    const id = pseudonym('user', 'telegram', CANARY_ID);
    expect(id).toMatch(/^user\/[A-Za-z0-9_-]{32}$/);
    for (let start = 0; start + 5 <= CANARY_ID.length; start += 1) {
      expect(id).not.toContain(CANARY_ID.slice(start, start + 5));
    }
  });

  it('refuses a short secret', () => {
    expect(() => createPseudonymizer('too-short')).toThrow(/at least 32 characters/);
  });
});

describe('loadOrCreateSecret', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates a private secret file on first start and reuses it afterwards', async () => {
    dir = await mkdtemp(join(tmpdir(), 'waypoint-secret-'));
    const dataDir = join(dir, 'nested', 'data');

    const first = await loadOrCreateSecret(dataDir);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(join(dataDir, 'secret.key'))).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateSecret(dataDir)).toBe(first);
  });

  it('prefers a configured secret and does not create a file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'waypoint-secret-'));
    expect(await loadOrCreateSecret(dir, SECRET)).toBe(SECRET);
    await expect(stat(join(dir, 'secret.key'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects a short configured secret with a clear error that does not repeat it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'waypoint-secret-'));
    const error = await loadOrCreateSecret(dir, 'hunter2-secret').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'PRIVACY_SECRET_TOO_SHORT' });
    expect((error as Error).message).toMatch(/at least 32 characters/);
    expect((error as Error).message).not.toContain('hunter2');
  });
});
