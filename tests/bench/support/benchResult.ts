/**
 * What every benchmark writes, so `npm run bench` (tests/bench/runAll.ts) can put all of them in
 * one table: `bench/results/<name>.json` holds the benchmark's own details plus `figures`, the
 * headline numbers, each with the target where it sets one. A figure that could not be
 * measured is `null` with a note saying why, never left out: a missing row reads as "fine".
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const RESULTS_DIR = path.join(REPO_ROOT, 'bench/results');

/** A target from the issue: the value should be at most or at least this. */
export type Target = { readonly atMost: number } | { readonly atLeast: number };

export interface Figure {
  /** What was measured, in words a reader of the table understands without the code. */
  readonly figure: string;
  /** null: not measured (see `note`). */
  readonly value: number | null;
  readonly unit: string;
  readonly target?: Target;
  /** Whether the target is met; null when there is no target or no value. */
  readonly met: boolean | null;
  readonly note?: string;
}

export function figure(name: string, value: number | null | undefined, unit: string, target?: Target, note?: string): Figure {
  const known = value === undefined || value === null || Number.isNaN(value) ? null : value;
  return { figure: name, value: known, unit, ...(target ? { target } : {}), met: targetMet(known, target), ...(note ? { note } : {}) };
}

export function targetMet(value: number | null, target: Target | undefined): boolean | null {
  if (value === null || !target) return null;
  return 'atMost' in target ? value <= target.atMost : value >= target.atLeast;
}

export function describeTarget(target: Target | undefined, unit: string): string {
  if (!target) return '';
  const space = unit && unit !== '×' ? ` ${unit}` : unit;
  return 'atMost' in target ? `<= ${target.atMost}${space}` : `>= ${target.atLeast}${space}`;
}

/** Where a benchmark's result lands; runAll reads the same path. */
export function resultFile(name: string): string {
  return path.join(RESULTS_DIR, `${name}.json`);
}

/** Writes `bench/results/<name>.json` with when and where it ran, and returns its path. */
export async function writeBenchResult(name: string, details: Record<string, unknown>, figures: readonly Figure[]): Promise<string> {
  const file = resultFile(name);
  await mkdir(RESULTS_DIR, { recursive: true });
  const body = { benchmark: name, date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, loadAverage: os.loadavg().map(round2), ...details, figures };
  await writeFile(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
