/**
 * Crisis and helpline contacts per country, from `resources/helplines.yaml`. Each line names
 * where it was checked and when, because a wrong number handed to someone in crisis is the
 * worst mistake this bot could make. The loader reports problems with file and line like
 * all content; `forCountry` always answers, falling back to the international entry.
 */
import path from 'node:path';
import { z } from 'zod';
import { ContentError, type ContentProblem } from './contentError.js';
import { readYaml } from './yamlFile.js';

export const FALLBACK_COUNTRY = 'INTL';
export const HELPLINE_PURPOSES = ['crisis', 'prevention', 'child_protection'] as const;
export type HelplinePurpose = (typeof HELPLINE_PURPOSES)[number];

/** Text per locale; English is required because it is the fallback for every other language. */
const localised = z.record(z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as en or de'), z.string().trim().min(1)).refine((map) => 'en' in map, 'must have an "en" text');
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD');

const lineSchema = z
  .strictObject({
    name: z.string().trim().min(1),
    purpose: z.enum(HELPLINE_PURPOSES),
    phone: z.string().trim().min(3).optional(),
    sms: z.string().trim().min(3).optional(),
    web: z.url({ protocol: /^https$/, error: 'must be an https:// address' }).optional(),
    hours: localised,
    source: z.url({ protocol: /^https?$/, error: 'must be the address of the page this line was checked against' }),
    checked: z.union([date, z.date().transform((d) => d.toISOString().slice(0, 10))]),
  })
  .refine((line) => line.phone ?? line.sms ?? line.web, 'needs at least one of phone, sms or web');

const countrySchema = z.strictObject({
  code: z.string().regex(/^([A-Z]{2}|INTL)$/, 'must be a two-letter country code (GB, DE) or INTL'),
  names: localised,
  /** Other ways people name the country when they type it ("uk", "usa"). */
  synonyms: z.array(z.string().trim().min(1)).default([]),
  emergency: z.string().trim().min(2).nullable(),
  lines: z.array(lineSchema).min(1, 'must list at least one line'),
});

export const helplinesSchema = z.strictObject({ countries: z.array(countrySchema).min(1) });

export type HelplineLine = z.output<typeof lineSchema>;
export type Country = z.output<typeof countrySchema>;

export interface Helplines {
  /** In the file's order; the country question offers them as buttons. */
  readonly countries: readonly Country[];
  /** The country's entry, or the international one for an unknown or missing code. */
  forCountry(code: string | undefined): Country;
}

export async function loadHelplines(file: string): Promise<Helplines> {
  const problems: ContentProblem[] = [];
  const parsed = await readYaml(path.dirname(file), path.basename(file), helplinesSchema, problems);
  const countries = parsed?.data?.countries ?? [];
  if (parsed?.data) {
    const seen = new Set<string>();
    countries.forEach((country, i) => {
      if (seen.has(country.code)) parsed.source.report('CONTENT_DUPLICATE_COUNTRY', ['countries', i, 'code'], `country "${country.code}" is already listed above`);
      seen.add(country.code);
    });
    if (!seen.has(FALLBACK_COUNTRY)) {
      parsed.source.report('CONTENT_NO_FALLBACK', ['countries'], `add an entry with code ${FALLBACK_COUNTRY} for people in any other country`);
    }
  }
  if (problems.length > 0) throw new ContentError(problems);
  const frozen = Object.freeze(countries.map((c) => Object.freeze(c)));
  const byCode = new Map(frozen.map((c) => [c.code, c] as const));
  const fallback = byCode.get(FALLBACK_COUNTRY) as Country;
  return Object.freeze({
    countries: frozen,
    forCountry: (code: string | undefined) => (code === undefined ? fallback : (byCode.get(code) ?? fallback)),
  });
}

/** A localised text in the wanted language, its base language, or English. */
export function inLocale(texts: Readonly<Record<string, string>>, locale: string): string {
  const wanted = locale.replace(/_/g, '-').toLowerCase();
  return texts[wanted] ?? texts[wanted.split('-')[0] ?? ''] ?? (texts.en as string);
}
