/**
 * Reads one YAML file of the resources and validates it against a zod schema, reporting syntax
 * and schema problems with file, key path and line. Content, risk lexicons and helplines all
 * come through here, so every file a clinician edits gets the same kind of error report.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ContentFile, type ContentProblem } from './contentError.js';

export interface Parsed<T> {
  readonly source: ContentFile;
  /** The file as plain data; undefined when it is not valid YAML. */
  readonly input: unknown;
  /** Undefined when the file has syntax or schema problems (already reported). */
  readonly data: T | undefined;
}

/** Undefined when the file does not exist (reported as missing). */
export async function readYaml<S extends z.ZodType>(
  rootDir: string,
  file: string,
  schema: S,
  problems: ContentProblem[],
): Promise<Parsed<z.output<S>> | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(rootDir, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    problems.push({ code: 'CONTENT_FILE_MISSING', file, path: '', message: 'file is missing' });
    return undefined;
  }
  const lines = new LineCounter();
  // prettyErrors off: ContentFile adds the line itself and keeps each problem on one line.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const source = new ContentFile(file, doc, lines, problems);
  if (source.reportSyntax()) return { source, input: undefined, data: undefined };
  let input: unknown;
  try {
    input = doc.toJS();
  } catch (error) {
    // yaml refuses to expand too many aliases (`*name`), which could exhaust memory.
    source.report('CONTENT_YAML_SYNTAX', [], (error as Error).message);
    return { source, input: undefined, data: undefined };
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    source.reportSchema(result.error, input);
    return { source, input, data: undefined };
  }
  return { source, input, data: result.data };
}
