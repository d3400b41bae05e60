import { describe, expect, it } from '@jest/globals';
import { WaitingQueue } from '../../bot/handover/waitingQueue.js';
import { priorityOf, type ContextCard } from '../../bot/handover/contextCard.js';

function card(category: ContextCard['reason']['category'], level: ContextCard['reason']['level'], queuedAt: number): ContextCard {
  return { locale: 'en', channel: 'webchat', reason: { category, level }, modulesCompleted: [], safetyPlan: false, queuedAt };
}

describe('WaitingQueue', () => {
  it('answers a child at imminent risk first, then suicide risk, then other child safety, then everyone else, each by waiting time', () => {
    const queue = new WaitingQueue<string>();
    queue.add('other-early', card('human', 'low', 1), 'a');
    queue.add('child-high', card('child_at_risk', 'high', 2), 'b');
    queue.add('suicide-late', card('suicide', 'elevated', 5), 'c');
    queue.add('suicide-early', card('suicide', 'imminent', 3), 'd');
    queue.add('child-imminent', card('child_at_risk', 'imminent', 9), 'e');
    queue.add('distress', card('distress', 'high', 0), 'f');
    expect(queue.ordered().map((e) => e.ticket)).toEqual(['child-imminent', 'suicide-early', 'suicide-late', 'child-high', 'distress', 'other-early']);
    expect(queue.position('child-high')).toBe(4);
  });

  it('puts someone who lost their counsellor before everyone, and forgets whoever leaves', () => {
    const queue = new WaitingQueue<string>();
    queue.add('child-imminent', card('child_at_risk', 'imminent', 1), 'a');
    queue.add('requeued', card('human', 'low', 50), 'b', { atFront: true });
    expect(queue.ordered().map((e) => e.ticket)).toEqual(['requeued', 'child-imminent']);
    expect(queue.remove('requeued')?.holder).toBe('b');
    expect(queue.position('requeued')).toBeUndefined();
    expect(queue.position('child-imminent')).toBe(1);
    expect(queue.length).toBe(1);
  });

  it('names the priorities the console shows', () => {
    expect(priorityOf({ category: 'child_at_risk', level: 'imminent' })).toBe('child_imminent');
    expect(priorityOf({ category: 'child_at_risk', level: 'low' })).toBe('child');
    expect(priorityOf({ category: 'suicide', level: 'low' })).toBe('suicide');
    expect(priorityOf({ category: 'none', level: 'none' })).toBe('other');
  });
});
