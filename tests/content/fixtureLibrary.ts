/**
 * Broken content libraries for the loader tests: a copy of the valid fixture in a temp folder
 * with one or a few files changed, so each test shows exactly what it breaks.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const VALID_LIBRARY = fileURLToPath(new URL('../fixtures/content/valid', import.meta.url));

/** New text for a file, a function of its current text, or null to delete it. */
export type FileChange = string | null | ((text: string) => string);

const created: string[] = [];

/** Copies the valid library to a temp folder and applies `changes` (paths relative to the root). */
export async function brokenLibrary(changes: Record<string, FileChange>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'waypoint-content-'));
  created.push(root);
  await cp(VALID_LIBRARY, root, { recursive: true });
  for (const [file, change] of Object.entries(changes)) {
    const target = path.join(root, file);
    if (change === null) {
      await rm(target, { recursive: true });
      continue;
    }
    const text = typeof change === 'string' ? change : change(await readFile(target, 'utf8'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, text);
  }
  return root;
}

/** Removes every library made by `brokenLibrary`; call from afterAll. */
export async function removeBrokenLibraries(): Promise<void> {
  await Promise.all(created.splice(0).map((root) => rm(root, { recursive: true, force: true })));
}

/** Replaces one exact snippet, and fails loudly when the fixture no longer contains it. */
export function replace(from: string, to: string): (text: string) => string {
  return (text) => {
    if (!text.includes(from)) throw new Error(`fixture does not contain ${JSON.stringify(from)}`);
    return text.replace(from, to);
  };
}

/** 1-based line of the first line of `text` that contains `snippet`. */
export function lineOf(text: string, snippet: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(snippet));
  if (index < 0) throw new Error(`text does not contain ${JSON.stringify(snippet)}`);
  return index + 1;
}

/** A complete module file for `en/modules/<id>.yaml` with the given steps (YAML, indented by two). */
export function moduleYaml(id: string, steps: string): string {
  return `id: ${id}
version: 1
title: Test module
summary: A module written by a test.
sources:
  - title: Test
    publisher: Waypoint tests
    usedFor: Nothing.
steps:
${steps}`;
}
