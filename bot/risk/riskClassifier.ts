/**
 * The screen itself: lexicon phrases (with misspellings, negation and idioms handled) decide
 * when they match; the Bayes model trained on the examples decides the indirect rest.
 *
 * Negation is our own, because natural's tokenisers split "don't" into "don" and "t": a cue
 * ("not", "never") cancels a phrase that starts within NEGATION_WINDOW words after it, in the
 * same clause, unless the phrase carries its own negation ("no reason to live") or the cue is
 * part of a pseudo-negation ("can't stop thinking about"). For the model, words in a cue's
 * scope become "not_<stem>", so "want to die" and "don't want to die" are different evidence.
 */
import type { RiskAssessment, RiskCategory, RiskLevel, RiskScreen } from './riskScreen.js';
import { NO_RISK } from './riskScreen.js';
import type { LexiconCategory, RiskData } from './riskData.js';
import { clausesOf, phraseWords } from './normalise.js';
import { WordResolver } from './wordResolver.js';
import { PhraseIndex, type PhraseMatch } from './phraseIndex.js';
import { trainBayes, type TrainedModel } from './bayesModel.js';
import { shouldEscalate, higherLevel } from './riskPolicy.js';

/** A cue cancels a phrase whose first word is at most this many words after it. */
export const NEGATION_WINDOW = 4;
/**
 * How sure the model alone must be before it names a category. Chosen by cross-validation on
 * the tune split: lower values found a few more crises and flagged many more ordinary answers.
 */
export const MODEL_THRESHOLDS: Readonly<Record<LexiconCategory, number>> = {
  child_at_risk: 0.6,
  suicide: 0.6,
  human: 0.6,
  distress: 0.6,
};
/**
 * The model alone decides nothing on fewer words than this: a button label or a one-word answer
 * ("done", "11") carries too little evidence, and a real crisis in so few words is in the lexicon.
 */
export const MODEL_MIN_WORDS = 3;
/** How sure the model must be to overrule a phrase that said only "a person" or "distress". */
const MODEL_OVERRULE_PROBABILITY = 0.9;
/** The more urgent category wins when one message carries two (README.md). */
const PRIORITY: readonly LexiconCategory[] = ['child_at_risk', 'suicide', 'human', 'distress'];
/** What the model alone can say about level: a signal without plan, means or time. */
const MODEL_LEVEL: Readonly<Record<LexiconCategory, RiskLevel>> = {
  suicide: 'low',
  child_at_risk: 'elevated',
  human: 'low',
  distress: 'low',
};

type Marker = 'negation' | 'pseudo' | 'idiom' | 'imminent' | 'high';
interface LexiconTag {
  readonly category: LexiconCategory;
  readonly level: RiskLevel;
  readonly negatedWithin: boolean;
}

export interface RiskClassifierOptions {
  readonly thresholds?: Readonly<Record<LexiconCategory, number>>;
  readonly minModelWords?: number;
}

export function createRiskClassifier(data: RiskData, options: RiskClassifierOptions = {}): RiskScreen & { features(text: string): string[] } {
  const screen = new Screen(data, options.thresholds ?? MODEL_THRESHOLDS, options.minModelWords ?? MODEL_MIN_WORDS);
  return {
    screen: (text) => screen.assess(text),
    features: (text) => screen.analyse(text).features,
  };
}

class Screen {
  private readonly resolver: WordResolver;
  private readonly lexicon: PhraseIndex<LexiconTag>;
  private readonly markers: PhraseIndex<Marker>;
  private readonly model: TrainedModel<RiskCategory>;

  constructor(
    data: RiskData,
    private readonly thresholds: Readonly<Record<LexiconCategory, number>>,
    private readonly minModelWords: number,
  ) {
    const negationWords = new Set(data.negations.flatMap(phraseWords));
    const lexiconEntries = PRIORITY.flatMap((category) => data.lexicon[category].map((e) => ({ ...e, category, words: phraseWords(e.phrase) })));
    const markerEntries: { words: string[]; tag: Marker }[] = [
      ...data.negations.map((p) => ({ words: phraseWords(p), tag: 'negation' as const })),
      ...data.pseudoNegations.map((p) => ({ words: phraseWords(p), tag: 'pseudo' as const })),
      ...data.idioms.map((p) => ({ words: phraseWords(p), tag: 'idiom' as const })),
      ...data.raisers.imminent.map((p) => ({ words: phraseWords(p), tag: 'imminent' as const })),
      ...data.raisers.high.map((p) => ({ words: phraseWords(p), tag: 'high' as const })),
    ];
    const anchors = [...lexiconEntries, ...markerEntries].flatMap((e) => e.words);
    const known = [...anchors, ...data.examples.flatMap((e) => clausesOf(e.text).flat())];
    this.resolver = new WordResolver(known, anchors);
    const stems = (words: string[]) => words.map((w) => this.resolver.stem(w));
    this.lexicon = new PhraseIndex(
      lexiconEntries.map((e) => ({
        stems: stems(e.words),
        tag: { category: e.category, level: e.level, negatedWithin: e.words.some((w) => negationWords.has(w)) },
      })),
    );
    // Markers are fixed expressions: no words may come between their words.
    this.markers = new PhraseIndex(markerEntries.map((e) => ({ stems: stems(e.words), tag: e.tag })), 0);
    this.model = trainBayes(data.examples.map((e) => ({ features: this.analyse(e.text).features, label: e.category })));
  }

  assess(text: string): RiskAssessment {
    const { hits, raisers, features, words } = this.analyse(text);
    const prediction = this.model.predict(features);
    // Of the categories the model is sure enough of, the likeliest.
    const modelSays = words < this.minModelWords ? undefined : PRIORITY.filter((c) => (prediction.probabilities[c] ?? 0) >= this.thresholds[c]).sort(
      (a, b) => (prediction.probabilities[b] ?? 0) - (prediction.probabilities[a] ?? 0),
    )[0];

    let category = PRIORITY.find((c) => hits.has(c));
    let level = category ? (hits.get(category) as RiskLevel) : 'none';
    const overrules =
      modelSays !== undefined &&
      (category === undefined ||
        (PRIORITY.indexOf(modelSays) < PRIORITY.indexOf(category) && (prediction.probabilities[modelSays] ?? 0) >= MODEL_OVERRULE_PROBABILITY));
    if (overrules) {
      category = modelSays;
      level = MODEL_LEVEL[modelSays];
    }
    if (!category) return NO_RISK;
    if (category === 'suicide' || category === 'child_at_risk') {
      if (raisers.has('imminent')) level = 'imminent';
      else if (raisers.has('high')) level = higherLevel(level, 'high');
    }
    return Object.freeze({ category, level, escalate: shouldEscalate(category, level) });
  }

  /** Lexicon hits (highest level per category), raisers present, and the model's features. */
  analyse(text: string): { hits: Map<LexiconCategory, RiskLevel>; raisers: Set<Marker>; features: string[]; words: number } {
    let words = 0;
    const hits = new Map<LexiconCategory, RiskLevel>();
    const raisers = new Set<Marker>();
    const features: string[] = [];
    for (const clause of clausesOf(text)) {
      words += clause.length;
      const stems = clause.map((w) => this.resolver.stem(w));
      const markers = this.markers.find(stems);
      const masked = positionsOf(markers, 'idiom');
      const pseudo = positionsOf(markers, 'pseudo');
      const cues = markers.filter((m) => m.phrase.tag === 'negation' && !pseudo.has(m.start) && !masked.has(m.start));
      const negatedAt = (start: number) => cues.some(({ end }) => end < start && start - end <= NEGATION_WINDOW);
      // "am not suicidal" matches "am suicidal" with "not" in the gap: that negates it too.
      const negatedInGap = (match: PhraseMatch<LexiconTag>) =>
        cues.some(({ start }) => start > match.start && start < match.end && !match.positions.includes(start));

      for (const match of this.lexicon.find(stems, masked)) {
        const { category, level, negatedWithin } = match.phrase.tag;
        if (!negatedWithin && (negatedAt(match.start) || negatedInGap(match))) continue;
        hits.set(category, higherLevel(hits.get(category) ?? 'none', level));
      }
      for (const match of markers) {
        const tag = match.phrase.tag;
        if ((tag === 'imminent' || tag === 'high') && !masked.has(match.start) && !negatedAt(match.start)) raisers.add(tag);
      }

      let previous: string | undefined;
      stems.forEach((stem, i) => {
        if (masked.has(i)) {
          previous = undefined;
          return;
        }
        const feature = negatedAt(i) ? `not_${stem}` : stem;
        features.push(feature);
        if (previous !== undefined) features.push(`${previous}+${feature}`);
        previous = feature;
      });
      if (masked.size > 0) features.push('<idiom>');
    }
    return { hits, raisers, features, words };
  }
}

function positionsOf(matches: readonly PhraseMatch<Marker>[], tag: Marker): Set<number> {
  const positions = new Set<number>();
  for (const m of matches) {
    if (m.phrase.tag !== tag) continue;
    for (let i = m.start; i <= m.end; i++) positions.add(i);
  }
  return positions;
}
