/**
 * A copy of one valid resource file in a temp folder, with one change, so a loader test shows
 * exactly what it breaks and on which line the report must point. Changes are written with
 * `replace` and lines found with `lineOf` from tests/content/fixtureLibrary.ts.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const created: string[] = [];

/** Writes `change(text of source)` to `<temp>/<folder>/<name>` and returns that path and the text. */
export async function brokenCopy(source: string, change: (text: string) => string, folder = ''): Promise<{ file: string; text: string }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'waypoint-broken-'));
  created.push(root);
  const dir = path.join(root, folder);
  await mkdir(dir, { recursive: true });
  const text = change(await readFile(source, 'utf8'));
  const file = path.join(dir, path.basename(source));
  await writeFile(file, text);
  return { file, text };
}

export async function removeBrokenCopies(): Promise<void> {
  await Promise.all(created.splice(0).map((root) => rm(root, { recursive: true, force: true })));
}
