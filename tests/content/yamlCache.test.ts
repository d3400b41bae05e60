/**
 * YAML data kept between starts: the same text gives the same data without parsing it again,
 * and every problem still names its file and line, whether the data came from the cache or not.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { countingCache } from '../support/countingCache.js';
import type { ContentProblem } from '../../bot/content/contentError.js';
import { readYaml } from '../../bot/content/yamlFile.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-yaml-cache-'));
  temps.push(dir);
  return dir;
}

const schema = z.strictObject({ title: z.string().min(1), steps: z.array(z.strictObject({ id: z.string(), wait: z.number().optional() })) });

/** A cache in a temp folder that counts the entries it gave back and kept. */
/** Reads `text` as `<root>/module.yaml` twice with one cache: the second time from it, if it was kept. */
async function readTwice(text: string) {
  const root = await tempDir();
  await writeFile(path.join(root, 'module.yaml'), text);
  const { cache, hits, writes } = countingCache(await tempDir());
  const read = async () => {
    const problems: ContentProblem[] = [];
    const parsed = await readYaml(root, 'module.yaml', schema, problems, cache);
    return { problems, input: parsed?.input, data: parsed?.data };
  };
  const first = await read();
  const second = await read();
  return { first, second, hits: hits(), writes: writes() };
}

describe('YAML kept between starts', () => {
  it('gives the same data from the cache as from the file', async () => {
    const { first, second, hits, writes } = await readTwice('title: Urges\nsteps:\n  - id: intro\n    wait: 2\n  - id: end\n');
    expect([writes, hits]).toEqual([1, 1]);
    expect(first.data).toEqual({ title: 'Urges', steps: [{ id: 'intro', wait: 2 }, { id: 'end' }] });
    expect(second).toEqual(first);
  });

  it('names the line of a schema problem when the data came from the cache', async () => {
    const { first, second, hits } = await readTwice('title: Urges\nsteps:\n  - id: intro\n  - id: end\n    wiat: 2\n');
    expect(hits).toBe(1);
    expect(first.problems).toEqual([expect.objectContaining({ file: 'module.yaml', code: 'CONTENT_SCHEMA', path: 'steps[1].wiat', line: 5 })]);
    expect(second.problems).toEqual(first.problems);
  });

  it('never keeps a file with a syntax error, and reports it with its line each time', async () => {
    const { first, second, hits, writes } = await readTwice('title: Urges\nsteps:\n  - id: intro\n   - id: end\n');
    expect([writes, hits]).toEqual([0, 0]);
    expect(first.problems).toEqual([expect.objectContaining({ code: 'CONTENT_YAML_SYNTAX', line: 4 })]);
    expect(second.problems).toEqual(first.problems);
  });

  it('does not keep data that JSON would change', async () => {
    const { first, second, writes } = await readTwice('title: Urges\nsteps:\n  - id: intro\n    wait: .nan\n');
    expect(writes).toBe(0);
    expect(first.input).toEqual({ title: 'Urges', steps: [{ id: 'intro', wait: Number.NaN }] });
    expect(second.input).toEqual(first.input);
  });
});
