/**
 * Six tiny labelled documents for the model tests, and what any model trained on them must get
 * right: each label's own words point to it, and probabilities are a distribution.
 */
import { expect } from '@jest/globals';
import type { TrainedModel } from '../../bot/risk/bayesModel.js';

export const TOY_LABELS = ['low', 'fine', 'cross'] as const;
export type ToyLabel = (typeof TOY_LABELS)[number];

export const TOY_DOCUMENTS: readonly { features: string[]; label: ToyLabel }[] = [
  { features: ['sad', 'alone', 'tired'], label: 'low' },
  { features: ['sad', 'cry', 'alone'], label: 'low' },
  { features: ['happy', 'walk', 'friends'], label: 'fine' },
  { features: ['walk', 'sun', 'friends', 'tired'], label: 'fine' },
  { features: ['angry', 'shout'], label: 'cross' },
  { features: ['angry', 'tired', 'shout', 'alone'], label: 'cross' },
];

export function expectLearntToyLabels(model: TrainedModel<string>): void {
  expect(model.predict(['sad', 'cry']).label).toBe('low');
  expect(model.predict(['walk', 'friends']).label).toBe('fine');
  expect(model.predict(['angry', 'shout']).label).toBe('cross');
  const { probabilities, probability, label } = model.predict(['tired', 'alone']);
  expect(Object.values(probabilities).reduce((a: number, b) => a + (b as number), 0)).toBeCloseTo(1, 10);
  expect(probabilities[label]).toBe(probability);
}
