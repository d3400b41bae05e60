/**
 * Two models' probabilities averaged. Logistic regression weighs words jointly and is the sharper
 * of the two; naive Bayes, counting each word on its own, still speaks for a message whose one
 * telling word logistic regression learnt little about. On the validation split the blend missed
 * fewer crises than either alone at the same rate of false alarms.
 */
import type { Prediction, TrainedModel } from './bayesModel.js';

export function blendModels<L extends string>(main: TrainedModel<L>, other: TrainedModel<L>, otherShare: number): TrainedModel<L> {
  return {
    predict(features): Prediction<L> {
      const a = main.predict(features).probabilities;
      const b = other.predict(features).probabilities;
      const labels = Object.keys(a) as L[];
      const probabilities = Object.fromEntries(labels.map((l) => [l, (1 - otherShare) * a[l] + otherShare * (b[l] ?? 0)])) as Record<L, number>;
      const label = labels.reduce((x, y) => (probabilities[x] >= probabilities[y] ? x : y));
      return { label, probability: probabilities[label], probabilities };
    },
    logRatios: main.logRatios,
  };
}
