/**
 * Every file under a data folder, and the check the canary tests make of them: what a person
 * typed must be in no stored file and no file name.
 */
import { expect } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export async function everyFile(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** No marker in any file's name or content; case-insensitive, so an upper-cased copy is caught too. */
export async function expectNoMarkerInFiles(dir: string, markers: readonly string[]): Promise<void> {
  for (const file of await everyFile(dir)) {
    const name = file.toLowerCase();
    const text = (await readFile(file, 'utf8')).toLowerCase();
    for (const marker of markers.map((m) => m.toLowerCase())) {
      expect(name).not.toContain(marker);
      expect(text).not.toContain(marker);
    }
  }
}
