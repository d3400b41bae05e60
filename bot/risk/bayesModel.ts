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
  const k = labels.length;
  // One array of per-label counts per feature: a start compiles tens of thousands of features.
  const perFeature = new Map<string, Float64Array>();
  const totals = new Float64Array(k);
  counted.forEach(({ features }, c) => {
    for (const [feature, n] of features) {
      let row = perFeature.get(feature);
      if (!row) perFeature.set(feature, (row = new Float64Array(k)));
      row[c] = n;
      totals[c] = (totals[c] as number) + n;
    }
  });
  const logDenominators = [...totals].map((total) => Math.log(total + smoothing * perFeature.size));
  for (const row of perFeature.values()) {
    for (let c = 0; c < k; c++) row[c] = Math.log((row[c] as number) + smoothing) - (logDenominators[c] as number);
  }
  const logPrior = counted.map((c) => Math.log((c.examples || 1) / (examples || 1)));
  return {
    logRatios(features, label, against) {
      const a = labels.indexOf(label);
      const b = labels.indexOf(against);
      return [...new Set(features)].flatMap((f) => {
        const row = perFeature.get(f);
        return row ? [[f, (row[a] as number) - (row[b] as number)] as [string, number]] : [];
      });
    },
    predict(features) {
      const scores = [...logPrior];
      const seen = new Set<string>();
      for (const feature of features) {
        // A feature no example had says nothing about any label.
        if (seen.has(feature)) continue;
        seen.add(feature);
        const row = perFeature.get(feature);
        if (!row) continue;
        for (let c = 0; c < k; c++) scores[c] = (scores[c] as number) + (row[c] as number);
      }
      let best = 0;
      for (let c = 1; c < k; c++) if ((scores[c] as number) > (scores[best] as number)) best = c;
      const top = scores[best] as number;
      const sum = scores.reduce((acc, s) => acc + Math.exp(s - top), 0);
      const probabilities = Object.fromEntries(labels.map((label, c) => [label, Math.exp((scores[c] as number) - top) / sum])) as Record<L, number>;
      return { label: labels[best] as L, probability: 1 / sum, probabilities };
    },
  };
}
