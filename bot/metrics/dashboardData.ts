/**
 * What the supervisor dashboard shows for a range of days, read from the daily aggregate counts
 * and suppressed (see suppression.ts): the funnel from a started conversation to a counsellor,
 * escalations by category over time, how long people waited, and how they rated the chat.
 * Channels and languages are summed away: the dashboard answers "how are we doing", and fewer,
 * larger cells mean fewer hidden ones.
 */
import type { AggregateCounts } from './aggregateCounts.js';
import { COUNTED, WAIT_BUCKETS } from './countedEvents.js';
import { suppress, sumCounts, totalOf, type ShownCount } from './suppression.js';
import { RISK_CATEGORIES } from '../risk/riskData.js';

/** A range of whole UTC days, both ends included (the aggregates are kept per UTC day). */
export interface DateRange {
  readonly from: string;
  readonly to: string;
  readonly days: number;
}

export const MAX_RANGE_DAYS = 366;
export const DEFAULT_RANGE_DAYS = 30;
/** Longer ranges are shown in 7-day periods, so a chart of months stays readable and its cells bigger. */
const DAILY_UP_TO_DAYS = 62;
const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export const FUNNEL_STEPS = ['started', 'consented', 'moduleStarted', 'moduleCompleted', 'askedForPerson', 'connected'] as const;
export type FunnelStep = (typeof FUNNEL_STEPS)[number];

const MODULE_STARTED = 'module.started.';
const MODULE_COMPLETED = 'module.completed.';
const ESCALATION = /^escalation\.([a-z0-9_-]+)\.[a-z0-9_-]+$/;
const WAITED = 'handover.waited.';
const RATED = 'handover.rating.';
const STARS = [1, 2, 3, 4, 5] as const;

/** Which events each funnel step adds up. Module steps count starts and completions of every module. */
const FUNNEL_EVENTS: Readonly<Record<FunnelStep, (event: string) => boolean>> = {
  started: (event) => event === COUNTED.conversationStarted,
  consented: (event) => event === COUNTED.consentGiven,
  moduleStarted: (event) => event.startsWith(MODULE_STARTED),
  moduleCompleted: (event) => event.startsWith(MODULE_COMPLETED),
  askedForPerson: (event) => event === COUNTED.handoverRequested,
  connected: (event) => event === COUNTED.handoverConnected,
};

export interface DashboardData {
  readonly from: string;
  readonly to: string;
  readonly days: number;
  readonly funnel: readonly { readonly step: FunnelStep; readonly count: ShownCount }[];
  readonly escalations: {
    readonly period: 'day' | 'week';
    /** Categories that escalated at least once in the range, in the risk screen's order. */
    readonly categories: readonly string[];
    readonly periods: readonly { readonly from: string; readonly to: string; readonly counts: Readonly<Record<string, ShownCount>> }[];
  };
  readonly waiting: readonly { readonly bucket: string; readonly count: ShownCount }[];
  readonly ratings: readonly { readonly stars: number; readonly count: ShownCount }[];
  /**
   * Mean stars to one decimal, only when no rating count is hidden: with one hidden count, the
   * mean and the other four would give it away. Null then, and when nobody rated.
   */
  readonly averageRating: number | null;
}

export type DateRangeResult = { ok: true; range: DateRange } | { ok: false; detail: string };

/**
 * Checks `from` and `to` (YYYY-MM-DD, from query parameters). Either may be left out: `to`
 * defaults to `today`, `from` to 30 days ending at `to`.
 */
export function parseDateRange(from: unknown, to: unknown, today: string): DateRangeResult {
  const end = to === undefined ? dayNumber(today) : dayNumber(to);
  if (end === undefined) return { ok: false, detail: 'to must be a real date written YYYY-MM-DD.' };
  const start = from === undefined ? end - (DEFAULT_RANGE_DAYS - 1) : dayNumber(from);
  if (start === undefined) return { ok: false, detail: 'from must be a real date written YYYY-MM-DD.' };
  if (start > end) return { ok: false, detail: 'from is after to; swap the dates.' };
  const days = end - start + 1;
  if (days > MAX_RANGE_DAYS) return { ok: false, detail: `The range spans ${days} days; choose at most ${MAX_RANGE_DAYS}.` };
  return { ok: true, range: { from: dateOf(start), to: dateOf(end), days } };
}

/** Reads every day of the range (at most 366 reads) and builds the suppressed figures. */
export async function readDashboard(counts: AggregateCounts, range: DateRange): Promise<DashboardData> {
  const first = dayNumber(range.from);
  if (first === undefined || range.days < 1 || range.days > MAX_RANGE_DAYS) throw new RangeError('readDashboard: use parseDateRange for the range');
  const dates = Array.from({ length: range.days }, (_, i) => dateOf(first + i));
  const days = (await Promise.all(dates.map((date) => counts.day(date)))).map(byEvent);
  const total = sumCounts(days);

  const funnel = FUNNEL_STEPS.map((step) => ({ step, count: suppress(totalOf(total, FUNNEL_EVENTS[step])) }));
  const waiting = WAIT_BUCKETS.map(({ name }) => ({ bucket: name, count: suppress(total[WAITED + name] ?? 0) }));
  const rated = STARS.map((stars) => ({ stars, real: total[RATED + stars] ?? 0 }));
  const ratings = rated.map(({ stars, real }) => ({ stars, count: suppress(real) }));

  return {
    ...range,
    funnel,
    escalations: escalationsOverTime(dates, days),
    waiting,
    ratings,
    averageRating: average(rated, ratings),
  };
}

function escalationsOverTime(dates: readonly string[], days: readonly Record<string, number>[]): DashboardData['escalations'] {
  const period = dates.length <= DAILY_UP_TO_DAYS ? 'day' : 'week';
  const size = period === 'day' ? 1 : 7;
  const perCategory = days.map(escalationsByCategory);
  const seen = new Set(perCategory.flatMap((day) => Object.keys(day)));
  const categories = [...seen].sort(byRiskOrder);
  const periods = [];
  for (let start = 0; start < dates.length; start += size) {
    const real = sumCounts(perCategory.slice(start, start + size));
    periods.push({
      from: dates[start]!,
      to: dates[Math.min(start + size, dates.length) - 1]!,
      counts: Object.fromEntries(categories.map((category) => [category, suppress(real[category] ?? 0)])),
    });
  }
  return { period, categories, periods };
}

function escalationsByCategory(day: Readonly<Record<string, number>>): Record<string, number> {
  const byCategory: Record<string, number> = {};
  for (const [event, count] of Object.entries(day)) {
    const category = ESCALATION.exec(event)?.[1];
    if (category && count > 0) byCategory[category] = (byCategory[category] ?? 0) + count;
  }
  return byCategory;
}

function average(rated: readonly { stars: number; real: number }[], shown: readonly { count: ShownCount }[]): number | null {
  if (shown.some(({ count }) => typeof count !== 'number')) return null;
  const people = rated.reduce((sum, { real }) => sum + real, 0);
  if (people === 0) return null;
  const stars = rated.reduce((sum, { stars, real }) => sum + stars * real, 0);
  return Math.round((stars / people) * 10) / 10;
}

/** One day's counters summed over channel and language: "webchat|en|consent.given" -> "consent.given". */
function byEvent(day: Readonly<Record<string, number>>): Record<string, number> {
  return sumCounts(
    Object.entries(day).flatMap(([key, count]) => {
      const event = key.split('|')[2];
      return event ? [{ [event]: count }] : [];
    }),
  );
}

const RISK_ORDER: readonly string[] = RISK_CATEGORIES;
function byRiskOrder(a: string, b: string): number {
  const rank = (category: string) => {
    const index = RISK_ORDER.indexOf(category);
    return index < 0 ? RISK_ORDER.length : index;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** Days since 1970-01-01 for a real YYYY-MM-DD date, or undefined. */
function dayNumber(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = DATE.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const time = Date.UTC(year, month - 1, day);
  // Date.UTC rolls 2026-02-30 over to March and maps years below 100 to the 1900s; both fail here.
  return dateOf(time / DAY_MS) === value ? time / DAY_MS : undefined;
}

function dateOf(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}
