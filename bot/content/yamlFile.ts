/**
 * Reads one YAML file of the resources and validates it against a zod schema, reporting syntax
 * and schema problems with file, key path and line. Content, risk lexicons and helplines all
 * come through here, so every file a clinician edits gets the same kind of error report.
 *
 * Parsing YAML is most of what reading the content costs at start-up, so the plain data a file
 * gave is kept between starts (startupCache.ts) under a hash of its exact text: the same text
 * gives the same data. It is validated again every time, and the file is parsed again whenever a
 * problem needs its line.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { cacheKey, openStartupCache, type StartupCache } from '../cache/startupCache.js';
import { ContentFile, type ContentProblem, type YamlSource } from './contentError.js';

export interface Parsed<T> {
  readonly source: ContentFile;
  /** The file as plain data; undefined when it is not valid YAML. */
  readonly input: unknown;
  /** Undefined when the file has syntax or schema problems (already reported). */
  readonly data: T | undefined;
}

/** What turns the same text into the same data: the parser's version and how it is called here. */
const PARSER = `yaml@${(createRequire(import.meta.url)('yaml/package.json') as { version: string }).version} toJS`;

/** Undefined when the file does not exist (reported as missing). */
export async function readYaml<S extends z.ZodType>(
  rootDir: string,
  file: string,
  schema: S,
  problems: ContentProblem[],
  cache: StartupCache = openStartupCache(),
): Promise<Parsed<z.output<S>> | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(rootDir, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    problems.push({ code: 'CONTENT_FILE_MISSING', file, path: '', message: 'file is missing' });
    return undefined;
  }
  const cacheName = `yaml.${file.replace(/[^A-Za-z0-9]+/g, '.')}`;
  const key = cacheKey(PARSER, text);
  const kept = await cache.read(cacheName, key);
  const keptInput = kept && jsonOrUndefined(kept);
  if (keptInput !== undefined) return validate(new ContentFile(file, () => parse(text), problems), keptInput, schema);

  const parsed = parse(text);
  const source = new ContentFile(file, () => parsed, problems);
  if (source.reportSyntax()) return { source, input: undefined, data: undefined };
  let input: unknown;
  try {
    input = parsed.doc.toJS();
  } catch (error) {
    // yaml refuses to expand too many aliases (`*name`), which could exhaust memory.
    source.report('CONTENT_YAML_SYNTAX', [], (error as Error).message);
    return { source, input: undefined, data: undefined };
  }
  // Kept only when JSON gives back exactly the same data (no binary, no special numbers).
  if (isPlainJson(input)) await cache.write(cacheName, key, Buffer.from(JSON.stringify(input), 'utf8'));
  return validate(source, input, schema);
}

function parse(text: string): YamlSource {
  const lines = new LineCounter();
  // prettyErrors off: ContentFile adds the line itself and keeps each problem on one line.
  return { doc: parseDocument(text, { lineCounter: lines, prettyErrors: false }), lines };
}

function validate<S extends z.ZodType>(source: ContentFile, input: unknown, schema: S): Parsed<z.output<S>> {
  const result = schema.safeParse(input);
  if (!result.success) {
    source.reportSchema(result.error, input);
    return { source, input, data: undefined };
  }
  return { source, input, data: result.data };
}

function jsonOrUndefined(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.entries(value).every(([key, item]) => key !== '__proto__' && isPlainJson(item));
}
