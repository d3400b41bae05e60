/**
 * Matches what a person typed to one of the offered choices, so typing works as well as
 * pressing a button ("continu", "Continue!", "2"). natural stays behind this door and bot/risk.
 */
// File by file: natural's index files load every stemmer and measure it has (bot/risk/naturalFiles.d.ts).
import JaroWinklerDistance from 'natural/lib/natural/distance/jaro-winkler_distance.js';
import PorterStemmer from 'natural/lib/natural/stemmers/porter_stemmer.js';

export interface ChoiceCandidate {
  readonly code: string;
  /** Label, code and synonyms: every way of naming this choice. */
  readonly phrases: readonly string[];
}

/** Close enough for a typo ("delte my data"), far enough apart that "yes" never becomes "yet". */
const FUZZY_THRESHOLD = 0.93;
const FUZZY_MIN_LENGTH = 5;

/** Lower-case, no punctuation or emoji, single spaces: how two spellings of one answer compare. */
export function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function stemmed(normalised: string): string {
  return normalised
    .split(' ')
    .map((word) => PorterStemmer.stem(word))
    .join(' ');
}

/**
 * Choice phrases come from the content, a small fixed set; normalising and stemming them anew on
 * every turn was a measurable share of a turn. Typed text is never kept here.
 */
const phraseForms = new Map<string, { readonly normal: string; readonly stem: string }>();
const MAX_PHRASE_FORMS = 5000;

function formsOf(phrase: string): { readonly normal: string; readonly stem: string } {
  let forms = phraseForms.get(phrase);
  if (!forms) {
    const normal = normalise(phrase);
    forms = { normal, stem: stemmed(normal) };
    if (phraseForms.size >= MAX_PHRASE_FORMS) phraseForms.clear();
    phraseForms.set(phrase, forms);
  }
  return forms;
}

/**
 * Returns the code of the choice the text names, or undefined when none does clearly.
 * Exact wording wins over stems, stems over typos; a typo that is equally close to two
 * choices matches neither, because guessing wrong is worse than asking again.
 */
export function matchChoice(text: string, candidates: readonly ChoiceCandidate[]): string | undefined {
  const typed = normalise(text);
  if (typed === '') return undefined;

  const exact = candidates.find((c) => c.phrases.some((p) => formsOf(p).normal === typed));
  if (exact) return exact.code;

  const typedStem = stemmed(typed);
  const byStem = candidates.find((c) => c.phrases.some((p) => formsOf(p).stem === typedStem));
  if (byStem) return byStem.code;

  if (typed.length < FUZZY_MIN_LENGTH) return undefined;
  let best: { code: string; score: number } | undefined;
  let tie = false;
  for (const candidate of candidates) {
    const score = Math.max(...candidate.phrases.map((p) => similarity(typed, formsOf(p).normal)));
    if (score < FUZZY_THRESHOLD) continue;
    if (!best || score > best.score) {
      best = { code: candidate.code, score };
      tie = false;
    } else if (score === best.score && best.code !== candidate.code) {
      tie = true;
    }
  }
  return best && !tie ? best.code : undefined;
}

/**
 * Jaro-Winkler of the whole text, or word by word when both have the same number of words.
 * Jaro drifts on long strings: one missing letter early in a 36-letter label ("comunities that
 * make it feel normal") scores below the threshold, as if it were another sentence.
 */
function similarity(typed: string, phrase: string): number {
  const whole = JaroWinklerDistance(typed, phrase);
  const typedWords = typed.split(' ');
  const phraseWords = phrase.split(' ');
  if (typedWords.length < 2 || typedWords.length !== phraseWords.length) return whole;
  const byWord = Math.min(...typedWords.map((word, i) => (word === phraseWords[i] ? 1 : JaroWinklerDistance(word, phraseWords[i]!))));
  return Math.max(whole, byWord);
}
