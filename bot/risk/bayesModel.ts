/**
 * The learnt half of the screen: a naive Bayes model trained with natural on the labelled
 * examples. It catches the indirect wording no phrase list can enumerate ("everyone would be
 * better off", "i offered to babysit and i know why").
 *
 * natural counts, in which examples of each label each feature occurs. Scoring is ours:
 * multinomial naive Bayes with add-one smoothing over those counts, in log space and over the
 * message's own features only. natural's own classify() scores presence without absence
 * (which favours small labels for any common word), builds a vocabulary-long vector for every
 * message (too slow for a screen on every turn) and multiplies probabilities until long
 * messages underflow to zero.
 */
// The one classifier by its own file: natural's classifiers index also loads maximum-entropy
// part-of-speech corpora, which cost every start a tenth of a second or more.
import BayesClassifier from 'natural/lib/natural/classifiers/bayes_classifier.js';

export interface Prediction<L extends string> {
  readonly label: L;
  /** Posterior probability of `label` among all labels, 0..1. */
  readonly probability: number;
  /** Posterior probability of every label. */
  readonly probabilities: Readonly<Record<L, number>>;
}

export interface TrainedModel<L extends string> {
  predict(features: readonly string[]): Prediction<L>;
  /** Each known feature's log-likelihood ratio of `label` against `against`. */
  logRatios?(features: readonly string[], label: L, against: L): [string, number][];
}

/**
 * What training counted, as plain data: a model can be kept between starts (loadRiskScreen.ts)
 * and compiled again to exactly the same numbers.
 */
export interface BayesCounts<L extends string> {
  readonly smoothing: number;
  /** How many examples there were in all. */
  readonly examples: number;
  /** Per label, in the order natural first saw them: its examples, and in how many of them each feature occurs. */
  readonly labels: readonly { readonly label: L; readonly examples: number; readonly features: readonly (readonly [string, number])[] }[];
}

export function trainBayes<L extends string>(documents: readonly { features: readonly string[]; label: L }[]): TrainedModel<L> {
  return compileBayes(countBayes(documents));
}

export function countBayes<L extends string>(documents: readonly { features: readonly string[]; label: L }[]): BayesCounts<L> {
  const natural = new BayesClassifier();
  const model = natural.classifier;
  for (const { features, label } of documents) {
    // A sparse observation (index -> feature) keeps the counts keyed by feature, not by a position
    // in a vocabulary-long vector: training stays fast with thousands of features.
    model.addExample(Object.fromEntries([...new Set(features)].map((f, i) => [i, f])), label);
  }
  model.train();
  const smoothing = model.smoothing;
  return {
    smoothing,
    examples: documents.length,
    // natural (apparatus) counts examples per label only on its dense path: count them here.
    // It stores a feature's first sighting as 1 + smoothing; take the smoothing back off for raw document counts.
    labels: (Object.keys(model.classFeatures) as L[]).map((label) => ({
      label,
      examples: documents.filter((d) => d.label === label).length,
      features: Object.entries(model.classFeatures[label] ?? {}).map(([f, n]) => [f, n - smoothing] as const),
    })),
  };
}

export function compileBayes<L extends string>({ smoothing, examples, labels: counted }: BayesCounts<L>): TrainedModel<L> {
  const labels = counted.map(({ label }) => label);
  const counts = counted.map(({ features }) => new Map(features));
  const vocabulary = new Set(counts.flatMap((c) => [...c.keys()]));
  const denominators = counts.map((c) => [...c.values()].reduce((a, b) => a + b, 0) + smoothing * vocabulary.size);
  const logPrior = counted.map((c) => Math.log((c.examples || 1) / (examples || 1)));
  const logLikelihood = counts.map((c, k) => {
    const denominator = denominators[k] as number;
    return new Map([...vocabulary].map((f) => [f, Math.log(((c.get(f) ?? 0) + smoothing) / denominator)]));
  });
  return {
    logRatios(features, label, against) {
      const a = labels.indexOf(label);
      const b = labels.indexOf(against);
      return [...new Set(features)].filter((f) => vocabulary.has(f)).map((f) => [f, (logLikelihood[a]?.get(f) as number) - (logLikelihood[b]?.get(f) as number)]);
    },
    predict(features) {
      const scores = [...logPrior];
      const seen = new Set<string>();
      for (const feature of features) {
        // A feature no example had says nothing about any label.
        if (seen.has(feature) || !vocabulary.has(feature)) continue;
        seen.add(feature);
        for (let k = 0; k < labels.length; k++) scores[k] = (scores[k] as number) + (logLikelihood[k]?.get(feature) as number);
      }
      let best = 0;
      for (let k = 1; k < scores.length; k++) if ((scores[k] as number) > (scores[best] as number)) best = k;
      const top = scores[best] as number;
      const sum = scores.reduce((acc, s) => acc + Math.exp(s - top), 0);
      const probabilities = Object.fromEntries(labels.map((label, k) => [label, Math.exp((scores[k] as number) - top) / sum])) as Record<L, number>;
      return { label: labels[best] as L, probability: 1 / sum, probabilities };
    },
  };
}
