import { describe, expect, it } from '@jest/globals';
import type { Weekday } from '../../bot/handover/handoverSettings.js';
import { createOpeningHours, describeNextOpening } from '../../bot/handover/openingHours.js';

const DAYS: readonly Weekday[] = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** Opening hours written the way the YAML file writes them: `{ monday: ['09:00-17:00'] }`, other days closed. */
function hours(timeZone: string, weekly: Partial<Record<Weekday, string[]>>, holidays: string[] = []) {
  const minute = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const ranges = (list: string[] = []) => list.map((r) => ({ startMinute: minute(r.slice(0, 5)), endMinute: minute(r.slice(6, 11)) }));
  return createOpeningHours({
    timeZone,
    weekly: Object.fromEntries(DAYS.map((day) => [day, ranges(weekly[day])])) as Record<Weekday, ReturnType<typeof ranges>>,
    holidays: holidays.map((date) => ({ date, name: 'Holiday' })),
  });
}

const WEEKDAYS_9_TO_5 = { monday: ['09:00-17:00'], tuesday: ['09:00-17:00'], wednesday: ['09:00-17:00'], thursday: ['09:00-17:00'], friday: ['09:00-17:00'] };
const at = (iso: string) => new Date(iso);
const iso = (date: Date | undefined) => date?.toISOString();

// January 2027 in London is on GMT, so local times read the same as the UTC instants below.
// Monday 4 January 2027 is a Monday.
describe('opening hours in the service’s time zone', () => {
  const london = hours('Europe/London', WEEKDAYS_9_TO_5);

  it('opens at the start of a range and closes at its end', () => {
    expect(london.isOpen(at('2027-01-04T08:59:59.999Z'))).toBe(false);
    expect(london.isOpen(at('2027-01-04T09:00:00.000Z'))).toBe(true);
    expect(london.isOpen(at('2027-01-04T16:59:59.999Z'))).toBe(true);
    expect(london.isOpen(at('2027-01-04T17:00:00.000Z'))).toBe(false);
  });

  it('says when the open period ends, and nothing when closed', () => {
    expect(iso(london.closesAt(at('2027-01-04T10:15:00Z')))).toBe('2027-01-04T17:00:00.000Z');
    expect(london.closesAt(at('2027-01-04T17:00:00Z'))).toBeUndefined();
  });

  it('gives the moment itself as the next opening while open', () => {
    expect(iso(london.nextOpening(at('2027-01-04T10:15:00Z')))).toBe('2027-01-04T10:15:00.000Z');
  });

  it('opens later the same day, or the next day after closing', () => {
    expect(iso(london.nextOpening(at('2027-01-04T06:00:00Z')))).toBe('2027-01-04T09:00:00.000Z');
    expect(iso(london.nextOpening(at('2027-01-04T17:00:00Z')))).toBe('2027-01-05T09:00:00.000Z');
  });

  it('opens on Monday after a closed weekend', () => {
    expect(iso(london.nextOpening(at('2027-01-08T17:30:00Z')))).toBe('2027-01-11T09:00:00.000Z');
    expect(iso(london.nextOpening(at('2027-01-09T12:00:00Z')))).toBe('2027-01-11T09:00:00.000Z');
    expect(london.isOpen(at('2027-01-10T12:00:00Z'))).toBe(false);
  });

  it('stays closed all day on a holiday and opens the next working day', () => {
    const withHoliday = hours('Europe/London', WEEKDAYS_9_TO_5, ['2027-01-11']);

    expect(withHoliday.isOpen(at('2027-01-11T12:00:00Z'))).toBe(false);
    expect(iso(withHoliday.nextOpening(at('2027-01-08T17:30:00Z')))).toBe('2027-01-12T09:00:00.000Z');
  });

  it('takes a holiday’s date on the service’s clock, not UTC', () => {
    const newYork = hours('America/New_York', { monday: ['00:00-24:00'], tuesday: ['00:00-24:00'] }, ['2027-01-04']);

    // 03:00 UTC on Tuesday is still Monday 22:00 in New York.
    expect(newYork.isOpen(at('2027-01-05T03:00:00Z'))).toBe(false);
    expect(iso(newYork.nextOpening(at('2027-01-05T03:00:00Z')))).toBe('2027-01-05T05:00:00.000Z');
  });

  it('opens until midnight with a range ending at 24:00', () => {
    const evenings = hours('Europe/London', { monday: ['20:00-24:00'] });

    expect(evenings.isOpen(at('2027-01-04T23:59:59.999Z'))).toBe(true);
    expect(evenings.isOpen(at('2027-01-05T00:00:00Z'))).toBe(false);
    expect(iso(evenings.closesAt(at('2027-01-04T21:00:00Z')))).toBe('2027-01-05T00:00:00.000Z');
    expect(iso(evenings.nextOpening(at('2027-01-05T00:00:00Z')))).toBe('2027-01-11T20:00:00.000Z');
  });

  it('counts a range to 24:00 and one from 00:00 the next day as one shift', () => {
    const nights = hours('Europe/London', { friday: ['18:00-24:00'], saturday: ['00:00-02:00'] });

    expect(iso(nights.closesAt(at('2027-01-08T20:00:00Z')))).toBe('2027-01-09T02:00:00.000Z');
    expect(iso(nights.closesAt(at('2027-01-09T01:00:00Z')))).toBe('2027-01-09T02:00:00.000Z');
  });

  it('counts ranges that touch as one open period, across several days', () => {
    const split = hours('Europe/London', { monday: ['09:00-12:00', '12:00-13:00'] });
    const weekend = hours('Europe/London', { saturday: ['00:00-24:00'], sunday: ['00:00-24:00'], monday: ['00:00-09:00', '10:00-12:00'] });

    expect(iso(split.closesAt(at('2027-01-04T10:00:00Z')))).toBe('2027-01-04T13:00:00.000Z');
    expect(iso(weekend.closesAt(at('2027-01-09T08:00:00Z')))).toBe('2027-01-11T09:00:00.000Z');
  });

  it('is always open and never closes when every day runs 00:00-24:00', () => {
    const always = hours('Europe/London', Object.fromEntries(DAYS.map((day) => [day, ['00:00-24:00']])));

    expect(always.isOpen(at('2027-01-04T03:00:00Z'))).toBe(true);
    expect(always.closesAt(at('2027-01-04T03:00:00Z'))).toBeUndefined();
  });

  it('never opens when every day is closed', () => {
    const never = hours('Europe/London', {});

    expect(never.isOpen(at('2027-01-04T10:00:00Z'))).toBe(false);
    expect(never.nextOpening(at('2027-01-04T10:00:00Z'))).toBeUndefined();
    expect(never.closesAt(at('2027-01-04T10:00:00Z'))).toBeUndefined();
  });

  it('does not look further than 366 days ahead', () => {
    // Open on Mondays only. With 52 Mondays in a row holidays the next opening is 364 days away; with 53, 371.
    const mondays = Array.from({ length: 60 }, (_, week) => new Date(Date.UTC(2027, 0, 4 + 7 * week)).toISOString().slice(0, 10));
    const rarely = hours('Europe/London', { monday: ['09:00-17:00'] }, mondays.slice(0, 53));

    const sometimes = hours('Europe/London', { monday: ['09:00-17:00'] }, mondays.slice(0, 52));

    expect(rarely.nextOpening(at('2027-01-03T12:00:00Z'))).toBeUndefined();
    expect(iso(sometimes.nextOpening(at('2027-01-03T12:00:00Z')))).toBe('2028-01-03T09:00:00.000Z');
  });
});

describe('opening hours across daylight-saving changes', () => {
  const london = hours('Europe/London', WEEKDAYS_9_TO_5);
  const newYork = hours('America/New_York', WEEKDAYS_9_TO_5);

  // London moves to BST (UTC+1) at 01:00 UTC on Sunday 28 March 2027, back to GMT at 01:00 UTC on Sunday 31 October.
  it('opens at 09:00 London time on the Monday after clocks go forward', () => {
    expect(iso(london.nextOpening(at('2027-03-26T17:30:00Z')))).toBe('2027-03-29T08:00:00.000Z');
    expect(london.isOpen(at('2027-03-29T07:59:59Z'))).toBe(false);
    expect(london.isOpen(at('2027-03-29T08:00:00Z'))).toBe(true);
    expect(iso(london.closesAt(at('2027-03-29T10:00:00Z')))).toBe('2027-03-29T16:00:00.000Z');
  });

  it('opens at 09:00 London time on the Monday after clocks go back', () => {
    expect(iso(london.closesAt(at('2027-10-29T12:00:00Z')))).toBe('2027-10-29T16:00:00.000Z');
    expect(iso(london.nextOpening(at('2027-10-29T16:00:00Z')))).toBe('2027-11-01T09:00:00.000Z');
    expect(london.isOpen(at('2027-11-01T08:59:59Z'))).toBe(false);
  });

  it('has a 23-hour Sunday in spring and a 25-hour one in autumn for a range of 00:00-24:00', () => {
    const sundays = hours('Europe/London', { sunday: ['00:00-24:00'] });

    expect(iso(sundays.nextOpening(at('2027-03-27T12:00:00Z')))).toBe('2027-03-28T00:00:00.000Z');
    expect(iso(sundays.closesAt(at('2027-03-28T00:30:00Z')))).toBe('2027-03-28T23:00:00.000Z');
    expect(iso(sundays.nextOpening(at('2027-10-30T12:00:00Z')))).toBe('2027-10-30T23:00:00.000Z');
    expect(iso(sundays.closesAt(at('2027-10-31T01:30:00Z')))).toBe('2027-11-01T00:00:00.000Z');
  });

  it('opens when the clock jumps past a start time that is skipped in spring', () => {
    const early = hours('Europe/London', { sunday: ['01:30-05:00'] });

    expect(early.isOpen(at('2027-03-28T00:59:59Z'))).toBe(false);
    expect(iso(early.nextOpening(at('2027-03-28T00:00:00Z')))).toBe('2027-03-28T01:00:00.000Z');
    expect(iso(early.closesAt(at('2027-03-28T01:00:00Z')))).toBe('2027-03-28T04:00:00.000Z');
  });

  it('closes at the first 01:30 when that hour happens twice in autumn', () => {
    const early = hours('Europe/London', { sunday: ['00:00-01:30'] });

    expect(iso(early.closesAt(at('2027-10-30T23:30:00Z')))).toBe('2027-10-31T00:30:00.000Z');
  });

  // New York moves to EDT (UTC-4) on Sunday 14 March 2027 and back to EST (UTC-5) on Sunday 7 November.
  it('opens at 09:00 New York time on the Monday after clocks go forward', () => {
    expect(iso(newYork.nextOpening(at('2027-03-12T23:00:00Z')))).toBe('2027-03-15T13:00:00.000Z');
    expect(iso(newYork.closesAt(at('2027-03-12T15:00:00Z')))).toBe('2027-03-12T22:00:00.000Z');
    expect(iso(newYork.closesAt(at('2027-03-15T15:00:00Z')))).toBe('2027-03-15T21:00:00.000Z');
  });

  it('opens at 09:00 New York time on the Monday after clocks go back', () => {
    expect(iso(newYork.nextOpening(at('2027-11-05T22:00:00Z')))).toBe('2027-11-08T14:00:00.000Z');
    expect(newYork.isOpen(at('2027-11-08T13:59:59Z'))).toBe(false);
    expect(newYork.isOpen(at('2027-11-08T14:00:00Z'))).toBe(true);
  });
});

describe('describing the next opening to a person', () => {
  const monday9am = at('2027-01-04T09:00:00Z');

  it('says today, tomorrow or the day and date, with the time and the service’s zone, in English', () => {
    expect(describeNextOpening(monday9am, 'en-GB', 'Europe/London', at('2027-01-04T07:00:00Z'))).toBe('today at 09:00 (GMT)');
    expect(describeNextOpening(monday9am, 'en-GB', 'Europe/London', at('2027-01-03T23:30:00Z'))).toBe('tomorrow at 09:00 (GMT)');
    expect(describeNextOpening(monday9am, 'en-GB', 'Europe/London', at('2027-01-01T18:00:00Z'))).toBe('Monday 4 January at 09:00 (GMT)');
  });

  it('says it in German without any English words', () => {
    expect(describeNextOpening(monday9am, 'de', 'Europe/London', at('2027-01-04T07:00:00Z'))).toBe('heute um 09:00 (GMT+0)');
    expect(describeNextOpening(monday9am, 'de', 'Europe/London', at('2027-01-03T23:30:00Z'))).toBe('morgen um 09:00 (GMT+0)');
    expect(describeNextOpening(monday9am, 'de', 'Europe/London', at('2027-01-01T18:00:00Z'))).toBe('Montag, 4. Januar um 09:00 (GMT+0)');
  });

  it('names the summer zone in summer', () => {
    expect(describeNextOpening(at('2027-07-05T08:00:00Z'), 'en-GB', 'Europe/London', at('2027-07-05T07:00:00Z'))).toBe('today at 09:00 (BST)');
  });

  it('counts today and tomorrow on the service’s clock', () => {
    // 03:00 UTC on Tuesday is Monday evening in New York, so Tuesday 09:00 there is tomorrow.
    expect(describeNextOpening(at('2027-01-05T14:00:00Z'), 'en-US', 'America/New_York', at('2027-01-05T03:00:00Z'))).toBe('tomorrow at 09:00 AM (EST)');
  });

  it('falls back to English for a locale Intl cannot read', () => {
    expect(describeNextOpening(monday9am, 'not a locale!', 'Europe/London', at('2027-01-04T07:00:00Z'))).toMatch(/^today at 09:00/);
  });
});
