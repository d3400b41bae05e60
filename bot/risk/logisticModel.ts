/**
 * Multinomial logistic regression over sparse binary features, trained by our own few lines of
 * AdaGrad with L2. Naive Bayes (bayesModel.ts) counts every word as independent evidence, so the
 * many ordinary words of a long message drown the one that matters and a word common to two
 * categories is counted twice; logistic regression learns one weight per word and category
 * jointly, and with the lexicon's findings among its features it learns how far to trust each.
 *
 * Training is deterministic (a fixed-seed shuffle), so the same examples always give the same
 * weights and what was learnt can be kept between starts (loadRiskScreen.ts).
 */
import type { Prediction, TrainedModel } from './bayesModel.js';

/** What training learnt, as plain data. */
export interface LogisticWeights<L extends string> {
  readonly labels: readonly L[];
  readonly bias: readonly number[];
  /** Per feature, one weight per label in `labels` order. */
  readonly weights: readonly (readonly [string, readonly number[]])[];
}

/** Passes over the examples, AdaGrad's base step, and the L2 penalty per update that keeps rare words' weights small. */
const EPOCHS = 30;
const LEARNING_RATE = 0.5;
const L2 = 1e-4;

export function trainLogistic<L extends string>(
  documents: readonly { features: readonly string[]; label: L }[],
  labels: readonly L[],
): LogisticWeights<L> {
  const k = labels.length;
  const index = new Map<string, number>();
  const docs = documents.map(({ features, label }) => ({
    features: [...new Set(features)].map((f) => {
      let i = index.get(f);
      if (i === undefined) index.set(f, (i = index.size));
      return i;
    }),
    label: labels.indexOf(label),
  }));
  const w = new Float64Array(index.size * k);
  const g2 = new Float64Array(index.size * k).fill(1e-8);
  const bias = new Float64Array(k);
  const biasG2 = new Float64Array(k).fill(1e-8);
  const scores = new Float64Array(k);
  const order = docs.map((_, i) => i);
  // Each category's examples weigh as much in all as any other's, so the one with the most
  // examples does not win every close call: after 800 more child-at-risk examples, messages about
  // suicide began to read as a child at risk.
  const perLabel = labels.map((_, c) => docs.filter((d) => d.label === c).length);
  const weight = perLabel.map((n) => (n === 0 ? 0 : docs.length / (k * n)));
  let seed = 0x9e3779b9;
  const random = () => {
    // xorshift32: a fixed sequence, so training is repeatable.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (const d of order) {
      const { features, label } = docs[d]!;
      for (let c = 0; c < k; c++) {
        let s = bias[c] as number;
        for (const f of features) s += w[f * k + c] as number;
        scores[c] = s;
      }
      softmaxInPlace(scores);
      for (let c = 0; c < k; c++) {
        const gradient = ((scores[c] as number) - (c === label ? 1 : 0)) * (weight[label] as number);
        biasG2[c] = (biasG2[c] as number) + gradient * gradient;
        bias[c] = (bias[c] as number) - (LEARNING_RATE * gradient) / Math.sqrt(biasG2[c] as number);
        for (const f of features) {
          const at = f * k + c;
          const g = gradient + L2 * (w[at] as number);
          g2[at] = (g2[at] as number) + g * g;
          w[at] = (w[at] as number) - (LEARNING_RATE * g) / Math.sqrt(g2[at] as number);
        }
      }
    }
  }
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return {
    labels: [...labels],
    bias: [...bias].map(round),
    weights: [...index].map(([feature, i]) => [feature, [...w.subarray(i * k, i * k + k)].map(round)] as const),
  };
}

export function compileLogistic<L extends string>({ labels, bias, weights }: LogisticWeights<L>): TrainedModel<L> {
  const byFeature = new Map(weights.map(([f, ws]) => [f, Float64Array.from(ws)]));
  const k = labels.length;
  return {
    predict(features): Prediction<L> {
      const scores = Float64Array.from(bias);
      const seen = new Set<string>();
      for (const feature of features) {
        if (seen.has(feature)) continue;
        seen.add(feature);
        const ws = byFeature.get(feature);
        if (!ws) continue;
        for (let c = 0; c < k; c++) scores[c] = (scores[c] as number) + (ws[c] as number);
      }
      softmaxInPlace(scores);
      let best = 0;
      for (let c = 1; c < k; c++) if ((scores[c] as number) > (scores[best] as number)) best = c;
      const probabilities = Object.fromEntries(labels.map((label, c) => [label, scores[c] as number])) as Record<L, number>;
      return { label: labels[best] as L, probability: scores[best] as number, probabilities };
    },
    logRatios(features, label, against) {
      const a = labels.indexOf(label);
      const b = labels.indexOf(against);
      return [...new Set(features)].flatMap((f) => {
        const ws = byFeature.get(f);
        return ws ? [[f, (ws[a] as number) - (ws[b] as number)] as [string, number]] : [];
      });
    },
  };
}

function softmaxInPlace(scores: Float64Array): void {
  let top = -Infinity;
  for (const s of scores) if (s > top) top = s;
  let sum = 0;
  for (let c = 0; c < scores.length; c++) sum += scores[c] = Math.exp((scores[c] as number) - top);
  for (let c = 0; c < scores.length; c++) scores[c] = (scores[c] as number) / sum;
}
