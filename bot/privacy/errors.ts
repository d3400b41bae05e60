/**
 * Errors raised by the privacy layer. Each has a stable `code` for handlers and alerts, and a
 * message that never contains a person's words, storage keys or secrets — which is why they
 * may set `safeMessage` and have their message logged (see logger.ts).
 */

/** A storage write would have kept what a person typed in this turn. */
export class PrivacyViolationError extends Error {
  static readonly safeMessage = true;
  readonly code = 'PRIVACY_FREE_TEXT_IN_STORAGE';

  constructor(refusedCount: number) {
    super(`Refused to store ${refusedCount} item(s) that contain this turn's free text`);
    this.name = 'PrivacyViolationError';
  }
}

/** The pseudonym secret is missing, unreadable or too weak to keep ids unguessable. */
export class PseudonymSecretError extends Error {
  static readonly safeMessage = true;

  constructor(
    readonly code: 'PRIVACY_SECRET_TOO_SHORT' | 'PRIVACY_SECRET_FILE_INVALID',
    message: string,
  ) {
    super(message);
    this.name = 'PseudonymSecretError';
  }
}
