/**
 * The risk screen for a folder of lexicons, screened by locale. Building one parses a large
 * YAML file and trains a model on thousands of examples (most of a second), so a process that
 * starts several runtimes on the same unchanged files (tests, a restart in place) builds it once,
 * and what was learnt is kept between starts (startupCache.ts) under a hash of the files and of
 * the code that reads them. A changed, broken or new file is a different key: it is read, checked
 * and reported exactly as on a first start.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheKey, openStartupCache, type StartupCache } from '../cache/startupCache.js';
import { loadRiskData } from './loadRiskData.js';
import { createRiskClassifier, type LearntFromExamples } from './riskClassifier.js';
import type { RiskData } from './riskData.js';
import { screenByLocale, type RiskScreen } from './riskScreen.js';

/** The code that turns the files into a screen: this folder and the YAML reading in content/. */
const CODE_DIRS = [fileURLToPath(new URL('.', import.meta.url)), fileURLToPath(new URL('../content/', import.meta.url))];
/** Packages whose version can change what the same files give. */
const PACKAGES = ['yaml', 'zod', 'natural'];
const CACHE_NAME = 'riskScreen';

export interface RiskScreenOptions {
  /** Where what was learnt is kept between starts; startupCache.ts's folder unless given. */
  readonly cache?: StartupCache;
}

/** A built screen as kept between starts: each locale's checked data and what was learnt from it. */
interface KeptScreen {
  readonly locales: readonly { readonly locale: string; readonly data: RiskData; readonly learnt: LearntFromExamples }[];
}

const built = new Map<string, Promise<RiskScreen>>();

export async function loadRiskScreen(dir: string, defaultLocale: string, options: RiskScreenOptions = {}): Promise<RiskScreen> {
  const key = `${defaultLocale}|${dir}|${await fingerprint(dir)}`;
  let screen = built.get(key);
  if (!screen) {
    screen = build(dir, defaultLocale, options.cache ?? openStartupCache());
    built.set(key, screen);
    // A failed build (a content error) is not remembered: the next attempt reads the files again.
    screen.catch(() => built.delete(key));
  }
  return screen;
}

async function build(dir: string, defaultLocale: string, cache: StartupCache): Promise<RiskScreen> {
  const key = await contentKey(dir, defaultLocale);
  const kept = key === undefined ? undefined : await cache.read(CACHE_NAME, key);
  const restored = kept && restore(kept, defaultLocale);
  if (restored) return restored;

  const data = await loadRiskData(dir, { defaultLocale });
  const classifiers = [...data].map(([locale, d]) => ({ locale, data: d, classifier: createRiskClassifier(d) }));
  if (key !== undefined) {
    const keep: KeptScreen = { locales: classifiers.map(({ locale, data: d, classifier }) => ({ locale, data: d, learnt: classifier.learnt })) };
    await cache.write(CACHE_NAME, key, Buffer.from(JSON.stringify(keep), 'utf8'));
  }
  return screenByLocale(new Map(classifiers.map(({ locale, classifier }) => [locale, classifier] as const)), defaultLocale);
}

/** The screen from a kept build, or undefined when the entry is not one (it is then built again). */
function restore(kept: Buffer, defaultLocale: string): RiskScreen | undefined {
  try {
    const { locales } = JSON.parse(kept.toString('utf8')) as KeptScreen;
    return screenByLocale(new Map(locales.map(({ locale, data, learnt }) => [locale, createRiskClassifier(data, { learnt })] as const)), defaultLocale);
  } catch {
    return undefined;
  }
}

/**
 * A hash of everything the screen is made from: the folder's files, the code that reads them and
 * the versions of the packages it uses. Undefined when the folder cannot be read (the build then
 * reports why).
 */
async function contentKey(dir: string, defaultLocale: string): Promise<string | undefined> {
  try {
    const [files, code] = await Promise.all([filesOf(dir), codeVersion()]);
    return cacheKey(defaultLocale, code, ...files);
  } catch {
    return undefined;
  }
}

let codeVersionOnce: Promise<string> | undefined;
function codeVersion(): Promise<string> {
  return (codeVersionOnce ??= (async () => {
    const require = createRequire(import.meta.url);
    const versions = PACKAGES.map((name) => `${name}@${(require(`${name}/package.json`) as { version: string }).version}`);
    const sources = (await Promise.all(CODE_DIRS.map(filesOf))).flat();
    return cacheKey(...versions, ...sources);
  })());
}

/** Names and contents of the regular files directly in `dir`, in name order. */
async function filesOf(dir: string): Promise<(string | Buffer)[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort();
  const contents = await Promise.all(entries.map((name) => readFile(path.join(dir, name))));
  return entries.flatMap((name, i) => [name, contents[i] as Buffer]);
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
