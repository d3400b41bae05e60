import { describe, expect, it } from '@jest/globals';
import { format, inspect } from 'node:util';
import { FreeText } from '../../bot/privacy/freeText.js';

const CANARY = 'CANARY-7f3e I keep thinking about it';

describe('FreeText', () => {
  const freeText = FreeText.of(CANARY);

  it('gives its text only to reveal()', () => {
    expect(freeText.reveal()).toBe(CANARY);
  });

  it.each([
    ['String()', () => String(freeText)],
    ['a template literal', () => `said: ${freeText}`],
    ['string concatenation', () => 'said: ' + freeText],
    ['JSON.stringify', () => JSON.stringify(freeText)],
    ['JSON.stringify nested in objects and arrays', () => JSON.stringify({ turn: { input: freeText, all: [freeText] } })],
    ['util.inspect', () => inspect(freeText)],
    ['util.inspect with hidden properties', () => inspect({ freeText }, { showHidden: true, depth: 10 })],
    ['util.format %s %o %O %j', () => format('%s %o %O %j', freeText, freeText, freeText, { freeText })],
  ])('never shows its text through %s', (_how, show) => {
    const shown = show();
    expect(shown).not.toContain('CANARY');
    expect(shown).toContain('[free text]');
  });

  it('has no enumerable properties to leak through spreading or Object.entries', () => {
    expect(Object.entries(freeText)).toEqual([]);
    expect({ ...freeText }).toEqual({});
  });

  it('is not a choice until the dialog matches it to one', () => {
    const text = FreeText.of('yes please');
    expect(text.isChoice).toBe(false);
    text.markAsChoice();
    expect(text.isChoice).toBe(true);
  });

  it.each([
    ['yes', false],
    ['menu', false],
    ['i am ok', false],
    ['  NOT    sure ', true],
    ['I keep thinking about it', true],
    ['relationships', false],
    ['selfmanagementplan', true],
    ['', false],
  ])('judges %j identifying: %s', (text, expected) => {
    expect(FreeText.of(text).isIdentifying).toBe(expected);
  });
});
