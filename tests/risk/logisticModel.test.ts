import { describe, expect, it } from '@jest/globals';
import { compileLogistic, trainLogistic } from '../../bot/risk/logisticModel.js';
import { blendModels } from '../../bot/risk/blendedModel.js';
import { trainBayes } from '../../bot/risk/bayesModel.js';
import { expectLearntToyLabels, TOY_DOCUMENTS, TOY_LABELS } from '../support/toyLabels.js';

const LABELS = TOY_LABELS;
const DOCUMENTS = TOY_DOCUMENTS;

describe('the logistic regression model', () => {
  it('learns which label each feature points to, with probabilities that add up to one', () => {
    expectLearntToyLabels(compileLogistic(trainLogistic(DOCUMENTS, LABELS)));
  });

  it('weighs features jointly: a word shared by two labels is not counted for both', () => {
    // "tired" is in every label: it should carry almost no weight of its own.
    const weights = new Map(trainLogistic(DOCUMENTS, LABELS).weights);
    const tired = weights.get('tired')!;
    const sad = weights.get('sad')!;
    expect(Math.max(...tired) - Math.min(...tired)).toBeLessThan(Math.max(...sad) - Math.min(...sad));
  });

  it('trains to the same weights every time, and as plain data that compiles back to the same predictions', () => {
    const a = trainLogistic(DOCUMENTS, LABELS);
    const b = trainLogistic(DOCUMENTS, LABELS);
    expect(b).toEqual(a);
    const restored = compileLogistic(JSON.parse(JSON.stringify(a)) as typeof a);
    expect(restored.predict(['sad', 'walk']).probabilities).toEqual(compileLogistic(a).predict(['sad', 'walk']).probabilities);
  });

  it('ignores features no example had and repeated features, and stays finite on very long inputs', () => {
    const model = compileLogistic(trainLogistic(DOCUMENTS, LABELS));
    expect(model.predict(['sad', 'zebra']).probabilities).toEqual(model.predict(['sad']).probabilities);
    expect(model.predict(['sad', 'sad', 'sad']).probabilities).toEqual(model.predict(['sad']).probabilities);
    const long = model.predict(Array.from({ length: 5000 }, (_, i) => (i % 2 ? 'angry' : 'shout')));
    expect(Number.isFinite(long.probability)).toBe(true);
    expect(long.label).toBe('cross');
  });
});

describe('the blend of two models', () => {
  it('averages their probabilities by the given share', () => {
    const lr = compileLogistic(trainLogistic(DOCUMENTS, LABELS));
    const nb = trainBayes(DOCUMENTS);
    const blend = blendModels(lr, nb, 0.25);
    const features = ['tired', 'alone', 'walk'];
    const p = blend.predict(features).probabilities;
    for (const label of LABELS) {
      expect(p[label]).toBeCloseTo(0.75 * lr.predict(features).probabilities[label] + 0.25 * nb.predict(features).probabilities[label], 12);
    }
    expect(Object.values(p).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(blend.predict(features).label).toBe(LABELS.reduce((x, y) => (p[x] >= p[y] ? x : y)));
  });
});
