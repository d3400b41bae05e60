/**
 * The risk screen for a folder of lexicons, screened by locale. Building one trains a model on
 * thousands of examples (a fraction of a second), so a process that starts several runtimes on
 * the same unchanged files (tests, a restart in place) builds it once.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadRiskData } from './loadRiskData.js';
import { createRiskClassifier } from './riskClassifier.js';
import { screenByLocale, type RiskScreen } from './riskScreen.js';

const built = new Map<string, Promise<RiskScreen>>();

export async function loadRiskScreen(dir: string, defaultLocale: string): Promise<RiskScreen> {
  const key = `${defaultLocale}|${dir}|${await fingerprint(dir)}`;
  let screen = built.get(key);
  if (!screen) {
    screen = build(dir, defaultLocale);
    built.set(key, screen);
    // A failed build (a content error) is not remembered: the next attempt reads the files again.
    screen.catch(() => built.delete(key));
  }
  return screen;
}

async function build(dir: string, defaultLocale: string): Promise<RiskScreen> {
  const data = await loadRiskData(dir, { defaultLocale });
  return screenByLocale(new Map([...data].map(([locale, d]) => [locale, createRiskClassifier(d)] as const)), defaultLocale);
}

/** Names, sizes and modification times of the folder's files: any edit gives a new key. */
async function fingerprint(dir: string): Promise<string> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const parts = await Promise.all(
    names.sort().map(async (name) => {
      const info = await stat(path.join(dir, name));
      return `${name}:${info.size}:${info.mtimeMs}`;
    }),
  );
  return parts.join(',');
}
