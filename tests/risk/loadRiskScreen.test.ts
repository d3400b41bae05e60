/**
 * The risk screen kept between starts: a screen restored from the cache answers exactly as one
 * trained afresh, a damaged entry is rebuilt without a word, and a broken lexicon is reported with
 * file and line however recently a valid one was kept.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStartupCache } from '../../bot/cache/startupCache.js';
import { countingCache } from '../support/countingCache.js';
import { ContentError } from '../../bot/content/contentError.js';
import { readDevSet } from '../../bot/risk/devSet.js';
import { loadRiskData } from '../../bot/risk/loadRiskData.js';
import { loadRiskScreen } from '../../bot/risk/loadRiskScreen.js';
import { createRiskClassifier } from '../../bot/risk/riskClassifier.js';
import { lineOf, replace } from '../content/fixtureLibrary.js';

const SHIPPED = fileURLToPath(new URL('../../resources/risk', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/risk', import.meta.url));
const HELD_OUT = fileURLToPath(new URL('./devset/en.heldout.jsonl', import.meta.url));

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-risk-cache-'));
  temps.push(dir);
  return dir;
}

/**
 * A copy of a risk folder in a folder of its own: the same files in another place, so this
 * process's own memory of built screens does not answer and the cache has to.
 */
async function copyOf(source: string): Promise<string> {
  const dir = path.join(await tempDir(), 'risk');
  await cp(source, dir, { recursive: true });
  return dir;
}

/** A cache in a temp folder that counts what it was asked. */
async function riskCache() {
  const dir = await tempDir();
  return { dir, ...countingCache(dir, 'riskScreen') };
}

async function keptEntries(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((file) => file.startsWith('riskScreen-'));
}

describe('the risk screen kept between starts', () => {
  it('answers every held-out message exactly as a screen trained afresh', async () => {
    const { cache, dir, hits, writes } = await riskCache();
    await loadRiskScreen(await copyOf(SHIPPED), 'en', { cache });
    expect([hits(), writes()]).toEqual([0, 1]);

    const restored = await loadRiskScreen(await copyOf(SHIPPED), 'en', { cache });
    expect([hits(), writes()]).toEqual([1, 1]);
    expect(await keptEntries(dir)).toHaveLength(1);

    const fresh = createRiskClassifier((await loadRiskData(SHIPPED)).get('en')!);
    const texts = [
      ...(await readDevSet(HELD_OUT)).map((m) => m.text),
      // Misspelt words take the fuzzy path through the lexicon's words.
      'i want to kil myslf tonite',
      'suicde is all i think about',
      'my brother took an overdose years ago',
      'can i tlak to a councellor',
    ];
    expect(texts.length).toBeGreaterThan(100);
    const differing = texts.filter((text) => JSON.stringify(restored.screen(text)) !== JSON.stringify(fresh.screen(text)));
    expect(differing).toEqual([]);
    expect(restored.screen('i want to kil myslf tonite').escalate).toBe(true);
  }, 60_000);

  it('builds again, without a word, from an entry that is damaged or not a screen', async () => {
    const { cache, dir, hits, writes } = await riskCache();
    const expected = (await loadRiskScreen(await copyOf(FIXTURE), 'en', { cache })).screen('i want to kill myself');
    expect(expected.category).toBe('suicide');
    const [entry] = await keptEntries(dir);
    const file = path.join(dir, entry!);

    const damaged = await readFile(file);
    damaged[damaged.length - 10]! ^= 0x20;
    await writeFile(file, damaged);
    expect((await loadRiskScreen(await copyOf(FIXTURE), 'en', { cache })).screen('i want to kill myself')).toEqual(expected);
    expect([hits(), writes()]).toEqual([0, 2]);

    // Whole and checked, but not what a screen is kept as (as if written by other code).
    const key = entry!.slice('riskScreen-'.length, -'.bin'.length);
    await openStartupCache(dir).write('riskScreen', key, Buffer.from('{"locales":[{"locale":"en","data":{},"learnt":{}}]}'));
    expect((await loadRiskScreen(await copyOf(FIXTURE), 'en', { cache })).screen('i want to kill myself')).toEqual(expected);
    expect([hits(), writes()]).toEqual([1, 3]);
    expect((await loadRiskScreen(await copyOf(FIXTURE), 'en', { cache })).screen('i want to kill myself')).toEqual(expected);
    expect([hits(), writes()]).toEqual([2, 3]);
  }, 60_000);

  it('reports a broken lexicon with file and line although the valid one was kept, and keeps a changed one anew', async () => {
    const { cache, dir } = await riskCache();
    const risk = await copyOf(FIXTURE);
    await loadRiskScreen(risk, 'en', { cache });
    const file = path.join(risk, 'en.yaml');
    const valid = await readFile(file, 'utf8');

    const broken = replace('    - { phrase: "overdose", level: high }', '    - { phrase: "overdose", level: urgent }')(valid);
    await writeFile(file, broken);
    const error = await loadRiskScreen(risk, 'en', { cache }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContentError);
    expect((error as ContentError).problems).toEqual([
      expect.objectContaining({ file: 'risk/en.yaml', code: 'CONTENT_SCHEMA', line: lineOf(broken, 'urgent') }),
    ]);
    expect(await keptEntries(dir)).toHaveLength(1);

    await writeFile(file, valid.replace('examples:\n', 'examples:\n  - { text: "i keep thinking about ending it all", category: suicide }\n'));
    await loadRiskScreen(risk, 'en', { cache });
    expect(await keptEntries(dir)).toHaveLength(2);
  }, 60_000);
});
