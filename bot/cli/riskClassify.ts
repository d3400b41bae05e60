/**
 * `npm run -s risk:classify`: batch screening. Reads JSON lines `{"text": "..."}` (optionally
 * with `"locale"`) on stdin and writes one JSON line per input, in order:
 * `{"category": "...", "level": "...", "escalate": true|false}`. Nothing else goes to stdout.
 * Blank lines are not inputs. A line that is not such an object gets `{"error": "..."}` in its
 * place (so output line N still answers input line N), a note on stderr, and exit code 1.
 */
import { createInterface } from 'node:readline';
import { ContentError } from '../content/contentError.js';
import { riskScreenFromDisk } from './riskScreenFromDisk.js';

let screen;
try {
  screen = await riskScreenFromDisk();
} catch (error) {
  if (!(error instanceof ContentError)) throw error;
  console.error(error.message);
  process.exit(2);
}

let lineNumber = 0;
let failures = 0;
const out: string[] = [];
const flush = () => {
  if (out.length > 0) process.stdout.write(out.join(''));
  out.length = 0;
};

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  lineNumber += 1;
  if (line.trim() === '') continue;
  const input = parse(line);
  if (typeof input === 'string') {
    failures += 1;
    console.error(`line ${lineNumber}: ${input}`);
    out.push(`${JSON.stringify({ error: input })}\n`);
  } else {
    const { category, level, escalate } = screen.screen(input.text, input.locale);
    out.push(`${JSON.stringify({ category, level, escalate })}\n`);
  }
  if (out.length >= 256) flush();
}
flush();
if (failures > 0) process.exitCode = 1;

/** The input, or why it is not one. */
function parse(line: string): { text: string; locale?: string } | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not valid JSON: expected {"text": "..."}';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'expected a JSON object {"text": "..."}';
  const { text, locale } = value as { text?: unknown; locale?: unknown };
  if (typeof text !== 'string') return 'missing "text" (a string)';
  return typeof locale === 'string' ? { text, locale } : { text };
}
