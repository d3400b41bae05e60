/**
 * Carries the current turn's FreeText through every await of that turn. Storage is shared by
 * turns running at the same time, so the storage guard must learn *which* turn's text to look
 * for from the async context, not from a global that the next turn would overwrite.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FreeText } from './freeText.js';

const scope = new AsyncLocalStorage<FreeText | undefined>();

/** Runs one turn with its text in scope; pass `undefined` for turns without text (events, button-less activities). */
export function runInTurnScope<T>(freeText: FreeText | undefined, fn: () => Promise<T>): Promise<T> {
  return scope.run(freeText, fn);
}

/** The text of the turn this code runs in, or `undefined` outside any turn. */
export function currentFreeText(): FreeText | undefined {
  return scope.getStore();
}
