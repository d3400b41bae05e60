/**
 * Word clusters: groups of words that public word embeddings place close together ("gun",
 * "rifle", "pistol", "handgun" in one; "pills", "medication", "dose" in another). The screen gives
 * each word of a message its cluster as a feature besides the word itself, so a word no example
 * uses still carries what its cluster-mates taught the model: "glock" on the bed is read like
 * "gun" on the bed. Whether a cluster means risk is still learnt from the labelled examples only.
 *
 * The file `resources/risk/<locale>.clusters.tsv` is generated (`npm run risk:clusters`), one
 * `word<TAB>cluster` line per word; lines starting with `#` say where it came from.
 */

/** A word as the clusters file spells it: lower-case letters and apostrophes, as the screen's tokeniser gives them. */
const WORD = /^[a-z][a-z']*$/;

export function isClusterWord(word: string): boolean {
  return WORD.test(word);
}

/** The clusters of a file's text, or the problems with it, each with its 1-based line. */
export function parseWordClusters(text: string): { clusters: Map<string, number>; problems: { line: number; message: string }[] } {
  const clusters = new Map<string, number>();
  const problems: { line: number; message: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('#')) return;
    const [word, cluster, ...rest] = line.split('\t');
    const id = Number(cluster);
    if (rest.length > 0 || cluster === undefined || !word || !WORD.test(word) || !Number.isInteger(id) || id < 0) {
      problems.push({ line: i + 1, message: `expected a lower-case word, a tab and a cluster number, got "${line.slice(0, 60)}"` });
    } else if (clusters.has(word)) {
      problems.push({ line: i + 1, message: `"${word}" is already given a cluster` });
    } else {
      clusters.set(word, id);
    }
  });
  return { clusters, problems };
}

/**
 * Spherical k-means: vectors are normalised to unit length and grouped by cosine similarity.
 * Deterministic (the first centres are evenly spaced through the list, which is in frequency
 * order), so the same embeddings always give the same file.
 */
export function clusterVectors(vectors: readonly ArrayLike<number>[], k: number, iterations: number): Int32Array {
  const n = vectors.length;
  const d = vectors[0]?.length ?? 0;
  const x = new Float32Array(n * d);
  // Normalised from the given doubles before they are rounded to 32 bits, so the committed file
  // is exactly what this gives.
  vectors.forEach((v, i) => {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += (v[j] as number) ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < d; j++) x[i * d + j] = (v[j] as number) / norm;
  });
  const centres = new Float32Array(k * d);
  for (let c = 0; c < k; c++) {
    const i = Math.floor((c * n) / k);
    centres.set(x.subarray(i * d, i * d + d), c * d);
  }
  const assigned = new Int32Array(n);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestScore = -Infinity;
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (x[i * d + j] as number) * (centres[c * d + j] as number);
        if (s > bestScore) [best, bestScore] = [c, s];
      }
      assigned[i] = best;
    }
    centres.fill(0);
    for (let i = 0; i < n; i++) {
      const at = (assigned[i] as number) * d;
      for (let j = 0; j < d; j++) centres[at + j] = (centres[at + j] as number) + (x[i * d + j] as number);
    }
    for (let c = 0; c < k; c++) unit(centres.subarray(c * d, c * d + d));
  }
  return assigned;
}

function unit(v: Float32Array): void {
  let norm = 0;
  for (const value of v) norm += value ** 2;
  norm = Math.sqrt(norm) || 1;
  for (let j = 0; j < v.length; j++) v[j] = (v[j] as number) / norm;
}
