/**
 * Small-cell suppression for every figure the dashboard shows or exports: a count from 1 to 4 is
 * shown as "<5", so no chart, table or CSV ever says that one or two people did something on a
 * given day. Sums are always taken over the real counts and suppressed afterwards; adding up
 * numbers that were already hidden would make totals wrong and would not hide anything more.
 *
 * Zero stays 0. It says that nobody did something, which points at no one, and hiding it would
 * make every empty day look like activity. The price is that "<5" then means 1 to 4, not 0 to 4;
 * the counts hold no ids and no time finer than the day, so knowing "at least one" singles out
 * nobody.
 *
 * What suppression cannot stop: a supervisor who asks for two ranges that differ by one day can
 * subtract one answer from the other. Suppression keeps small numbers out of the charts and files
 * that get shared; it is not a guarantee against a trusted user differencing on purpose.
 */

export const SUPPRESS_BELOW = 5;
export const SUPPRESSED = '<5';

/** A count as it may be shown: a whole number of 0 or at least 5, or "<5". */
export type ShownCount = number | typeof SUPPRESSED;

/**
 * Adds the counters of several days key by key. A value that is not a whole, non-negative number
 * (a hand-edited or damaged file) counts as 0 rather than breaking or skewing the sum.
 */
export function sumCounts(days: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const day of days) {
    for (const [key, value] of Object.entries(day)) {
      if (!isCount(value)) continue;
      total[key] = (total[key] ?? 0) + value;
    }
  }
  return total;
}

/** The real total of the counters whose key passes `include`. */
export function totalOf(counts: Readonly<Record<string, number>>, include: (key: string) => boolean): number {
  let total = 0;
  for (const [key, value] of Object.entries(counts)) if (isCount(value) && include(key)) total += value;
  return total;
}

/** The count as it may be shown. */
export function suppress(count: number): ShownCount {
  if (!isCount(count) || count === 0) return 0;
  return count < SUPPRESS_BELOW ? SUPPRESSED : count;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
