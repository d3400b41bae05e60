/**
 * The last line of defence for "nothing a person types is stored": every write made during a
 * turn is checked for that turn's free text before it reaches the backend. Dialogs are written
 * not to store free text; this catches the mistake when one does.
 */
import type { StoreItems } from 'botbuilder';
import type { WaypointStorage } from '../storage/waypointStorage.js';
import { PrivacyViolationError } from './errors.js';
import { normaliseForMatching, type FreeText } from './freeText.js';
import { currentFreeText } from './turnScope.js';

export interface StorageGuardOptions {
  /** 'throw' in tests and development, so a leak fails loudly; 'drop' in production, so the person's turn still works. */
  onViolation: 'throw' | 'drop';
  /** Told how many changes were refused, for an alert counter. Called in both modes; never given the text or keys. */
  onReject?: (info: { keyCount: number }) => void;
}

/** Wraps a storage so that writes refuse any key or value containing the current turn's free text. */
export function guardStorage(inner: WaypointStorage, options: StorageGuardOptions): WaypointStorage {
  const { onViolation, onReject } = options;

  return {
    read: (keys) => inner.read(keys),
    delete: (keys) => inner.delete(keys),
    deleteIdleSince: (cutoff) => inner.deleteIdleSince(cutoff),
    ping: () => inner.ping(),
    close: () => inner.close(),

    async write(changes: StoreItems): Promise<void> {
      const freeText = currentFreeText();
      if (!freeText || freeText.isChoice || !freeText.isIdentifying) return inner.write(changes);

      const needles = searchFormsOf(freeText);
      const allowed: StoreItems = {};
      let refused = 0;
      for (const [key, value] of Object.entries(changes)) {
        if (containsAny([key], needles) || containsAny(stringsIn(value), needles)) refused += 1;
        else allowed[key] = value;
      }
      if (refused === 0) return inner.write(changes);

      onReject?.({ keyCount: refused });
      if (onViolation === 'throw') throw new PrivacyViolationError(refused);
      if (Object.keys(allowed).length > 0) await inner.write(allowed);
    },
  };
}

/**
 * The forms the text can take once stored: as typed (normalised), and JSON-escaped once or
 * twice, because a value may hold JSON inside a string, where quotes become \" and newlines
 * \n. Comparing normalised forms on both sides also covers the raw text in any case or spacing.
 */
function searchFormsOf(freeText: FreeText): string[] {
  const raw = freeText.reveal();
  const forms: string[] = [];
  for (const typed of [raw, normaliseForMatching(raw)]) {
    const escapedOnce = jsonEscaped(typed);
    forms.push(typed, escapedOnce, jsonEscaped(escapedOnce));
  }
  return [...new Set(forms.map(normaliseForMatching))].filter((form) => form !== '');
}

function jsonEscaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** Strings holding JSON are decoded this many levels deep; real state never nests further. */
const MAX_EMBEDDED_JSON_DEPTH = 4;

/**
 * Every string a backend would persist for this value — property names and string values, as
 * serialised (after toJSON) — plus the serialised whole, so text spread across the structure
 * is still found. Strings that hold JSON are decoded too, so escaping cannot hide the text.
 */
function stringsIn(value: unknown, depth = 0): string[] {
  const strings: string[] = [];
  const json = JSON.stringify(value, (key: string, member: unknown) => {
    if (key !== '') strings.push(key);
    if (typeof member === 'string') {
      strings.push(member);
      const decoded = depth < MAX_EMBEDDED_JSON_DEPTH ? parsedJson(member) : undefined;
      if (decoded !== undefined) strings.push(...stringsIn(decoded, depth + 1));
    }
    return member;
  });
  if (json !== undefined) strings.push(json);
  return strings;
}

function parsedJson(text: string): unknown {
  if (!/^\s*["{[]/.test(text)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function containsAny(haystacks: readonly string[], needles: readonly string[]): boolean {
  return haystacks.some((haystack) => {
    const normalised = normaliseForMatching(haystack);
    return needles.some((needle) => normalised.includes(needle));
  });
}
