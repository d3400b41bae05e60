/**
 * Finds lexicon phrases in a clause of stems. Phrase words must come in order; up to
 * MAX_GAP other words may sit between two of them ("want to just die"), never across a clause.
 */

/** Words allowed between two words of a phrase. */
export const MAX_GAP = 2;

export interface Phrase<T> {
  readonly stems: readonly string[];
  readonly tag: T;
}

export interface PhraseMatch<T> {
  readonly phrase: Phrase<T>;
  /** Index of the phrase's first and last word in the clause. */
  readonly start: number;
  readonly end: number;
  /** Indexes of the words that matched, so the words in the gaps can be told apart. */
  readonly positions: readonly number[];
}

export class PhraseIndex<T> {
  private readonly byFirstStem = new Map<string, Phrase<T>[]>();

  constructor(
    phrases: Iterable<Phrase<T>>,
    private readonly maxGap = MAX_GAP,
  ) {
    for (const phrase of phrases) {
      const first = phrase.stems[0];
      if (first === undefined) continue;
      const list = this.byFirstStem.get(first) ?? [];
      list.push(phrase);
      this.byFirstStem.set(first, list);
    }
  }

  /** Every match in the clause; positions in `skip` (masked idioms) never take part. */
  find(stems: readonly string[], skip?: ReadonlySet<number>): PhraseMatch<T>[] {
    const matches: PhraseMatch<T>[] = [];
    for (let start = 0; start < stems.length; start++) {
      if (skip?.has(start)) continue;
      for (const phrase of this.byFirstStem.get(stems[start] as string) ?? []) {
        const positions = this.matchRest(stems, phrase.stems, start, skip);
        if (positions) matches.push({ phrase, start, end: positions[positions.length - 1] as number, positions });
      }
    }
    return matches;
  }

  private matchRest(stems: readonly string[], wanted: readonly string[], start: number, skip?: ReadonlySet<number>): number[] | undefined {
    let at = start;
    const positions = [start];
    for (let w = 1; w < wanted.length; w++) {
      let found: number | undefined;
      for (let next = at + 1; next <= at + 1 + this.maxGap && next < stems.length; next++) {
        if (skip?.has(next)) continue;
        if (stems[next] === wanted[w]) {
          found = next;
          break;
        }
      }
      if (found === undefined) return undefined;
      at = found;
      positions.push(found);
    }
    return positions;
  }
}
