/**
 * The dashboard's figures as one CSV in long form, ready for a pivot table: one row per figure,
 * with the period it covers. It holds exactly what the page shows, already suppressed, so an
 * export can never say more than the screen. Items are codes (step, category, bucket, stars),
 * not words, so the file reads the same whatever the page's language.
 */
import type { DashboardData } from './dashboardData.js';
import type { ShownCount } from './suppression.js';

const HEADER = ['section', 'period_start', 'period_end', 'item', 'count'] as const;
type Row = readonly [section: string, periodStart: string, periodEnd: string, item: string, count: ShownCount];

export function dashboardCsv(data: DashboardData): string {
  const whole = (section: string, item: string | number, count: ShownCount): Row => [section, data.from, data.to, String(item), count];
  const rows: Row[] = [
    ...data.funnel.map(({ step, count }) => whole('funnel', step, count)),
    ...data.escalations.periods.flatMap(({ from, to, counts }) =>
      data.escalations.categories.map((category): Row => ['escalations', from, to, category, counts[category] ?? 0]),
    ),
    ...data.waiting.map(({ bucket, count }) => whole('waiting', bucket, count)),
    ...data.ratings.map(({ stars, count }) => whole('ratings', stars, count)),
  ];
  // CRLF as RFC 4180 asks; spreadsheet programs read it on every platform.
  return [HEADER, ...rows].map((row) => row.map((cell) => csvCell(String(cell))).join(',')).join('\r\n') + '\r\n';
}

/**
 * Quotes a cell when it needs it, and defuses a cell a spreadsheet would run as a formula
 * (=, +, -, @, tab, carriage return first) by starting it with an apostrophe. Every value here is
 * ours, but a category name comes from stored data, and an export is opened far from our code.
 */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
