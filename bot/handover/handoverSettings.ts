/**
 * When counsellors take live chats and how the waiting queue behaves, from
 * `resources/handover.yaml`. Operators edit that file, not code, so the loader reports every
 * problem with file, key and line like all content, and the settings come out validated and
 * frozen: opening hours as minutes after local midnight, holidays as YYYY-MM-DD dates.
 */
import path from 'node:path';
import { z } from 'zod';
import { ContentError, type ContentProblem } from '../content/contentError.js';
import { readYaml } from '../content/yamlFile.js';

export type Weekday = 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';

/** One open period of a day, in the service's time zone; the end is exclusive. */
export interface OpeningRange {
  /** Minutes after local midnight, 0–1439. */
  readonly startMinute: number;
  /** Minutes after local midnight, up to 1440 (24:00, the end of the day). */
  readonly endMinute: number;
}

export interface Holiday {
  /** YYYY-MM-DD in the service's time zone; closed the whole day. */
  readonly date: string;
  readonly name: string;
}

export interface QueueSettings {
  /** A person waiting longer is offered other routes and leaves the queue. */
  readonly timeoutMinutes: number;
  /** Average chat length for wait estimates until real chats have been measured. */
  readonly assumedChatMinutes: number;
  /** The shortest interval between two "you are number N" messages to a waiting person. */
  readonly positionUpdateSeconds: number;
}

export interface HandoverSettings {
  /** IANA name, e.g. Europe/London. */
  readonly timeZone: string;
  /** Each day's ranges in order, none overlapping; an empty list means closed. */
  readonly weekly: Readonly<Record<Weekday, readonly OpeningRange[]>>;
  readonly holidays: readonly Holiday[];
  readonly queue: QueueSettings;
}

const MINUTES_PER_DAY = 24 * 60;

const timeZone = z
  .string()
  .trim()
  .min(1)
  .refine(isTimeZone, 'must be a time zone name such as Europe/London (the "TZ identifier" column of the tz database list)');

const range = z
  .string()
  .regex(/^\d\d:\d\d-\d\d:\d\d$/, 'must be a time range written HH:MM-HH:MM, e.g. 09:00-17:00')
  .transform((text, ctx): OpeningRange => {
    const [start = '', end = ''] = text.split('-');
    const startMinute = minuteOfDay(start);
    const endMinute = minuteOfDay(end);
    if (startMinute === undefined || endMinute === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${text}" has a time that does not exist (hours 00–24, minutes 00–59, 24:00 the latest)` });
      return z.NEVER;
    }
    if (startMinute === MINUTES_PER_DAY) {
      ctx.addIssue({ code: 'custom', message: `"${text}": 24:00 can only end a range; start the day at 00:00` });
      return z.NEVER;
    }
    if (endMinute <= startMinute) {
      // Overnight hours are two ranges, so each day's list says exactly when that day is open.
      ctx.addIssue({ code: 'custom', message: `"${text}" must end after it starts; for hours past midnight end this day at 24:00 and start the next at 00:00` });
      return z.NEVER;
    }
    return { startMinute, endMinute };
  });

const day = z
  .array(range)
  .superRefine((ranges, ctx) => {
    const byStart = ranges.map((r, index) => ({ ...r, index })).sort((a, b) => a.startMinute - b.startMinute);
    // Compared with the range reaching furthest so far, so 12:00-13:00 is caught inside 09:00-21:00 even after 10:00-11:00.
    let furthest = byStart[0];
    for (const later of byStart.slice(1)) {
      if (furthest && later.startMinute < furthest.endMinute) {
        ctx.addIssue({ code: 'custom', path: [later.index], message: `"${formatRange(later)}" overlaps "${formatRange(furthest)}"` });
      }
      if (!furthest || later.endMinute > furthest.endMinute) furthest = later;
    }
  })
  .transform((ranges) => [...ranges].sort((a, b) => a.startMinute - b.startMinute));

/** The `yaml` package reads an unquoted 2026-12-25 as text or as a Date depending on its schema: both are accepted. */
const date = z
  .union([z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD'), z.date().transform((d) => d.toISOString().slice(0, 10))])
  .pipe(z.string().refine(isCalendarDate, 'is not a date in the calendar'));

const handoverSchema = z.strictObject({
  timeZone,
  weekly: z.strictObject({ monday: day, tuesday: day, wednesday: day, thursday: day, friday: day, saturday: day, sunday: day }),
  holidays: z.array(z.strictObject({ date, name: z.string().trim().min(1).max(100) })).default([]),
  queue: z.strictObject({
    timeoutMinutes: z.int().min(1).max(24 * 60),
    assumedChatMinutes: z.int().min(1).max(8 * 60),
    // Under 10 s a waiting person would get a message about every other thing they read.
    positionUpdateSeconds: z.int().min(10).max(60 * 60),
  }),
});

/** Throws ContentError listing every problem of the file, each with its line. */
export async function loadHandoverSettings(file: string): Promise<HandoverSettings> {
  const problems: ContentProblem[] = [];
  const parsed = await readYaml(path.dirname(file), path.basename(file), handoverSchema, problems);
  const data = parsed?.data;
  if (parsed && data) {
    const seen = new Map<string, string>();
    data.holidays.forEach((holiday, i) => {
      const earlier = seen.get(holiday.date);
      if (earlier !== undefined) parsed.source.report('CONTENT_DUPLICATE_HOLIDAY', ['holidays', i, 'date'], `${holiday.date} is already listed above as "${earlier}"`);
      else seen.set(holiday.date, holiday.name);
    });
  }
  if (problems.length > 0 || !data) throw new ContentError(problems);
  const weekly = Object.fromEntries(Object.entries(data.weekly).map(([name, ranges]) => [name, Object.freeze(ranges.map((r) => Object.freeze(r)))]));
  return Object.freeze({
    timeZone: data.timeZone,
    weekly: Object.freeze(weekly as Record<Weekday, readonly OpeningRange[]>),
    holidays: Object.freeze(data.holidays.map((h) => Object.freeze(h))),
    queue: Object.freeze(data.queue),
  });
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Rejects 2026-02-30 and the like, which the pattern lets through. */
function isCalendarDate(text: string): boolean {
  const time = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().startsWith(text);
}

/** `"09:30"` -> 570; undefined for a time that does not exist. 24:00 is allowed as the end of the day. */
function minuteOfDay(text: string): number | undefined {
  const [hours = NaN, minutes = NaN] = text.split(':').map(Number);
  if (hours > 24 || minutes > 59 || (hours === 24 && minutes > 0)) return undefined;
  return hours * 60 + minutes;
}

function formatRange({ startMinute, endMinute }: OpeningRange): string {
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return `${hhmm(startMinute)}-${hhmm(endMinute)}`;
}
