import { describe, expect, it } from '@jest/globals';
import { trainBayes } from '../../bot/risk/bayesModel.js';
import { expectLearntToyLabels, TOY_DOCUMENTS } from '../support/toyLabels.js';

const DOCUMENTS = TOY_DOCUMENTS;

describe('the Bayes model', () => {
  it('learns which label each feature points to, with probabilities that add up to one', () => {
    expectLearntToyLabels(trainBayes(DOCUMENTS));
  });

  it('counts through natural: a label natural never saw an example of is never predicted', () => {
    const model = trainBayes(DOCUMENTS.filter((d) => d.label !== 'cross'));
    expect(Object.keys(model.predict(['angry']).probabilities).sort()).toEqual(['fine', 'low']);
  });

  it('ignores features no example had, and stays finite on very long inputs', () => {
    const model = trainBayes(DOCUMENTS);
    expect(model.predict(['sad', 'zebra'])).toEqual(model.predict(['sad']));
    const long = model.predict(Array.from({ length: 5000 }, (_, i) => (i % 2 ? 'sad' : `word${i}`)));
    expect(long.label).toBe('low');
    expect(Number.isFinite(long.probability)).toBe(true);
  });

  it('reports how much each known feature favours one label over another', () => {
    const model = trainBayes(DOCUMENTS);
    const ratios = Object.fromEntries(model.logRatios!(['sad', 'walk', 'zebra'], 'low', 'fine'));
    expect(Object.keys(ratios).sort()).toEqual(['sad', 'walk']);
    expect(ratios.sad).toBeGreaterThan(0);
    expect(ratios.walk).toBeLessThan(0);
  });
});
