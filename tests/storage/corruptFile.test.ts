/**
 * A store file that is there but cannot be read as its key's record (a manual edit, a bad disk,
 * a half-restored backup) still holds someone's data. The store must refuse it loudly and never
 * take it for absent: the next write would replace it and the data would be gone without a word.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createLowdbStorage } from '../../bot/storage/lowdbStorage.js';
import { StorageCorruptError } from '../../bot/storage/storageCorruptError.js';
import type { WaypointStorage } from '../../bot/storage/waypointStorage.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const KEY = 'webchat/users/corrupt-test';
const OTHER_KEY = 'webchat/users/other';

/** Where the store keeps `key`, relative to DATA_DIR (the layout lowdbStorage.test.ts pins down). */
function fileOf(key: string): string {
  const id = createHash('sha256').update(key, 'utf8').digest('hex');
  return `state/${id.slice(0, 2)}/${id}.json`;
}

describe('lowdb storage with a corrupt file', () => {
  let dir: string;
  const opened: WaypointStorage[] = [];

  async function open(now?: () => Date): Promise<WaypointStorage> {
    const storage = await createLowdbStorage({ dir, now });
    opened.push(storage);
    return storage;
  }

  /** Writes `key` through a store that is then closed, and puts `text` in its place on disk. */
  async function storedThenBroken(key: string, text: string): Promise<string> {
    const writer = await createLowdbStorage({ dir });
    await writer.write({ [key]: { consent: { version: 1 } } });
    await writer.close();
    await writeFile(join(dir, fileOf(key)), text);
    return text;
  }

  const onDisk = (key: string) => readFile(join(dir, fileOf(key)), 'utf8');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waypoint-corrupt-'));
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((storage) => storage.close()));
    await rm(dir, { recursive: true, force: true });
  });

  describe('found while running (the file broke after the store opened)', () => {
    it.each([
      ['cut off half-way', '{"key": "webchat/users/corrupt-test", "eTag": "1", "val', 'not JSON'],
      ['empty', '', 'not JSON'],
      ['JSON of another shape', '[1, 2, 3]', 'not a store record'],
      ['a record without its value', JSON.stringify({ key: KEY, savedAt: new Date().toISOString(), eTag: 'e' }), 'not a store record'],
    ])('refuses to read a file that is %s, naming the file and the problem', async (_case, text, problem) => {
      const storage = await open();
      await storedThenBroken(KEY, text);

      const refused = storage.read([KEY]);

      await expect(refused).rejects.toBeInstanceOf(StorageCorruptError);
      await expect(refused).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', files: [{ file: fileOf(KEY), problem }] });
      await expect(refused).rejects.toThrow(fileOf(KEY));
    });

    it('refuses a file that holds another key, instead of serving it or reading it as missing', async () => {
      const storage = await open();
      await storage.write({ [OTHER_KEY]: { consent: { version: 1 } } });
      await storedThenBroken(KEY, await onDisk(OTHER_KEY));

      await expect(storage.read([KEY])).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', files: [{ file: fileOf(KEY), problem: 'holds another key' }] });
    });

    it.each([
      ['with no eTag', {}],
      ['with eTag "*"', { eTag: '*' }],
      ['with an eTag from before it broke', { eTag: 'whatever-the-caller-last-saw' }],
    ])('never writes over it, %s', async (_case, eTag) => {
      const storage = await open();
      const broken = await storedThenBroken(KEY, '{"key": "webchat/users/corrupt-test", "eT');

      await expect(storage.write({ [KEY]: { consent: { version: 2 }, ...eTag } })).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });

      expect(await onDisk(KEY)).toBe(broken);
    });

    it('still writes the other keys of a batch', async () => {
      const storage = await open();
      await storedThenBroken(KEY, 'not json');

      await expect(storage.write({ [KEY]: { n: 1 }, [OTHER_KEY]: { n: 2 } })).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });

      await expect(storage.read([OTHER_KEY])).resolves.toMatchObject({ [OTHER_KEY]: { n: 2 } });
    });

    it('lets "delete my data" remove it: the person asked for everything to go', async () => {
      const storage = await open();
      await storedThenBroken(KEY, 'not json');

      await storage.delete([KEY]);

      await expect(storage.read([KEY])).resolves.toEqual({});
    });

    it('leaves it to the operator during retention, reporting it once the sweep has deleted the rest', async () => {
      let now = new Date('2030-01-01T00:00:00.000Z');
      const storage = await open(() => now);
      await storage.write({ [OTHER_KEY]: { n: 1 } });
      const broken = await storedThenBroken(KEY, 'not json');
      now = new Date(now.getTime() + 60 * DAY_MS);

      const sweep = storage.deleteIdleSince(new Date(now.getTime() - 30 * DAY_MS));

      await expect(sweep).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', files: [{ file: fileOf(KEY), problem: 'not JSON' }] });
      expect(await onDisk(KEY)).toBe(broken);
      await expect(storage.read([OTHER_KEY])).resolves.toEqual({});
    });
  });

  describe('found when the store opens', () => {
    it('refuses to open, listing every unreadable file and leaving all files as they were', async () => {
      const good = await createLowdbStorage({ dir });
      await good.write({ 'webchat/users/fine': { n: 1 }, [KEY]: { n: 2 }, [OTHER_KEY]: { n: 3 } });
      await good.close();
      const [first, second] = ['{"trunc', '[]'];
      await writeFile(join(dir, fileOf(KEY)), first);
      await writeFile(join(dir, fileOf(OTHER_KEY)), second);
      const goodBefore = await onDisk('webchat/users/fine');

      const opening = createLowdbStorage({ dir });

      const expected = [
        { file: fileOf(KEY), problem: 'not JSON' },
        { file: fileOf(OTHER_KEY), problem: 'not a store record' },
      ].sort((a, b) => a.file.localeCompare(b.file));
      await expect(opening).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', files: expected });
      await expect(opening).rejects.toThrow(/2 unreadable store file/);
      expect(await onDisk(KEY)).toBe(first);
      expect(await onDisk(OTHER_KEY)).toBe(second);
      expect(await onDisk('webchat/users/fine')).toBe(goodBefore);
    });

    it('never puts key text in the error, only the hashed file name', async () => {
      const canary = 'webchat/users/CANARY-5c1e';
      await storedThenBroken(canary, 'oops');

      const error = await createLowdbStorage({ dir }).then(
        () => undefined,
        (err: unknown) => err as StorageCorruptError,
      );

      expect(error?.message).toContain(fileOf(canary));
      expect(JSON.stringify({ message: error?.message, files: error?.files })).not.toContain('CANARY');
    });

    it('removes temp files a crash left behind and keeps the file they were replacing', async () => {
      const before = await createLowdbStorage({ dir });
      await before.write({ [KEY]: { n: 1 } });
      await before.close();
      const file = fileOf(KEY);
      const shard = join(dir, file, '..');
      const temp = `.${file.split('/').pop()!}.tmp`;
      await writeFile(join(shard, temp), '{"half a wr');

      const storage = await open();

      expect(await readdir(shard)).toEqual([file.split('/').pop()]);
      await expect(storage.read([KEY])).resolves.toMatchObject({ [KEY]: { n: 1 } });
    });
  });
});
