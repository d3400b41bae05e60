/**
 * The screen itself: lexicon phrases (with misspellings, negation and idioms handled) decide
 * when they match; the Bayes model trained on the examples decides the indirect rest.
 *
 * Negation is our own, because natural's tokenisers split "don't" into "don" and "t": a cue
 * ("not", "never") cancels a phrase that starts within NEGATION_WINDOW words after it, in the
 * same clause, unless the phrase carries its own negation ("no reason to live") or the cue is
 * part of a pseudo-negation ("can't stop thinking about"). For the model, words in a cue's
 * scope become "not_<stem>", so "want to die" and "don't want to die" are different evidence.
 *
 * Context: a crisis phrase told about the past, someone else, the news, or asked about as a
 * topic ("what is self harm") is held back, and counts only if the model reads the message (for
 * the past and other people: the message without the phrase) as that category, so "my brother
 * took an overdose years ago" is not a crisis and "years ago i cut myself, now i want to again" is.
 */
import type { RiskAssessment, RiskCategory, RiskLevel, RiskScreen } from './riskScreen.js';
import { NO_RISK } from './riskScreen.js';
import type { LexiconCategory, RiskData } from './riskData.js';
import { clausesOf, phraseWords } from './normalise.js';
import { stemsOf, WordResolver } from './wordResolver.js';
import { PhraseIndex, type PhraseMatch } from './phraseIndex.js';
import { compileBayes, countBayes, type BayesCounts, type TrainedModel } from './bayesModel.js';
import { shouldEscalate, higherLevel } from './riskPolicy.js';

/** A cue cancels a phrase whose first word is at most this many words after it. */
export const NEGATION_WINDOW = 4;
/**
 * Negative-polarity words that only occur in a negation's scope and so carry it further: in
 * "i do not have any plans to end my life" the window counts on from "any".
 */
const SCOPE_EXTENDERS = ['any'];
/** Forms of "be": a phrase followed by one and a cue is negated ("suicide is not an option"). */
const COPULAS = ['is', 'are', 'was', 'were', 'be'];
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

/**
 * A crisis phrase said in a distancing context (the past, someone else, the news, a question
 * about the topic) counts only if the model, which learnt those contexts from the examples,
 * gives its category at least this probability.
 */
export const DISTANCED_MODEL_MIN = 0.5;
/** First-person words: a phrase with one of these is about the writer, whoever else is named. */
const FIRST_PERSON = ['i', 'me', 'my', 'myself', 'mine'];
/** The writer as a subject or object: between someone else and a phrase, it makes the phrase the writer's again. */
const FIRST_PERSON_SUBJECT = ['i', 'me', 'myself'];
/** Categories a distancing context applies to; a third person only ever distances suicide. */
const DISTANCEABLE: ReadonlySet<LexiconCategory> = new Set(['suicide', 'child_at_risk', 'distress']);
/** How far into a clause a topic question may start ("ok so what is ..."). */
const TOPIC_QUESTION_START = 2;

/** A phrase in a distancing context, and whether the model judges the message without it. */
interface Distanced {
  readonly category: LexiconCategory;
  readonly level: RiskLevel;
  readonly withoutPhrase: boolean;
}

type Marker = 'negation' | 'pseudo' | 'idiom' | 'imminent' | 'high' | 'distancer' | 'other' | 'topic' | 'current';
interface LexiconTag {
  readonly category: LexiconCategory;
  readonly level: RiskLevel;
  readonly negatedWithin: boolean;
}

/**
 * What a screen learnt from its data's examples: the words they use and the model's counts.
 * The same data always gives the same, and learning it is most of the time a screen takes to
 * build, so loadRiskScreen.ts keeps it between starts.
 */
export interface LearntFromExamples {
  /** Every word of the lexicon and the examples, with its stem. */
  readonly knownStems: readonly (readonly [string, string])[];
  readonly model: BayesCounts<RiskCategory>;
}

export interface RiskClassifierOptions {
  readonly thresholds?: Readonly<Record<LexiconCategory, number>>;
  readonly minModelWords?: number;
  /** `learnt` of an earlier screen built on exactly this data: used instead of learning it again. */
  readonly learnt?: LearntFromExamples;
}

export function createRiskClassifier(
  data: RiskData,
  options: RiskClassifierOptions = {},
): RiskScreen & { features(text: string): string[]; explain(text: string): unknown; readonly learnt: LearntFromExamples } {
  const screen = new Screen(data, options.thresholds ?? MODEL_THRESHOLDS, options.minModelWords ?? MODEL_MIN_WORDS, options.learnt);
  return {
    screen: (text) => screen.assess(text),
    features: (text) => screen.analyse(text).features,
    explain: (text) => screen.explain(text),
    learnt: screen.learnt,
  };
}

class Screen {
  private readonly resolver: WordResolver;
  private readonly lexicon: PhraseIndex<LexiconTag>;
  private readonly markers: PhraseIndex<Marker>;
  private readonly model: TrainedModel<RiskCategory>;
  private readonly firstPerson: ReadonlySet<string>;
  private readonly firstPersonSubject: ReadonlySet<string>;
  private readonly copulas: ReadonlySet<string>;
  private readonly scopeExtenders: ReadonlySet<string>;
  readonly learnt: LearntFromExamples;

  constructor(
    data: RiskData,
    private readonly thresholds: Readonly<Record<LexiconCategory, number>>,
    private readonly minModelWords: number,
    learnt?: LearntFromExamples,
  ) {
    const negationWords = new Set(data.negations.flatMap(phraseWords));
    const lexiconEntries = PRIORITY.flatMap((category) => data.lexicon[category].map((e) => ({ ...e, category, words: phraseWords(e.phrase) })));
    const markerEntries: { words: string[]; tag: Marker }[] = [
      ...data.negations.map((p) => ({ words: phraseWords(p), tag: 'negation' as const })),
      ...data.pseudoNegations.map((p) => ({ words: phraseWords(p), tag: 'pseudo' as const })),
      ...data.idioms.map((p) => ({ words: phraseWords(p), tag: 'idiom' as const })),
      ...data.raisers.imminent.map((p) => ({ words: phraseWords(p), tag: 'imminent' as const })),
      ...data.raisers.high.map((p) => ({ words: phraseWords(p), tag: 'high' as const })),
      ...data.context.distancers.map((p) => ({ words: phraseWords(p), tag: 'distancer' as const })),
      ...data.context.otherPeople.map((p) => ({ words: phraseWords(p), tag: 'other' as const })),
      ...data.context.topicQuestions.map((p) => ({ words: phraseWords(p), tag: 'topic' as const })),
      ...data.context.current.map((p) => ({ words: phraseWords(p), tag: 'current' as const })),
    ];

    const anchors = [...lexiconEntries, ...markerEntries].flatMap((e) => e.words);
    const knownStems = learnt?.knownStems ?? stemsOf([...anchors, ...data.examples.flatMap((e) => clausesOf(e.text).flat())]);
    this.resolver = new WordResolver(knownStems, anchors);
    const stems = (words: string[]) => words.map((w) => this.resolver.stem(w));
    this.firstPerson = new Set(stems(FIRST_PERSON));
    this.firstPersonSubject = new Set(stems(FIRST_PERSON_SUBJECT));
    this.copulas = new Set(stems(COPULAS));
    this.scopeExtenders = new Set(stems([...SCOPE_EXTENDERS]));
    this.lexicon = new PhraseIndex(
      lexiconEntries.map((e) => ({
        stems: stems(e.words),
        tag: { category: e.category, level: e.level, negatedWithin: e.words.some((w) => negationWords.has(w)) },
      })),
    );
    // Markers are fixed expressions: no words may come between their words.
    this.markers = new PhraseIndex(markerEntries.map((e) => ({ stems: stems(e.words), tag: e.tag })), 0);
    const counts = learnt?.model ?? countBayes(data.examples.map((e) => ({ features: this.analyse(e.text).features, label: e.category })));
    this.model = compileBayes(counts);
    this.learnt = { knownStems, model: counts };
  }

  assess(text: string): RiskAssessment {
    const { hits, distanced, raisers, features, words } = this.analyse(text);
    const whole = this.model.predict(features);
    // A phrase in a distancing context counts only when the model, too, reads the category: in the
    // whole message for a topic question ("whats the point of living" still reads as suicide), in
    // the rest of it, without the phrase, for the past or someone else (does anything else say "now"?).
    // A phrase set in the past or in someone else's life is no evidence of now for the model either.
    const prediction = distanced.some((d) => d.withoutPhrase) ? this.model.predict(this.analyse(text, true).features) : whole;
    for (const { category: c, level: l, withoutPhrase } of distanced) {
      if (((withoutPhrase ? prediction : whole).probabilities[c] ?? 0) >= DISTANCED_MODEL_MIN) hits.set(c, higherLevel(hits.get(c) ?? 'none', l));
    }
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

  /** What decided: for debugging and tests, never on the hot path. */
  explain(text: string): unknown {
    const { hits, distanced, raisers, features } = this.analyse(text);
    const p = this.model.predict(features);
    const probabilities = Object.fromEntries(Object.entries(p.probabilities).map(([k, v]) => [k, Math.round((v as number) * 1000) / 1000]));
    const ratios = this.model.logRatios?.(features, p.label === 'none' ? 'suicide' : p.label, 'none').map(([f, r]) => `${f}:${r.toFixed(1)}`);
    return { ratios, hits: Object.fromEntries(hits), distanced, raisers: [...raisers], probabilities, result: this.assess(text) };
  }

  /** Lexicon hits (highest level per category), raisers present, and the model's features. */
  analyse(
    text: string,
    withoutDistancedPhrases = false,
  ): {
    hits: Map<LexiconCategory, RiskLevel>;
    distanced: Distanced[];
    raisers: Set<Marker>;
    features: string[];
    words: number;
  } {
    let words = 0;
    const hits = new Map<LexiconCategory, RiskLevel>();
    const distanced: Distanced[] = [];
    const raisers = new Set<Marker>();
    const features: string[] = [];
    const clauses = clausesOf(text).map((clause) => {
      const stems = clause.map((w) => this.resolver.stem(w));
      return { stems, markers: this.markers.find(stems) };
    });
    // "again", "now", "still" anywhere in the message: what is said is going on now.
    let current = false;
    for (const { stems, markers } of clauses) {
      words += stems.length;
      const masked = positionsOf(markers, 'idiom');
      const cues = markers.filter((m) => m.phrase.tag === 'negation' && !masked.has(m.start));
      // ... unless part of a distancer or right after one ("doing better now", "behind me now") or negated ("not now").
      const distancing = positionsOf(markers, 'distancer');
      for (const m of markers) if (m.phrase.tag === 'distancer') distancing.add(m.end + 1);
      current ||= markers.some(
        (m) => m.phrase.tag === 'current' && !masked.has(m.start) && !distancing.has(m.start) && !cues.some(({ end }) => end < m.start && m.start - end <= NEGATION_WINDOW),
      );
    }
    for (const { stems, markers } of clauses) {
      const masked = positionsOf(markers, 'idiom');
      const pseudo = positionsOf(markers, 'pseudo');
      const cues = markers.filter((m) => m.phrase.tag === 'negation' && !pseudo.has(m.start) && !masked.has(m.start));
      // "any" in a cue's scope carries it on: "i do not have any plans at all to end my life".
      const scopeEnds = cues.map(({ end }) => {
        let last = end;
        for (let i = end + 1; i < stems.length && i - last <= NEGATION_WINDOW; i++) if (this.scopeExtenders.has(stems[i] as string)) last = i;
        return { end, last };
      });
      const negatedAt = (start: number) => scopeEnds.some(({ end, last }) => end < start && start - last <= NEGATION_WINDOW);
      // "am not suicidal" matches "am suicidal" with "not" in the gap: that negates it too.
      const negatedInGap = (match: PhraseMatch<LexiconTag>) =>
        cues.some(({ start }) => start > match.start && start < match.end && !match.positions.includes(start));

      // Context: the past, the news, someone else ("my stash" is still mine), a question about the topic.
      const pastClause = !current && markers.some((m) => m.phrase.tag === 'distancer' && !masked.has(m.start));
      const topicClause = !current && markers.some((m) => m.phrase.tag === 'topic' && m.start <= TOPIC_QUESTION_START && !masked.has(m.start));
      const others = current ? [] : markers.filter((m) => m.phrase.tag === 'other' && !masked.has(m.start));
      const aboutSomeoneElse = (match: PhraseMatch<LexiconTag>) =>
        !match.positions.some((p) => this.firstPerson.has(stems[p] as string)) &&
        !this.firstPerson.has(stems[match.start - 1] as string) &&
        others.some(({ end }) => end < match.start && !stems.slice(end + 1, match.start).some((s) => this.firstPersonSubject.has(s)));

      // "suicide is not an option", "killing myself isnt on the cards": a phrase as the subject of a negated "be".
      const negatedAfter = (match: PhraseMatch<LexiconTag>) =>
        this.copulas.has(stems[match.end + 1] as string) && cues.some(({ start }) => start === match.end + 2);

      const negatedPositions = new Set<number>();
      const dropped = new Set<number>();
      for (const match of this.lexicon.find(stems, masked)) {
        const { category, level, negatedWithin } = match.phrase.tag;
        if (!negatedWithin && negatedAfter(match)) match.positions.forEach((p) => negatedPositions.add(p));
        if (!negatedWithin && (negatedAt(match.start) || negatedInGap(match) || negatedAfter(match))) continue;
        if (!DISTANCEABLE.has(category)) hits.set(category, higherLevel(hits.get(category) ?? 'none', level));
        else if (pastClause || (category === 'suicide' && aboutSomeoneElse(match))) {
          distanced.push({ category, level, withoutPhrase: true });
          match.positions.forEach((p) => dropped.add(p));
        } else if (topicClause) distanced.push({ category, level, withoutPhrase: false });
        else hits.set(category, higherLevel(hits.get(category) ?? 'none', level));
      }
      for (const match of markers) {
        const tag = match.phrase.tag;
        if ((tag === 'imminent' || tag === 'high') && !masked.has(match.start) && !negatedAt(match.start)) raisers.add(tag);
      }

      let previous: string | undefined;
      stems.forEach((stem, i) => {
        if (masked.has(i) || (withoutDistancedPhrases && dropped.has(i))) {
          previous = undefined;
          return;
        }
        const feature = negatedAt(i) || negatedPositions.has(i) ? `not_${stem}` : stem;
        features.push(feature);
        if (previous !== undefined) features.push(`${previous}+${feature}`);
        previous = feature;
      });
      if (masked.size > 0) features.push('<idiom>');
    }
    return { hits, distanced, raisers, features, words };
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
