/**
 * What a person typed, held for one turn only. The text is hidden inside a private field so
 * that the usual ways values leak — string conversion, JSON serialisation, `util.inspect`,
 * log formatting — show a placeholder instead. Reading it takes a deliberate `reveal()`.
 */
import { inspect } from 'node:util';

const PLACEHOLDER = '[free text]';

/**
 * Below these sizes a text cannot be told apart from the words our own codes are made of
 * ("yes", "menu", a module id), so the storage guard could only raise false alarms.
 */
const MIN_IDENTIFYING_WORDS = 2;
const MIN_IDENTIFYING_CHARS = 8;
const MIN_IDENTIFYING_SINGLE_TOKEN_CHARS = 16;

/**
 * The one definition of "the same text" shared by FreeText and the storage guard, so that a
 * change in case, Unicode form or spacing cannot hide a person's words from the guard.
 */
export function normaliseForMatching(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

export class FreeText {
  // Private fields are invisible to JSON.stringify, Object.keys, spreading and util.inspect.
  readonly #raw: string;
  #isChoice = false;

  private constructor(raw: string) {
    this.#raw = raw;
  }

  /** Wraps the text of one incoming message. Call this once, where the activity arrives. */
  static of(raw: string): FreeText {
    return new FreeText(raw);
  }

  /** The text itself, for matching to choices and risk screening. Never pass it to a log or to storage. */
  reveal(): string {
    return this.#raw;
  }

  /** Records that the dialog matched the text to a button or command: its code is meant to be stored. */
  markAsChoice(): void {
    this.#isChoice = true;
  }

  get isChoice(): boolean {
    return this.#isChoice;
  }

  /** Whether the text is long enough that finding it in stored state means the person's words leaked. */
  get isIdentifying(): boolean {
    const text = normaliseForMatching(this.#raw);
    const words = text === '' ? 0 : text.split(' ').length;
    if (words >= MIN_IDENTIFYING_WORDS) return text.length >= MIN_IDENTIFYING_CHARS;
    return text.length >= MIN_IDENTIFYING_SINGLE_TOKEN_CHARS;
  }

  toString(): string {
    return PLACEHOLDER;
  }

  toJSON(): string {
    return PLACEHOLDER;
  }

  [inspect.custom](): string {
    return PLACEHOLDER;
  }
}
