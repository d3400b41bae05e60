import { afterAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContentError, type ContentProblem } from '../../bot/content/contentError.js';
import { loadRiskData } from '../../bot/risk/loadRiskData.js';
import { brokenCopy, removeBrokenCopies } from '../support/brokenFile.js';
import { lineOf, replace } from '../content/fixtureLibrary.js';

afterAll(removeBrokenCopies);

const FIXTURE = fileURLToPath(new URL('../fixtures/risk/en.yaml', import.meta.url));

async function problemsAfter(change: (text: string) => string) {
  const { file, text } = await brokenCopy(FIXTURE, change, 'risk');
  let problems: readonly ContentProblem[] = [];
  try {
    await loadRiskData(path.dirname(file));
  } catch (error) {
    if (!(error instanceof ContentError)) throw error;
    problems = error.problems;
  }
  return { problems, line: (snippet: string) => lineOf(text, snippet) };
}

describe('loading a risk lexicon', () => {
  it('loads each locale file of the folder', async () => {
    const data = await loadRiskData(path.dirname(FIXTURE));
    expect([...data.keys()]).toEqual(['en']);
    expect(data.get('en')?.lexicon.suicide[0]).toEqual({ phrase: 'kill myself', level: 'elevated' });
  });

  it('reads the word clusters beside a locale file and names the line of a bad one', async () => {
    const { file } = await brokenCopy(FIXTURE, (t) => t, 'risk');
    await writeFile(path.join(path.dirname(file), 'en.clusters.tsv'), '# generated\nrifle\t3\ngun\t3\n');
    expect((await loadRiskData(path.dirname(file))).get('en')?.wordClusters).toEqual([['rifle', 3], ['gun', 3]]);

    await writeFile(path.join(path.dirname(file), 'en.clusters.tsv'), '# generated\nrifle\t3\ngun three\n');
    const problems = await loadRiskData(path.dirname(file)).then(
      () => [],
      (error: ContentError) => error.problems,
    );
    expect(problems).toEqual([expect.objectContaining({ file: 'risk/en.clusters.tsv', code: 'CONTENT_SCHEMA', line: 3 })]);
  });

  it('says which file is missing when the default locale has none', async () => {
    const { file } = await brokenCopy(FIXTURE, (t) => t, 'risk');
    await expect(loadRiskData(path.dirname(file), { defaultLocale: 'de' })).rejects.toThrow(
      /risk\/de\.yaml: the risk file of the default locale is missing/,
    );
  });

  it('points at the line of a misspelt key, a bad level and a level its category does not use', async () => {
    const { problems, line } = await problemsAfter((t) =>
      replace('    - { phrase: "suicide", level: elevated }', '    - { phrase: "suicide", levle: elevated }')(
        replace('    - { phrase: "overdose", level: high }', '    - { phrase: "overdose", level: urgent }')(
          replace('    - { phrase: "counsellor", level: low }', '    - { phrase: "counsellor", level: high }')(t),
        ),
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'risk/en.yaml', code: 'CONTENT_SCHEMA', path: 'lexicon.suicide[3].levle', line: line('levle') }),
        expect.objectContaining({ code: 'CONTENT_SCHEMA', path: 'lexicon.suicide[4].level', line: line('urgent') }),
      ]),
    );
  });

  it('refuses a request for a person above level low, duplicate phrases and too few examples', async () => {
    const { problems, line } = await problemsAfter((t) =>
      replace('    - { phrase: "counsellor", level: low }', '    - { phrase: "counsellor", level: high }')(
        replace('    - { phrase: "can\'t cope", level: elevated }', '    - { phrase: "can\'t cope", level: elevated }\n    - { phrase: "Kill  myself", level: high }')(
          replace('  - { text: "get me a therapist please", category: human }\n', '')(t),
        ),
      ),
    );
    expect(problems).toEqual([
      expect.objectContaining({ code: 'CONTENT_BAD_LEVEL', path: 'lexicon.human[1].level', line: line('"counsellor", level: high') }),
      expect.objectContaining({ code: 'CONTENT_DUPLICATE_PHRASE', path: 'lexicon.distress[1].phrase', message: '"Kill  myself" is already listed under suicide' }),
      expect.objectContaining({ code: 'CONTENT_TOO_FEW_EXAMPLES', message: 'human has 9 examples; at least 10 are needed' }),
    ]);
  });
});
