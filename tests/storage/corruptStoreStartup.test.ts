/**
 * `npm start` on a data folder with an unreadable store file: Waypoint as an operator runs it
 * refuses to start, names the file, and leaves it exactly as it was.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createLowdbStorage } from '../../bot/storage/lowdbStorage.js';
import { startWaypointProcess } from '../support/waypointProcess.js';

const KEY = 'directline/users/someone';
const GARBAGE = '{"key":"directline/users/someone","savedAt":"2030-01-0\u0000\u0000\u0000';

function fileOf(key: string): string {
  const id = createHash('sha256').update(key, 'utf8').digest('hex');
  return `state/${id.slice(0, 2)}/${id}.json`;
}

describe('starting Waypoint on a store with an unreadable file', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'waypoint-corrupt-start-'));
    const storage = await createLowdbStorage({ dir: dataDir });
    await storage.write({ [KEY]: { profile: { consent: { version: 1 } } }, 'directline/users/fine': { profile: {} } });
    await storage.close();
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('exits non-zero, names the file and what is wrong with it, and leaves it unchanged', async () => {
    await writeFile(join(dataDir, fileOf(KEY)), GARBAGE);

    const starting = startWaypointProcess({ DATA_DIR: dataDir });

    await expect(starting).rejects.toThrow(/exited \(1\) before listening/);
    const output = await starting.catch((error: Error) => error.message);
    expect(output).toContain('Waypoint cannot start: 1 stored file(s) cannot be read');
    expect(output).toContain(`${fileOf(KEY)}: not JSON`);
    expect(output).toContain('Nothing has been changed or deleted');
    expect(output).not.toContain('directline/users/someone');
    expect(await readFile(join(dataDir, fileOf(KEY)), 'utf8')).toBe(GARBAGE);
  }, 60_000);

  // The control: the same folder with the file whole starts, so the refusal above is the file's doing.
  it('starts on the same store when the file is whole', async () => {
    const waypoint = await startWaypointProcess({ DATA_DIR: dataDir });

    expect(await waypoint.stop()).toBe(0);
  }, 60_000);
});
