import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { clusterVectors, parseWordClusters } from '../../bot/risk/wordClusters.js';
import { loadRiskData } from '../../bot/risk/loadRiskData.js';
import { createRiskClassifier } from '../../bot/risk/riskClassifier.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/risk', import.meta.url));

describe('word clusters', () => {
  it('reads word and cluster lines, skipping comments and blank lines', () => {
    const { clusters, problems } = parseWordClusters('# generated\nrifle\t3\n\ngun\t3\ndon\'t\t0\n');
    expect(problems).toEqual([]);
    expect([...clusters]).toEqual([['rifle', 3], ['gun', 3], ["don't", 0]]);
  });

  it('names the line of a malformed entry or a word given twice', () => {
    const { problems } = parseWordClusters('# header\ngun\t3\nRifle\t3\npistol 4\nknife\t-1\ngun\t5\nrope\t2\textra\n');
    expect(problems.map((p) => p.line)).toEqual([3, 4, 5, 6, 7]);
    expect(problems[3]?.message).toBe('"gun" is already given a cluster');
  });

  it('groups vectors pointing the same way, whatever their length', () => {
    const vectors = [[1, 0.1], [0, 2], [5, 0.2], [0.1, 3], [2, 0], [0.2, 1]];
    const assigned = [...clusterVectors(vectors, 2, 5)];
    expect(new Set([assigned[0], assigned[2], assigned[4]]).size).toBe(1);
    expect(new Set([assigned[1], assigned[3], assigned[5]]).size).toBe(1);
    expect(assigned[0]).not.toBe(assigned[1]);
    expect([...clusterVectors(vectors, 2, 5)]).toEqual(assigned);
  });

  it('lets a word no example uses speak with what its cluster-mates taught the model', async () => {
    const data = (await loadRiskData(FIXTURE)).get('en')!;
    // "letters" is in a suicide example; "notes" is in none, and "the" in all kinds.
    const withClusters = createRiskClassifier({ ...data, wordClusters: [['letters', 7], ['notes', 7]] });
    const without = createRiskClassifier(data);
    const suicide = (screen: typeof without) => (screen.explain('the notes') as { probabilities: Record<string, number> }).probabilities.suicide!;
    expect(withClusters.features('i wrote notes')).toContain('@k7');
    expect(withClusters.features('i never wrote notes')).toContain('not_@k7');
    expect(without.features('i wrote notes')).not.toContain('@k7');
    expect(suicide(withClusters)).toBeGreaterThan(suicide(without) + 0.1);
  });
});
