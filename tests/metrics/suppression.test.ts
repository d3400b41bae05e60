import { describe, expect, it } from '@jest/globals';
import { SUPPRESSED, suppress, sumCounts, totalOf } from '../../bot/metrics/suppression.js';

describe('small-cell suppression', () => {
  it('shows 1 to 4 as "<5" and every other whole count as it is', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 99, 12_345].map(suppress)).toEqual([0, '<5', '<5', '<5', '<5', 5, 6, 99, 12_345]);
    expect(SUPPRESSED).toBe('<5');
  });

  it('keeps 0 as 0, so an empty day does not look like activity', () => {
    expect(suppress(0)).toBe(0);
  });

  it('treats a damaged value as nothing rather than showing it', () => {
    expect([-3, 2.5, Number.NaN, Infinity].map(suppress)).toEqual([0, 0, 0, 0]);
  });

  it('sums days key by key over the real counts, ignoring damaged values', () => {
    const total = sumCounts([
      { 'webchat|en|consent.given': 2, 'webchat|en|conversation.started': 3 },
      { 'webchat|en|consent.given': 2, 'telegram|de|consent.given': -1 },
      { 'webchat|en|consent.given': 1.5, 'webchat|en|conversation.started': 4 },
    ]);
    expect(total).toEqual({ 'webchat|en|consent.given': 4, 'webchat|en|conversation.started': 7 });
  });

  it('suppresses a total after adding the real parts: three hidden parts can make a shown total', () => {
    const modules = { 'module.started.urges': 2, 'module.started.sleep': 2, 'module.started.values': 1, 'consent.given': 40 };
    const started = totalOf(modules, (key) => key.startsWith('module.started.'));
    expect(started).toBe(5);
    expect(suppress(started)).toBe(5);
    // Two hidden parts whose real sum is still small stay hidden as a total.
    expect(suppress(totalOf({ a: 1, b: 2 }, () => true))).toBe('<5');
  });
});
