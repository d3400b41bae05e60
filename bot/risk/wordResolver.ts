/**
 * Reduces a word to the stem the screen compares: Porter stems, so "killing" meets "kill", and
 * a misspelt word the screen has never seen ("suicde", "councellor") mapped onto the lexicon word
 * it is closest to. Nothing a person types is cached here: stems of known words are computed
 * once from the lexicon and examples, unknown words are worked out and forgotten.
 */
// File by file: natural's index files load every stemmer and measure it has (naturalFiles.d.ts).
import JaroWinklerDistance from 'natural/lib/natural/distance/jaro-winkler_distance.js';
import PorterStemmer from 'natural/lib/natural/stemmers/porter_stemmer.js';

/** As in README.md: a word this close to a lexicon word is taken as that word. */
export const FUZZY_SIMILARITY = 0.9;
/** Shorter words are too alike to guess at ("kid", "kit", "kin"). */
const FUZZY_MIN_LENGTH = 3;
const FUZZY_MAX_LENGTH_DIFFERENCE = 2;

/** Each word once, with its stem: the examples use the same few thousand words tens of thousands of times. */
export function stemsOf(words: Iterable<string>): [string, string][] {
  return [...new Set(words)].map((word) => [word, PorterStemmer.stem(word)]);
}

export class WordResolver {
  private readonly knownStems = new Map<string, string>();
  /** Lexicon words by first letter: a misspelling almost always keeps the first letter. */
  private readonly anchorsByInitial = new Map<string, { word: string; stem: string }[]>();

  /**
   * `knownStems`: every word the lexicon and examples use (never guessed at), with its stem (stemsOf);
   * `anchors`: the lexicon's own words, which a misspelling may be mapped to.
   */
  constructor(knownStems: Iterable<readonly [string, string]>, anchors: Iterable<string>) {
    for (const [word, stem] of knownStems) this.knownStems.set(word, stem);
    for (const word of new Set(anchors)) {
      if (word.length < FUZZY_MIN_LENGTH + 1) continue;
      const stem = this.knownStems.get(word) ?? PorterStemmer.stem(word);
      const initial = word[0] as string;
      const list = this.anchorsByInitial.get(initial) ?? [];
      list.push({ word, stem });
      this.anchorsByInitial.set(initial, list);
    }
  }

  stem(word: string): string {
    const known = this.knownStems.get(word);
    if (known !== undefined) return known;
    return this.closestAnchor(word) ?? PorterStemmer.stem(word);
  }

  private closestAnchor(word: string): string | undefined {
    if (word.length < FUZZY_MIN_LENGTH || /\d/.test(word)) return undefined;
    let best: string | undefined;
    let bestScore = FUZZY_SIMILARITY;
    for (const anchor of this.anchorsByInitial.get(word[0] as string) ?? []) {
      if (Math.abs(anchor.word.length - word.length) > FUZZY_MAX_LENGTH_DIFFERENCE) continue;
      const score = JaroWinklerDistance(word, anchor.word);
      if (score >= bestScore) {
        bestScore = score;
        best = anchor.stem;
      }
    }
    return best;
  }
}
