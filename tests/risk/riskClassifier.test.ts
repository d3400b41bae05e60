import { beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { loadRiskData } from '../../bot/risk/loadRiskData.js';
import { createRiskClassifier } from '../../bot/risk/riskClassifier.js';
import type { RiskScreen } from '../../bot/risk/riskScreen.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/risk', import.meta.url));

/** So few examples teach the model little: these tests let it speak only when it is sure. */
const SURE_ONLY = { child_at_risk: 0.9, suicide: 0.9, human: 0.9, distress: 0.9 };
/** ... and it overrules a lexicon phrase only when all but certain, so these tests show the lexicon's own reading. */
const PHRASES_COUNT = { child_at_risk: 0.9, suicide: 0.9, human: 0.9, distress: 0.9 };

let screen: RiskScreen & { features(text: string): string[]; explain(text: string): unknown };
beforeAll(async () => {
  const data = await loadRiskData(FIXTURE);
  screen = createRiskClassifier(data.get('en')!, { thresholds: SURE_ONLY, lexiconTrustedBelow: PHRASES_COUNT });
});

const assess = (text: string) => screen.screen(text);

describe('the risk screen on its own small lexicon', () => {
  it('finds a lexicon phrase whatever the inflection, spelling or words in between', () => {
    expect(assess('i want to kill myself')).toEqual({ category: 'suicide', level: 'elevated', escalate: true });
    expect(assess('ive been thinking about killing myself').category).toBe('suicide');
    expect(assess('i want to kil myslf').category).toBe('suicide');
    expect(assess('i want to just die').category).toBe('suicide');
    expect(assess('I WANT TO DIE!!!').category).toBe('suicide');
  });

  it('does not count a phrase a negation cancels', () => {
    expect(assess('i would never hurt a child')).toEqual({ category: 'none', level: 'none', escalate: false });
    expect(assess("i don't want to die, i want to get better").category).toBe('none');
    expect(assess('im not going to kill myself').category).toBe('none');
    expect(assess('no i would not meet her').category).toBe('none');
  });

  it('carries a negation on through "any", and negates a phrase that is the subject of a negated "be"', () => {
    expect(assess('i do not have any plans to kill myself').category).toBe('none');
    expect(assess('suicide is not an option for me').category).toBe('none');
    expect(assess('suicide is all i think about').category).toBe('suicide');
  });

  it('holds back a phrase in the past, in someone else\'s life or in a topic question, and lets the model judge it', () => {
    expect(assess('years ago i wanted to kill myself').category).toBe('none');
    expect(assess('my brother thought about suicide').category).toBe('none');
    expect(assess('what is suicide').category).toBe('none');
    // "again" or "now" makes it current; "i" between makes it the writer's own.
    expect(assess('years ago i wanted to kill myself and now i want to again').category).toBe('suicide');
    expect(assess('my brother found out and i thought about suicide').category).toBe('suicide');
    // A phrase held back is not a hit; the model sees where it was held back.
    expect(screen.features('i used to kill myself')).toContain('@past:suicide');
    expect(screen.features('i used to kill myself')).not.toContain('@hit:suicide');
    expect(screen.features('what is suicide')).toContain('@topic:suicide');
    expect(screen.features('i want to kill myself')).toContain('@hit:suicide');
    expect(screen.features('i would never kill myself')).toContain('@neg:suicide');
  });

  it('keeps phrases that carry their own negation, pseudo-negations and what follows a clause break', () => {
    expect(assess('i dont want to live anymore').category).toBe('suicide');
    expect(assess("i can't stop thinking about suicide").category).toBe('suicide');
    expect(assess('not sure why but i want to die').category).toBe('suicide');
    expect(assess("i never thought i'd say this. i want to die").category).toBe('suicide');
  });

  it('ignores idioms', () => {
    expect(assess('im dead tired').category).toBe('none');
    expect(assess('just killing some time before work').category).toBe('none');
    expect(assess('im dying to know how this works').category).toBe('none');
  });

  it('raises the level for a time or means, unless that is negated', () => {
    expect(assess('i will overdose tonight')).toEqual({ category: 'suicide', level: 'imminent', escalate: true });
    expect(assess('i have pills and i want to die').level).toBe('high');
    expect(assess('i want to die but not tonight').level).toBe('elevated');
  });

  it('puts a child at risk before suicide, and suicide before a request for a person', () => {
    expect(assess('i want to die, i think i will hurt a child').category).toBe('child_at_risk');
    expect(assess('i want to die, can i talk to a real person').category).toBe('suicide');
    expect(assess('can i talk to a real person')).toEqual({ category: 'human', level: 'low', escalate: true });
  });

  it('reads ages the way people write them', () => {
    expect(assess('shes a 13yo from the game').category).toBe('child_at_risk');
    expect(assess('shes 13 y/o').category).toBe('child_at_risk');
    expect(assess('a 13-year-old girl').category).toBe('child_at_risk');
  });

  it('lets strong distress interrupt but not low distress', () => {
    expect(assess("i can't cope")).toEqual({ category: 'distress', level: 'elevated', escalate: true });
  });

  it('falls back to the trained model for wording no phrase lists', () => {
    const result = assess('honestly everyone would be better off without me around');
    expect(result.category).toBe('suicide');
    expect(result.escalate).toBe(true);
    expect(assess('mostly my friends from work').category).toBe('none');
  });

  it('gives the model negation-marked features, so "dont want" and "want" are different evidence', () => {
    expect(screen.features("don't want to go")).toEqual(expect.arrayContaining(['do', 'not', 'not_want', 'not_to']));
    expect(screen.features('want to go')).toContain('want');
  });
});
