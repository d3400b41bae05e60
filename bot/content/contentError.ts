/**
 * Content problems: what went wrong, in which file, at which key and on which line, so a
 * clinician can fix a YAML file without reading code. The loader collects every problem of
 * every file and throws them together, because fixing one typo per run is slow and
 * discouraging.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import type { z } from 'zod';

/** Every problem code, with what it means for the person editing the YAML. */
export const CONTENT_CODES = {
  CONTENT_NO_LOCALE: 'the folder of the default locale is missing',
  CONTENT_BAD_LOCALE: 'a folder in the content root is not named like a language tag (en, de, pt-BR)',
  CONTENT_FILE_MISSING: 'a required file or folder is missing',
  CONTENT_YAML_SYNTAX: 'the file is not valid YAML (indentation, quotes, a key written twice)',
  CONTENT_SCHEMA: 'a key is missing, misspelt, empty, too long or of the wrong kind',
  CONTENT_ID_MISMATCH: 'a module id or a risk file locale differs from its file name',
  CONTENT_DUPLICATE_STEP: 'two steps of one module share an id',
  CONTENT_UNKNOWN_STEP: 'a next, otherwise or on names a step the module does not have',
  CONTENT_UNREACHABLE_STEP: 'no path from the first step leads to this step',
  CONTENT_NO_END: 'the script can fall off its last step, loop forever, or never reach an end step',
  CONTENT_BAD_BRANCH: 'a branch does not fit the choice or scale step it depends on',
  CONTENT_DUPLICATE_CODE: 'two options of a choice, or two items of a safety-plan list, share a code',
  CONTENT_DUPLICATE_SECTION: 'two safety-plan lists share an id',
  CONTENT_UNKNOWN_LIST: 'a pick step names a list that safetyPlan.yaml does not have',
  CONTENT_UNKNOWN_MODULE: 'a menu entry or end suggestion names a module that does not exist in this locale',
  CONTENT_DUPLICATE_MODULE: 'the menu lists a module twice',
  CONTENT_UNLISTED_MODULE: 'a module file is not listed in the menu, so no one could open it',
  CONTENT_PLACEHOLDER: 'a message uses a {placeholder} the bot does not fill in there',
  CONTENT_BAD_LEVEL: 'a lexicon phrase has a level its category does not use',
  CONTENT_DUPLICATE_PHRASE: 'a risk phrase or example is listed twice, or under two categories',
  CONTENT_TOO_FEW_EXAMPLES: 'a risk category has too few labelled examples for the classifier to learn from',
  CONTENT_DUPLICATE_COUNTRY: 'two helpline entries share a country code',
  CONTENT_DUPLICATE_HOLIDAY: 'two holidays share a date',
  CONTENT_NO_FALLBACK: 'the helplines have no INTL entry for people in any other country',
} as const;

export type ContentCode = keyof typeof CONTENT_CODES;

export interface ContentProblem {
  readonly code: ContentCode;
  /** Relative to the content root, with `/` separators, e.g. `en/modules/urges.yaml`. */
  readonly file: string;
  /** Where in the file, e.g. `steps[3].next`; empty for the whole file. */
  readonly path: string;
  /** 1-based line of the offending node, or of its nearest parent that exists. */
  readonly line?: number;
  readonly message: string;
}

/** Thrown by `loadContent` with every problem it found; `message` is the full report. */
export class ContentError extends Error {
  override readonly name = 'ContentError';
  readonly problems: readonly ContentProblem[];

  constructor(problems: readonly ContentProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.problems = Object.freeze([...problems]);
  }
}

/** `en/modules/urges.yaml:42 steps[3].next: unknown step "clsoing" (CONTENT_UNKNOWN_STEP)` */
function formatProblem(problem: ContentProblem): string {
  const where = problem.file + (problem.line === undefined ? '' : `:${problem.line}`) + (problem.path ? ` ${problem.path}` : '');
  return `${where}: ${problem.message} (${problem.code})`;
}

export type ContentPath = readonly PropertyKey[];

/** `['steps', 3, 'next']` -> `steps[3].next` */
function formatPath(path: ContentPath): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

/** A YAML file's syntax tree and where its lines start. */
export interface YamlSource {
  readonly doc: Document;
  readonly lines: LineCounter;
}

/**
 * One parsed YAML file of the content root. Internal to bot/content: it turns paths into line
 * numbers and zod issues into sentences a clinician can act on. `parse` gives the syntax tree;
 * it is called when a problem needs a line, so a file whose data came from the cache is parsed
 * only if it has a problem.
 */
export class ContentFile {
  private source: YamlSource | undefined;

  constructor(
    readonly file: string,
    private readonly parse: () => YamlSource,
    private readonly problems: ContentProblem[],
  ) {}

  private get doc(): Document {
    return (this.source ??= this.parse()).doc;
  }

  private get lines(): LineCounter {
    return (this.source ??= this.parse()).lines;
  }

  report(code: ContentCode, path: ContentPath, message: string): void {
    this.problems.push({ code, file: this.file, path: formatPath(path), line: this.lineOf(path), message });
  }

  /** Reports YAML syntax errors; true when there were any (the data is then not worth checking). */
  reportSyntax(): boolean {
    const reportedLines = new Set<number>();
    for (const error of this.doc.errors) {
      // Without prettyErrors the message is one line and says nothing about position: we add that.
      const line = this.lines.linePos(error.pos[0]).line;
      // One mistake (a tab, a stray quote) often makes the parser complain several times on its line.
      if (reportedLines.has(line)) continue;
      reportedLines.add(line);
      this.problems.push({ code: 'CONTENT_YAML_SYNTAX', file: this.file, path: '', line, message: error.message });
    }
    return this.doc.errors.length > 0;
  }

  reportSchema(error: z.ZodError, input: unknown): void {
    for (const issue of error.issues) this.reportIssue(issue, [], input);
  }

  private reportIssue(issue: z.core.$ZodIssue, prefix: ContentPath, input: unknown): void {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) this.report('CONTENT_SCHEMA', [...path, key], `unknown key "${key}" (check the spelling)`);
      return;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // A union (text: one message or a list) fails in every branch. The branch whose type fits
      // says what is really wrong; only when none fits is the type itself the problem.
      const fitting = issue.errors.find((branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0));
      if (fitting) {
        for (const inner of fitting) this.reportIssue(inner, path, input);
        return;
      }
      const expected = issue.errors.flatMap((branch) => branch.map((i) => (i.code === 'invalid_type' ? kindName(i.expected) : '')));
      this.report('CONTENT_SCHEMA', path, typeMessage(expected.filter(Boolean).join(' or '), valueAt(input, path)));
      return;
    }
    this.report('CONTENT_SCHEMA', path, issueMessage(issue, valueAt(input, path)));
  }

  /** Line of the node at `path`, or of the nearest parent that exists. Keys give their own line. */
  private lineOf(path: ContentPath): number | undefined {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node);
    for (const key of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
        if (!pair) break;
        offset = rangeStart(pair.key) ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number' && node.items[key] !== undefined) {
        node = node.items[key];
        offset = rangeStart(node) ?? offset;
      } else {
        break;
      }
    }
    return offset === undefined ? undefined : this.lines.linePos(offset).line;
  }
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range?.[0];
}

function valueAt(input: unknown, path: ContentPath): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function issueMessage(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return typeMessage(kindName(issue.expected), value);
    case 'invalid_union':
      // zod 4 reports an unknown `type:` of a step this way; its typings do not list `options`.
      if ('note' in issue && issue.note === 'No matching discriminator') {
        const options = (issue as { options?: unknown[] }).options?.join(', ') ?? '';
        if (value === undefined) return `is required (one of: ${options})`;
        return `unknown ${String(issue.path.at(-1))} "${String(value)}" (one of: ${options})`;
      }
      return issue.message;
    // The schema words its own limits; zod's defaults ("Too small: expected array to have >=1 items") are rephrased.
    case 'too_small':
      if (!issue.message.startsWith('Too small')) return issue.message;
      return limitMessage('at least', issue.origin, Number(issue.minimum));
    case 'too_big':
      if (!issue.message.startsWith('Too big')) return issue.message;
      return limitMessage('at most', issue.origin, Number(issue.maximum));
    default:
      return issue.message;
  }
}

function limitMessage(bound: string, origin: string, limit: number): string {
  if (origin === 'array') return `must list ${bound} ${limit} ${limit === 1 ? 'item' : 'items'}`;
  if (origin === 'string') return limit === 1 && bound === 'at least' ? 'must not be empty' : `must be ${bound} ${limit} characters`;
  return `must be ${bound} ${limit}`;
}

function typeMessage(expected: string, value: unknown): string {
  if (value === undefined) return 'is required';
  if (value === null) return `is empty: expected ${expected}`;
  return `expected ${expected}, found ${describeValue(value)}`;
}

function kindName(expected: string): string {
  const names: Record<string, string> = {
    string: 'text',
    array: 'a list',
    object: 'a mapping (key: value lines)',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
  };
  return names[expected] ?? expected;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `text "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
