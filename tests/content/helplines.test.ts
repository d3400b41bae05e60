import { afterAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { ContentError, type ContentProblem } from '../../bot/content/contentError.js';
import { inLocale, loadHelplines } from '../../bot/content/helplines.js';
import { brokenCopy, removeBrokenCopies } from '../support/brokenFile.js';
import { lineOf, replace } from './fixtureLibrary.js';

afterAll(removeBrokenCopies);

const HELPLINES = fileURLToPath(new URL('../../resources/helplines.yaml', import.meta.url));

async function problemsAfter(change: (text: string) => string) {
  const { file, text } = await brokenCopy(HELPLINES, change);
  try {
    await loadHelplines(file);
  } catch (error) {
    if (error instanceof ContentError) return { problems: error.problems, line: (s: string) => lineOf(text, s) };
    throw error;
  }
  return { problems: [] as ContentProblem[], line: (s: string) => lineOf(text, s) };
}

describe('the helplines file', () => {
  it('has the countries the safety issue names, each line with a source and the date it was checked', async () => {
    const helplines = await loadHelplines(HELPLINES);
    expect(helplines.countries.map((c) => c.code)).toEqual(expect.arrayContaining(['GB', 'IE', 'US', 'FI', 'DE', 'PK', 'INTL']));
    for (const country of helplines.countries) {
      expect(country.lines.some((line) => line.purpose === 'crisis')).toBe(true);
      for (const line of country.lines) {
        expect(line.source).toMatch(/^https?:\/\//);
        expect(line.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      }
    }
  });

  it('falls back to the international entry for an unknown or missing country', async () => {
    const helplines = await loadHelplines(HELPLINES);
    expect(helplines.forCountry('GB').code).toBe('GB');
    expect(helplines.forCountry('XX').code).toBe('INTL');
    expect(helplines.forCountry(undefined).code).toBe('INTL');
  });

  it('gives hours in the language asked for, its base language, or English', () => {
    const hours = { en: 'any time', de: 'jederzeit' };
    expect(inLocale(hours, 'de-AT')).toBe('jederzeit');
    expect(inLocale(hours, 'fi')).toBe('any time');
  });

  it('reports a line without a source and a plain-http web address, with their lines', async () => {
    const { problems, line } = await problemsAfter((text) => {
      const withoutSource = text.replace(/\n\s+source: https:\/\/www\.samaritans\.org\/how-we-can-help\/contact-samaritan\/[^\n]*/, '');
      return replace('web: https://www.samaritans.org\n', 'web: http://www.samaritans.org\n')(withoutSource);
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'CONTENT_SCHEMA', path: 'countries[0].lines[0].source', message: 'is required' }),
        expect.objectContaining({ code: 'CONTENT_SCHEMA', path: 'countries[0].lines[0].web', message: 'must be an https:// address', line: line('web: http://www.samaritans.org') }),
      ]),
    );
  });

  it('reports a country listed twice and a missing international entry', async () => {
    const { problems } = await problemsAfter((text) => text.replace('code: IE', 'code: GB').replace('code: INTL', 'code: FR'));
    expect(problems.map((p) => p.code)).toEqual(['CONTENT_DUPLICATE_COUNTRY', 'CONTENT_NO_FALLBACK']);
    expect(problems[0]).toMatchObject({ path: 'countries[1].code', message: 'country "GB" is already listed above' });
  });
});
