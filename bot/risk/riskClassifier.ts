/**
 * The screen itself. The lexicon finds its phrases (with misspellings, negation, idioms and
 * context handled); a learnt model, logistic regression blended with naive Bayes, reads the words
 * of the message, their word clusters (wordClusters.ts) and what the lexicon found, and names the
 * category. A lexicon phrase the model does not back still counts unless the model is fairly sure
 * the message is ordinary: the lexicon is the clinicians' say, the model what thousands of
 * examples taught.
 *
 * Negation is our own, because natural's tokenisers split "don't" into "don" and "t": a cue
 * ("not", "never") cancels a phrase that starts within NEGATION_WINDOW words after it, in the
 * same clause, unless the phrase carries its own negation ("no reason to live") or the cue is
 * part of a pseudo-negation ("can't stop thinking about"). For the model, words in a cue's
 * scope become "not_<stem>", so "want to die" and "don't want to die" are different evidence.
 *
 * Context: a crisis phrase told about the past, someone else, the news, or asked about as a
 * topic ("what is self harm") does not count as a hit; the model sees it as "@past:" or
 * "@topic:" and learnt from the examples when such a message is still a crisis ("years ago i
 * cut myself, now i want to again").
 */
import type { RiskAssessment, RiskCategory, RiskLevel, RiskScreen } from './riskScreen.js';
import { NO_RISK } from './riskScreen.js';
import { RISK_CATEGORIES, type LexiconCategory, type RiskData } from './riskData.js';
import { clausesOf, phraseWords } from './normalise.js';
import { stemsOf, WordResolver } from './wordResolver.js';
import { PhraseIndex, type PhraseMatch } from './phraseIndex.js';
import { compileBayes, countBayes, type BayesCounts, type TrainedModel } from './bayesModel.js';
import { compileLogistic, trainLogistic, type LogisticWeights } from './logisticModel.js';
import { blendModels } from './blendedModel.js';
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
 * How sure the model must be to name a category. Chosen on the validation split
 * (tests/risk/devset/en.validation.jsonl, never learnt from): the lowest values that kept false
 * alarms on ordinary messages within the target, because a missed crisis costs far more than a
 * question the person can wave away.
 */
export const MODEL_THRESHOLDS: Readonly<Record<LexiconCategory, number>> = {
  // Higher than suicide's: ordinary talk of nephews, parks and shops, and the urgency words of a
  // suicide message ("in my room rn"), gave child_at_risk 0.3 to 0.5 and took the more urgent slot.
  child_at_risk: 0.6,
  suicide: 0.3,
  human: 0.4,
  distress: 0.5,
};
/**
 * A lexicon phrase the model does not back still counts while the model gives `none` less than
 * this. Lower for a request for a person: "counsellor" is in many questions about the service
 * that ask for no one.
 */
export const LEXICON_TRUSTED_BELOW: Readonly<Record<LexiconCategory, number>> = {
  child_at_risk: 0.5,
  suicide: 0.5,
  human: 0.3,
  distress: 0.5,
};
/**
 * Of the categories that count, the most urgent wins (README.md) unless the model gives it less
 * than this share of the likeliest one's probability and no phrase found it: then the message
 * carries one signal, not two ("bot or person? please tell honestly" is a request for a person).
 */
export const PRECEDENCE_SHARE = 0.5;
/** Where a message is cut into sentences, each also read on its own. */
const SENTENCE_BREAK = /[.!?\n]+/;
/** Shorter pieces ("ok.", "well.") carry too little to read alone. */
const SENTENCE_MIN_WORDS = 3;
/**
 * A sentence's reading counts this much against the whole message's: it has less context. Lowered
 * from 0.8 when long messages by new authors (batch 10, scored before it was learnt from) showed
 * one everyday sentence ("the bridge on my commute") raising false alarms more than a lone crisis
 * sentence needed the help.
 */
const SENTENCE_WEIGHT = 0.5;
/**
 * How much of the blended probability is the naive Bayes model's; the rest is logistic
 * regression's. Raised from 0.35 on the same evidence: on wording no example used, the Bayes
 * model's word-by-word counts generalised better than logistic regression's sharper weights.
 */
export const BAYES_SHARE = 0.5;
/** The more urgent category wins when one message carries two (README.md). */
const PRIORITY: readonly LexiconCategory[] = ['child_at_risk', 'suicide', 'human', 'distress'];
/** What the model alone can say about level: a signal without plan, means or time. */
const MODEL_LEVEL: Readonly<Record<LexiconCategory, RiskLevel>> = {
  suicide: 'low',
  child_at_risk: 'elevated',
  human: 'low',
  distress: 'low',
};

/** First-person words: a phrase with one of these is about the writer, whoever else is named. */
const FIRST_PERSON = ['i', 'me', 'my', 'myself', 'mine'];
/** The writer as a subject or object: between someone else and a phrase, it makes the phrase the writer's again. */
const FIRST_PERSON_SUBJECT = ['i', 'me', 'myself'];
/** Categories a distancing context applies to; a third person only ever distances suicide. */
const DISTANCEABLE: ReadonlySet<LexiconCategory> = new Set(['suicide', 'child_at_risk', 'distress']);
/** How far into a clause a topic question may start ("ok so what is ..."). */
const TOPIC_QUESTION_START = 2;

type Marker = 'negation' | 'pseudo' | 'idiom' | 'imminent' | 'high' | 'distancer' | 'other' | 'topic' | 'current';
interface LexiconTag {
  readonly category: LexiconCategory;
  readonly level: RiskLevel;
  readonly negatedWithin: boolean;
}

/**
 * What a screen learnt from its data's examples: the words they use and the two models. The same
 * data always gives the same, and learning it is most of the time a screen takes to build, so
 * loadRiskScreen.ts keeps it between starts.
 */
export interface LearntFromExamples {
  /** Every word of the lexicon and the examples, with its stem. */
  readonly knownStems: readonly (readonly [string, string])[];
  readonly bayes: BayesCounts<RiskCategory>;
  readonly logistic: LogisticWeights<RiskCategory>;
}

export interface RiskClassifierOptions {
  readonly thresholds?: Readonly<Record<LexiconCategory, number>>;
  readonly lexiconTrustedBelow?: Readonly<Record<LexiconCategory, number>>;
  /** `learnt` of an earlier screen built on exactly this data: used instead of learning it again. */
  readonly learnt?: LearntFromExamples;
}

export function createRiskClassifier(
  data: RiskData,
  options: RiskClassifierOptions = {},
): RiskScreen & { features(text: string): string[]; explain(text: string): unknown; readonly learnt: LearntFromExamples } {
  const screen = new Screen(data, options.thresholds ?? MODEL_THRESHOLDS, options.lexiconTrustedBelow ?? LEXICON_TRUSTED_BELOW, options.learnt);
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
  private readonly clusters: ReadonlyMap<string, number>;
  readonly learnt: LearntFromExamples;

  constructor(
    data: RiskData,
    private readonly thresholds: Readonly<Record<LexiconCategory, number>>,
    private readonly lexiconTrustedBelow: Readonly<Record<LexiconCategory, number>>,
    learnt?: LearntFromExamples,
  ) {
    const negationWords = new Set(data.negations.flatMap(phraseWords));
    this.clusters = new Map(data.wordClusters);
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
    const knownStems = learnt?.knownStems ?? knownWords(anchors, data.examples);
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
    const documents = learnt ? [] : data.examples.map((e) => ({ features: this.analyse(e.text).features, label: e.category }));
    const bayes = learnt?.bayes ?? countBayes(documents);
    const logistic = learnt?.logistic ?? trainLogistic(documents, RISK_CATEGORIES);
    this.model = blendModels(compileLogistic(logistic), compileBayes(bayes), BAYES_SHARE);
    this.learnt = { knownStems, bayes, logistic };
  }

  assess(text: string): RiskAssessment {
    const { hits, raisers, features } = this.analyse(text);
    const p = { ...this.model.predict(features).probabilities };
    // A crisis said in one sentence of a long message is not diluted by the rest of it: each
    // sentence is also read on its own, and its reading counts a little less than the whole's.
    const sentences = text.split(SENTENCE_BREAK).filter((s) => s.trim().split(/\s+/).length >= SENTENCE_MIN_WORDS);
    if (sentences.length > 1) {
      for (const sentence of sentences) {
        const q = this.model.predict(this.analyse(sentence).features).probabilities;
        for (const c of PRIORITY) p[c] = Math.max(p[c] ?? 0, SENTENCE_WEIGHT * (q[c] ?? 0));
      }
    }
    // The most urgent of the categories the model is sure enough of and those a lexicon phrase
    // found; the phrases count unless the model is fairly sure the message is ordinary (it learnt
    // the idioms and contexts a phrase list cannot enumerate).
    const none = p.none ?? 0;
    const counting = PRIORITY.filter((c) => (p[c] ?? 0) >= this.thresholds[c] || (none < this.lexiconTrustedBelow[c] && hits.has(c)));
    if (counting.length === 0) return NO_RISK;
    const likeliest = Math.max(...counting.map((c) => p[c] ?? 0));
    const category = counting.find((c) => hits.has(c) || (p[c] ?? 0) >= PRECEDENCE_SHARE * likeliest) as LexiconCategory;
    let level = hits.get(category) ?? MODEL_LEVEL[category];
    if (category === 'suicide' || category === 'child_at_risk') {
      if (raisers.has('imminent')) level = 'imminent';
      else if (raisers.has('high')) level = higherLevel(level, 'high');
    }
    return Object.freeze({ category, level, escalate: shouldEscalate(category, level) });
  }

  /** What decided: for debugging and tests, never on the hot path. */
  explain(text: string): unknown {
    const { hits, raisers, features } = this.analyse(text);
    const p = this.model.predict(features);
    const probabilities = Object.fromEntries(Object.entries(p.probabilities).map(([k, v]) => [k, Math.round((v as number) * 1000) / 1000]));
    const ratios = this.model.logRatios?.(features, p.label === 'none' ? 'suicide' : p.label, 'none').map(([f, r]) => `${f}:${r.toFixed(1)}`);
    return { ratios, hits: Object.fromEntries(hits), raisers: [...raisers], probabilities, result: this.assess(text) };
  }

  /**
   * Lexicon hits (highest level per category), raisers present, and the model's features: the
   * words (a negated word as "not_<stem>"), word pairs, and what the lexicon found, where and how
   * ("@hit:suicide", "@neg:suicide" for a negated phrase, "@past:suicide" for one told about the
   * past or someone else, "@topic:suicide" in a question about the topic), so that the model
   * learns from the examples how far to trust each finding.
   */
  analyse(text: string): { hits: Map<LexiconCategory, RiskLevel>; raisers: Set<Marker>; features: string[] } {
    const hits = new Map<LexiconCategory, RiskLevel>();
    const raisers = new Set<Marker>();
    const features: string[] = [];
    const signals = new Set<string>();
    const clauses = clausesOf(text).map((words) => {
      const stems = words.map((w) => this.resolver.stem(w));
      return { words, stems, markers: this.markers.find(stems) };
    });
    // "again", "now", "still" anywhere in the message: what is said is going on now.
    let current = false;
    for (const { markers } of clauses) {
      const masked = positionsOf(markers, 'idiom');
      const cues = markers.filter((m) => m.phrase.tag === 'negation' && !masked.has(m.start));
      // ... unless part of a distancer or right after one ("doing better now", "behind me now") or negated ("not now").
      const distancing = positionsOf(markers, 'distancer');
      for (const m of markers) if (m.phrase.tag === 'distancer') distancing.add(m.end + 1);
      current ||= markers.some(
        (m) => m.phrase.tag === 'current' && !masked.has(m.start) && !distancing.has(m.start) && !cues.some(({ end }) => end < m.start && m.start - end <= NEGATION_WINDOW),
      );
    }
    for (const { words, stems, markers } of clauses) {
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
      for (const match of this.lexicon.find(stems, masked)) {
        const { category, level, negatedWithin } = match.phrase.tag;
        if (!negatedWithin && negatedAfter(match)) match.positions.forEach((p) => negatedPositions.add(p));
        if (!negatedWithin && (negatedAt(match.start) || negatedInGap(match) || negatedAfter(match))) {
          signals.add(`@neg:${category}`);
          continue;
        }
        if (!DISTANCEABLE.has(category)) hits.set(category, higherLevel(hits.get(category) ?? 'none', level));
        else if (pastClause || (category === 'suicide' && aboutSomeoneElse(match))) signals.add(`@past:${category}`);
        else if (topicClause) signals.add(`@topic:${category}`);
        else hits.set(category, higherLevel(hits.get(category) ?? 'none', level));
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
        const negated = negatedAt(i) || negatedPositions.has(i);
        const feature = negated ? `not_${stem}` : stem;
        features.push(feature);
        const cluster = this.clusters.get(words[i] as string);
        if (cluster !== undefined) features.push(negated ? `not_@k${cluster}` : `@k${cluster}`);
        if (previous !== undefined) features.push(`${previous}+${feature}`);
        previous = feature;
      });
      if (masked.size > 0) features.push('<idiom>');
    }
    for (const [c, l] of hits) signals.add(`@hit:${c}`).add(`@hit:${c}:${l}`);
    for (const r of raisers) signals.add(`@raise:${r}`);
    if (current) signals.add('@current');
    features.push(...signals);
    return { hits, raisers, features };
  }
}

/**
 * The stem of every word of the lexicon and the examples. Words of the lexicon and of ordinary
 * (`none`) examples are taken as spelt ("dad" is not "dead", "lovely" not "lonely"); a word only
 * the crisis examples use may be a misspelling a writer of examples put there on purpose ("kil
 * myself", "suicde"), so it gets the stem of the lexicon word it is closest to, as it would in a
 * message, and the model learns from the same features the screen will see.
 */
function knownWords(anchors: readonly string[], examples: RiskData['examples']): [string, string][] {
  const wordsOf = (category?: RiskCategory) => examples.filter((e) => (category === undefined ? e.category !== 'none' : e.category === category)).flatMap((e) => clausesOf(e.text).flat());
  const spelt = stemsOf([...anchors, ...wordsOf('none')]);
  const resolver = new WordResolver(spelt, anchors);
  const known = new Set(spelt.map(([word]) => word));
  return [...spelt, ...[...new Set(wordsOf())].filter((w) => !known.has(w)).map((w) => [w, resolver.stem(w)] as [string, string])];
}

function positionsOf(matches: readonly PhraseMatch<Marker>[], tag: Marker): Set<number> {
  const positions = new Set<number>();
  for (const m of matches) {
    if (m.phrase.tag !== tag) continue;
    for (let i = m.start; i <= m.end; i++) positions.add(i);
  }
  return positions;
}
