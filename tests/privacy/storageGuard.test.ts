import { describe, expect, it, jest } from '@jest/globals';
import type { StoreItems } from 'botbuilder';
import { PrivacyViolationError } from '../../bot/privacy/errors.js';
import { FreeText } from '../../bot/privacy/freeText.js';
import { guardStorage } from '../../bot/privacy/storageGuard.js';
import { runInTurnScope } from '../../bot/privacy/turnScope.js';
import { memoryWaypointStorage } from './memoryWaypointStorage.js';

const TYPED = 'I keep thinking about it at night';

function setUp(onViolation: 'throw' | 'drop' = 'throw') {
  const inner = memoryWaypointStorage();
  const onReject = jest.fn<(info: { keyCount: number }) => void>();
  const storage = guardStorage(inner, { onViolation, onReject });
  return { inner, storage, onReject };
}

function inTurn<T>(typed: string, fn: () => Promise<T>, asChoice = false): Promise<T> {
  const freeText = FreeText.of(typed);
  if (asChoice) freeText.markAsChoice();
  return runInTurnScope(freeText, fn);
}

describe('guardStorage', () => {
  it.each<[string, StoreItems]>([
    ['as a value', { 'user/a': { note: TYPED } }],
    ['nested deep in the value', { 'user/a': { progress: { answers: [{ step: 'gaps', said: TYPED }] } } }],
    ['in another case', { 'user/a': { note: TYPED.toUpperCase() } }],
    ['with extra whitespace', { 'user/a': { note: ` I  keep\tthinking\n about it   at night ` } }],
    ['inside a longer text', { 'user/a': { note: `so ${TYPED}, you know` } }],
    ['as a property name', { 'user/a': { [TYPED]: true } }],
    ['JSON-encoded inside a string', { 'user/a': { blob: JSON.stringify({ said: TYPED }) } }],
  ])('refuses a write containing this turn\'s free text %s', async (_where, changes) => {
    const { inner, storage } = setUp();
    await expect(inTurn(TYPED, () => storage.write(changes))).rejects.toBeInstanceOf(PrivacyViolationError);
    expect(await inner.read(['user/a'])).toEqual({});
  });

  it.each([
    ['quotes', 'she said "stop" and I did not'],
    ['newlines', 'first line of it\nsecond line of it'],
    ['backslashes', 'a path like C:\\temp\\notes here'],
  ])('finds free text containing %s, stored plainly or JSON-encoded', async (_what, typed) => {
    const { storage } = setUp();
    for (const value of [{ said: typed }, { blob: JSON.stringify({ said: typed }) }, { blob: JSON.stringify(JSON.stringify(typed)) }]) {
      await expect(inTurn(typed, () => storage.write({ 'user/a': value }))).rejects.toBeInstanceOf(PrivacyViolationError);
    }
  });

  it('refuses a storage key containing the free text', async () => {
    const { storage } = setUp();
    await expect(inTurn(TYPED, () => storage.write({ [`notes/${TYPED}`]: { ok: true } }))).rejects.toBeInstanceOf(
      PrivacyViolationError,
    );
  });

  it('writes nothing of a refused batch in throw mode', async () => {
    const { inner, storage } = setUp();
    const write = inTurn(TYPED, () => storage.write({ 'user/clean': { stepId: 'gaps' }, 'user/leak': { note: TYPED } }));
    await expect(write).rejects.toMatchObject({ code: 'PRIVACY_FREE_TEXT_IN_STORAGE' });
    expect(await inner.read(['user/clean', 'user/leak'])).toEqual({});
  });

  it('says neither the text nor the key in its error', async () => {
    const { storage } = setUp();
    const key = 'user/KEYCANARY';
    const error = await inTurn(TYPED, () => storage.write({ [key]: { note: TYPED } })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PrivacyViolationError);
    const shown = `${String(error)} ${(error as Error).stack} ${JSON.stringify(error)}`;
    expect(shown).not.toContain('KEYCANARY');
    expect(shown.toLowerCase()).not.toContain('thinking');
  });

  it('allows the write when the text was matched to a choice', async () => {
    const { inner, storage } = setUp();
    await inTurn(TYPED, () => storage.write({ 'user/a': { answer: TYPED } }), true);
    expect(await inner.read(['user/a'])).toMatchObject({ 'user/a': { answer: TYPED } });
  });

  it('allows the write when the text is too short to identify anyone ("yes")', async () => {
    const { inner, storage } = setUp();
    await inTurn('yes', () => storage.write({ 'user/a': { answer: 'yes' } }));
    expect(await inner.read(['user/a'])).toMatchObject({ 'user/a': { answer: 'yes' } });
  });

  it('allows writes outside any turn scope', async () => {
    const { inner, storage } = setUp();
    await storage.write({ 'user/a': { note: TYPED } });
    expect(await inner.read(['user/a'])).toMatchObject({ 'user/a': { note: TYPED } });
  });

  it('allows writes that do not contain the text', async () => {
    const { inner, storage, onReject } = setUp();
    await inTurn(TYPED, () => storage.write({ 'user/a': { stepId: 'gaps', scale: 7, locale: 'en' } }));
    expect(await inner.read(['user/a'])).toMatchObject({ 'user/a': { stepId: 'gaps', scale: 7 } });
    expect(onReject).not.toHaveBeenCalled();
  });

  it('checks each of two concurrent turns only against its own text', async () => {
    const { inner, storage } = setUp();
    const first = 'the first person wrote this';
    const second = 'the second person wrote that';
    const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

    const results = await Promise.allSettled([
      inTurn(first, async () => {
        await tick();
        // Contains the *other* turn's text: not this turn's business, so it is written.
        await storage.write({ 'conversation/1': { echo: second } });
        await tick();
        await storage.write({ 'conversation/1b': { echo: first } });
      }),
      inTurn(second, async () => {
        await storage.write({ 'conversation/2': { echo: first } });
        await tick();
        await tick();
        await storage.write({ 'conversation/2b': { echo: second } });
      }),
    ]);

    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    const stored = await inner.read(['conversation/1', 'conversation/2', 'conversation/1b', 'conversation/2b']);
    expect(Object.keys(stored).sort()).toEqual(['conversation/1', 'conversation/2']);
  });

  it('in drop mode writes the clean changes, drops the offending one and reports it', async () => {
    const { inner, storage, onReject } = setUp('drop');
    await inTurn(TYPED, () =>
      storage.write({ 'user/clean': { stepId: 'gaps' }, 'user/leak': { note: TYPED }, [`k/${TYPED}`]: { ok: 1 } }),
    );
    const stored = await inner.read(['user/clean', 'user/leak', `k/${TYPED}`]);
    expect(Object.keys(stored)).toEqual(['user/clean']);
    expect(onReject).toHaveBeenCalledWith({ keyCount: 2 });
  });

  it('passes reads and deletes through', async () => {
    const { inner, storage } = setUp();
    await inner.write({ 'user/a': { stepId: 'gaps' } });
    expect(await storage.read(['user/a'])).toMatchObject({ 'user/a': { stepId: 'gaps' } });
    await storage.delete(['user/a']);
    expect(await inner.read(['user/a'])).toEqual({});
  });
});
