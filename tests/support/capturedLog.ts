/**
 * A real logger whose lines are kept in memory, so a test can read exactly what would have gone
 * to the operator's log (and prove that no canary is in it).
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../bot/privacy/logger.js';

export interface CapturedLog {
  readonly log: Logger;
  /** Every line written so far, as raw text. */
  text(): string;
}

export function captureLog(level = 'debug'): CapturedLog {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { log: createLogger({ level, destination }), text: () => chunks.join('') };
}
