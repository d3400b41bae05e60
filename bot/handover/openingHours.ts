/**
 * Whether counsellors are on duty at a given moment, when they next will be and when the
 * current shift ends, from the weekly hours and holidays of the handover settings. Hours are
 * wall-clock times in the service's time zone, so 09:00 stays 09:00 across daylight-saving
 * changes; every instant is read on that zone's clock through Intl, never the server's.
 * Pure: no I/O, no clock of its own (the caller passes the moment).
 */
import type { HandoverSettings, Weekday } from './handoverSettings.js';

export interface OpeningHours {
  /** Start inclusive, end exclusive: open at 09:00:00, closed at 17:00:00 for 09:00-17:00. */
  isOpen(at: Date): boolean;
  /** `at` itself when open; otherwise the start of the next open period; undefined if never open in the next 366 days. */
  nextOpening(at: Date): Date | undefined;
  /**
   * When the current open period ends; undefined when closed, or when open without a break for
   * the next 366 days. Ranges that touch (12:00 after 09:00-12:00, 00:00 after 24:00) are one period.
   */
  closesAt(at: Date): Date | undefined;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const HORIZON_DAYS = 366;
/** In the order of Date#getUTCDay. */
const WEEKDAYS: readonly Weekday[] = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** A stretch of the zone's wall clock, in ms since 1970-01-01T00:00 on that clock. */
interface WallRange {
  readonly start: number;
  readonly end: number;
}

export function createOpeningHours(settings: Pick<HandoverSettings, 'timeZone' | 'weekly' | 'holidays'>): OpeningHours {
  const clock = zoneClock(settings.timeZone);
  const holidays = new Set(settings.holidays.map((h) => h.date));

  /** The open ranges of one local day, numbered in days since 1970-01-01. */
  function rangesOf(dayNumber: number): WallRange[] {
    const midnight = dayNumber * DAY;
    const date = new Date(midnight);
    if (holidays.has(date.toISOString().slice(0, 10))) return [];
    const weekday = WEEKDAYS[date.getUTCDay()] as Weekday;
    return settings.weekly[weekday].map((r) => ({ start: midnight + r.startMinute * MINUTE, end: midnight + r.endMinute * MINUTE }));
  }

  function openRangeAt(wall: number): WallRange | undefined {
    return rangesOf(Math.floor(wall / DAY)).find((r) => r.start <= wall && wall < r.end);
  }

  const isOpenAt = (instant: number) => openRangeAt(clock.wallTime(instant)) !== undefined;

  return Object.freeze({
    isOpen: (at: Date) => isOpenAt(at.getTime()),

    nextOpening(at: Date): Date | undefined {
      const now = at.getTime();
      if (isOpenAt(now)) return new Date(now);
      const today = Math.floor(clock.wallTime(now) / DAY);
      for (let day = today; day <= today + HORIZON_DAYS; day++) {
        for (const range of rangesOf(day)) {
          const start = clock.instantAt(range.start, now);
          if (start === undefined || start - now > HORIZON_DAYS * DAY) continue;
          // A range lying wholly in the hour skipped in spring never opens.
          if (isOpenAt(start)) return new Date(start);
        }
      }
      return undefined;
    },

    closesAt(at: Date): Date | undefined {
      const now = at.getTime();
      const wall = clock.wallTime(now);
      const current = openRangeAt(wall);
      if (!current) return undefined;
      let end = current.end;
      for (;;) {
        // A range ending at 24:00 continues into one starting at 00:00: Math.floor puts `end` on the next day.
        const next = rangesOf(Math.floor(end / DAY)).find((r) => r.start === end);
        if (!next) break;
        end = next.end;
        if (end - wall > HORIZON_DAYS * DAY) return undefined;
      }
      const closing = clock.instantAt(end, now);
      return closing === undefined ? undefined : new Date(closing);
    },
  });
}

/**
 * "today at 09:00 (GMT)", "tomorrow at 09:00 (GMT)" or "Monday 5 January at 09:00 (GMT)" in the
 * person's language, told in the service's time zone. Today and tomorrow are days on the
 * service's clock. The zone's name is always added: a person's own zone is never known here.
 */
export function describeNextOpening(at: Date, locale: string, timeZone: string, now: Date): string {
  const language = supportedLocale(locale);
  const clock = zoneClock(timeZone);
  const daysAhead = Math.floor(clock.wallTime(at.getTime()) / DAY) - Math.floor(clock.wallTime(now.getTime()) / DAY);
  const zoneName = new Intl.DateTimeFormat(language, { timeZone, timeZoneName: 'short' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value;
  const suffix = zoneName ? ` (${zoneName})` : '';
  const dateAndTime = new Intl.DateTimeFormat(language, { timeZone, weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' });
  if (daysAhead !== 0 && daysAhead !== 1) return dateAndTime.format(at) + suffix;
  const relativeDay = new Intl.RelativeTimeFormat(language, { numeric: 'auto' }).format(daysAhead, 'day');
  const time = new Intl.DateTimeFormat(language, { timeZone, hour: '2-digit', minute: '2-digit' }).format(at);
  return `${relativeDay}${dateTimeJoiner(dateAndTime.formatToParts(at))}${time}${suffix}`;
}

/**
 * The words a language puts between a date and its time (" at ", " um ", " à "), taken from
 * Intl's own date-and-time pattern so that no language's words are written here; a space when
 * the pattern does not put the date first.
 */
function dateTimeJoiner(parts: Intl.DateTimeFormatPart[]): string {
  const timeIndex = parts.findIndex((p) => p.type === 'hour' || p.type === 'minute' || p.type === 'dayPeriod');
  const before = parts[timeIndex - 1];
  const datePrecedes = parts.slice(0, timeIndex).some((p) => p.type === 'weekday' || p.type === 'day' || p.type === 'month');
  return datePrecedes && before?.type === 'literal' ? before.value : ' ';
}

/** Channels sometimes send en_GB or a tag Intl does not know; a wrong language beats no message. */
function supportedLocale(locale: string): string {
  try {
    return Intl.getCanonicalLocales(locale.replace(/_/g, '-'))[0] ?? 'en';
  } catch {
    return 'en';
  }
}

interface ZoneClock {
  /** The zone's wall clock at `instant`, as ms since 1970-01-01T00:00 on that clock. */
  wallTime(instant: number): number;
  /**
   * The first instant at or after `notBefore` at which the clock shows `wall`, or, when the clock
   * skips it (spring forward), the instant it jumps past it; undefined when that was earlier.
   */
  instantAt(wall: number, notBefore: number): number | undefined;
}

function zoneClock(timeZone: string): ZoneClock {
  // en-US with numeric fields: parts that parse as numbers; h23 so midnight is 00, not 24.
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });

  function wallTime(instant: number): number {
    const field: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
    for (const part of format.formatToParts(instant)) field[part.type] = Number(part.value);
    const milliseconds = ((instant % 1000) + 1000) % 1000;
    return Date.UTC(field.year ?? 1970, (field.month ?? 1) - 1, field.day ?? 1, field.hour ?? 0, field.minute ?? 0, field.second ?? 0) + milliseconds;
  }

  function instantAt(wall: number, notBefore: number): number | undefined {
    // The answer lies within 14 hours of `wall`; a day either side sees the offsets before and after any change.
    const offsets = new Set([wall - DAY, wall, wall + DAY].map((instant) => wallTime(instant) - instant));
    const candidates = [...offsets].map((offset) => wall - offset).sort((a, b) => a - b);
    const exact = candidates.filter((instant) => wallTime(instant) === wall);
    // In autumn an hour of the clock happens twice: the first occurrence not yet past is the one.
    if (exact.length > 0) return exact.find((instant) => instant >= notBefore);
    let before = candidates[0] as number;
    let after = candidates[candidates.length - 1] as number;
    while (after - before > 1) {
      const middle = Math.floor((before + after) / 2);
      if (wallTime(middle) >= wall) after = middle;
      else before = middle;
    }
    return after >= notBefore ? after : undefined;
  }

  return { wallTime, instantAt };
}
