import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { matchChoice, type ChoiceCandidate } from '../../bot/language/matchChoice.js';
import { loadContent } from '../../bot/content/loadContent.js';
import { REPO_ROOT } from '../support/botHarness.js';

const consent: ChoiceCandidate[] = [
  { code: 'agree', phrases: ['Yes, continue', 'agree'] },
  { code: 'decline', phrases: ['No, not now', 'decline'] },
];

// The options of relationships.count-online: labels, codes and synonyms as the dialog passes them.
const counts: ChoiceCandidate[] = [
  { code: 'none', phrases: ['None', 'none'] },
  { code: 'one-two', phrases: ['1 to 2', 'one-two', '1', '2', 'one', 'two'] },
  { code: 'three-five', phrases: ['3 to 5', 'three-five', '3', '4', '5', 'three', 'four', 'five'] },
  { code: 'more', phrases: ['More than 5', 'more', 'lots', 'many'] },
];

const { commands } = (await loadContent(path.join(REPO_ROOT, 'resources/content'))).forLocale('en').messages;
const commandCandidates: ChoiceCandidate[] = Object.entries(commands).map(([code, phrases]) => ({ code, phrases }));

describe('matchChoice', () => {
  describe('exact wording', () => {
    it('matches a label whatever the case, punctuation, spacing or emoji', () => {
      expect(matchChoice('Yes, continue', consent)).toBe('agree');
      expect(matchChoice('  yes   CONTINUE!! 🙂 ', consent)).toBe('agree');
    });

    it('matches a code or a synonym as well as the label', () => {
      expect(matchChoice('decline', consent)).toBe('decline');
      expect(matchChoice('lots', counts)).toBe('more');
      expect(matchChoice('4', counts)).toBe('three-five');
    });

    it('prefers the exact synonym over a near miss of another option', () => {
      expect(matchChoice('none', [{ code: 'no', phrases: ['No', 'no'] }, ...counts])).toBe('none');
      expect(matchChoice('no', [{ code: 'no', phrases: ['No', 'no'] }, ...counts])).toBe('no');
    });
  });

  describe('stems', () => {
    it('matches another form of the same word', () => {
      expect(matchChoice('continuing', [{ code: 'continue', phrases: ['Continue'] }])).toBe('continue');
      expect(matchChoice('skipping this question', [{ code: 'skip', phrases: ['Skip this question'] }])).toBe('skip');
    });
  });

  describe('typos', () => {
    it('matches a label with a letter missing, swapped or wrong', () => {
      expect(matchChoice('yes continu', consent)).toBe('agree');
      expect(matchChoice('contnue', [{ code: 'continue', phrases: ['Continue'] }])).toBe('continue');
      expect(matchChoice('more then 5', counts)).toBe('more');
      expect(matchChoice('not rigth now', [{ code: 'no-ideas', phrases: ['Not right now'] }])).toBe('no-ideas');
    });

    // Bug: Jaro-Winkler over the whole text scored one missing letter early in a long label at 0.90.
    it('matches a long label with a typo early in it (bug: whole-text Jaro drifted below the threshold)', () => {
      const topics: ChoiceCandidate[] = [
        { code: 'communities', phrases: ['Communities that make it feel normal', 'communities'] },
        { code: 'safety-plan', phrases: ['My safety plan', 'safety-plan'] },
      ];
      expect(matchChoice('comunities that make it feel normal', topics)).toBe('communities');
    });

    it('does not match a label with a whole word changed', () => {
      expect(matchChoice('yes right now', [{ code: 'no-ideas', phrases: ['Not right now'] }])).toBeUndefined();
    });

    it('matches nothing when a typo is equally close to two choices, rather than guess', () => {
      const twins: ChoiceCandidate[] = [
        { code: 'a', phrases: ['planner'] },
        { code: 'b', phrases: ['plannex'] },
      ];
      expect(matchChoice('plannez', twins)).toBeUndefined();
    });

    it('does not fuzzy-match short inputs, where one letter is a different word', () => {
      const yesNo: ChoiceCandidate[] = [
        { code: 'yes', phrases: ['Yes'] },
        { code: 'no', phrases: ['No'] },
      ];
      expect(matchChoice('yse', yesNo)).toBeUndefined();
      expect(matchChoice('yet', yesNo)).toBeUndefined();
      expect(matchChoice('hepl', commandCandidates)).toBeUndefined();
    });
  });

  it('matches nothing for empty or punctuation-only text', () => {
    expect(matchChoice('', consent)).toBeUndefined();
    expect(matchChoice('  ?!… ', consent)).toBeUndefined();
  });

  describe('the commands of messages.yaml', () => {
    it('match their whole phrases and near misses of them', () => {
      expect(matchChoice('Stop.', commandCandidates)).toBe('stop');
      expect(matchChoice('exit', commandCandidates)).toBe('stop');
      expect(matchChoice('What can I do?', commandCandidates)).toBe('help');
      expect(matchChoice('delet my data', commandCandidates)).toBe('deleteData');
      expect(matchChoice('talk to a persn', commandCandidates)).toBe('human');
      expect(matchChoice('safety plans', commandCandidates)).toBe('plan');
    });

    it.each([
      'I want to stop looking at images',
      'I want to stop',
      'stop looking',
      'stop it now',
      'what can i do to stop',
    ])('do not take "%s" for a command: it is something the person is telling us', (text) => {
      expect(matchChoice(text, commandCandidates)).toBeUndefined();
    });
  });
});
