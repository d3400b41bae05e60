import { afterAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { ContentError, type ContentProblem } from '../../bot/content/contentError.js';
import { loadHandoverSettings } from '../../bot/handover/handoverSettings.js';
import { lineOf, replace } from '../content/fixtureLibrary.js';
import { brokenCopy, removeBrokenCopies } from '../support/brokenFile.js';

afterAll(removeBrokenCopies);

const HANDOVER = fileURLToPath(new URL('../../resources/handover.yaml', import.meta.url));

async function problemsAfter(change: (text: string) => string) {
  const { file, text } = await brokenCopy(HANDOVER, change);
  const line = (snippet: string) => lineOf(text, snippet);
  try {
    await loadHandoverSettings(file);
  } catch (error) {
    if (error instanceof ContentError) return { problems: error.problems, message: error.message, line };
    throw error;
  }
  return { problems: [] as ContentProblem[], message: '', line };
}

describe('the handover settings file', () => {
  it('gives weekday hours in minutes after midnight, closed weekends, bank holidays and the queue settings', async () => {
    const settings = await loadHandoverSettings(HANDOVER);

    expect(settings.timeZone).toBe('Europe/London');
    expect(settings.weekly.monday).toEqual([{ startMinute: 9 * 60, endMinute: 21 * 60 }]);
    expect(settings.weekly.friday).toEqual([{ startMinute: 9 * 60, endMinute: 18 * 60 }]);
    expect(settings.weekly.saturday).toEqual([]);
    expect(settings.weekly.sunday).toEqual([]);
    expect(settings.holidays).toEqual(expect.arrayContaining([{ date: '2026-12-25', name: 'Christmas Day' }, { date: '2027-03-26', name: 'Good Friday' }]));
    expect(settings.queue).toEqual({ timeoutMinutes: 20, assumedChatMinutes: 20, positionUpdateSeconds: 60 });
  });

  it('is frozen all the way down', async () => {
    const settings = await loadHandoverSettings(HANDOVER);

    for (const part of [settings, settings.weekly, settings.weekly.monday, settings.weekly.monday[0], settings.holidays, settings.holidays[0], settings.queue]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
  });

  it('sorts a day’s ranges and accepts ranges that touch, 24:00 as an end and an all-day range', async () => {
    const { file } = await brokenCopy(HANDOVER, (text) =>
      replace("tuesday: ['09:00-21:00']", "tuesday: ['14:00-21:00', '09:00-14:00']")(
        replace("saturday: []", "saturday: ['00:00-24:00']")(replace("sunday: []", "sunday: ['18:00-24:00']")(text)),
      ),
    );

    const settings = await loadHandoverSettings(file);

    expect(settings.weekly.tuesday).toEqual([
      { startMinute: 9 * 60, endMinute: 14 * 60 },
      { startMinute: 14 * 60, endMinute: 21 * 60 },
    ]);
    expect(settings.weekly.saturday).toEqual([{ startMinute: 0, endMinute: 24 * 60 }]);
    expect(settings.weekly.sunday).toEqual([{ startMinute: 18 * 60, endMinute: 24 * 60 }]);
  });

  it('accepts a holiday the YAML parser reads as a date rather than text', async () => {
    const { file } = await brokenCopy(HANDOVER, replace('date: 2026-12-25,', 'date: !!timestamp 2026-12-25,'));

    const settings = await loadHandoverSettings(file);

    expect(settings.holidays).toContainEqual({ date: '2026-12-25', name: 'Christmas Day' });
  });

  it('reports a time zone Intl does not know, with its line', async () => {
    const { problems, message, line } = await problemsAfter(replace('timeZone: Europe/London', 'timeZone: Europe/Londn'));

    expect(problems).toEqual([
      {
        code: 'CONTENT_SCHEMA',
        file: 'handover.yaml',
        path: 'timeZone',
        line: line('timeZone: Europe/Londn'),
        message: 'must be a time zone name such as Europe/London (the "TZ identifier" column of the tz database list)',
      },
    ]);
    expect(message).toBe(`handover.yaml:${line('timeZone: Europe/Londn')} timeZone: ${problems[0]?.message} (CONTENT_SCHEMA)`);
  });

  it('reports ranges that are misspelt, impossible, back to front or start at 24:00, each on its line', async () => {
    const { problems, line } = await problemsAfter((text) =>
      [
        replace("monday: ['09:00-21:00']", "monday: ['9:00-21:00']"),
        replace("tuesday: ['09:00-21:00']", "tuesday: ['09:00-25:00']"),
        replace("wednesday: ['09:00-21:00']", "wednesday: ['21:00-09:00']"),
        replace("thursday: ['09:00-21:00']", "thursday: ['24:00-24:00']"),
        replace("friday: ['09:00-18:00']", "friday: ['09:60-18:00']"),
      ].reduce((t, change) => change(t), text),
    );

    expect(problems.map((p) => [p.path, p.line, p.message])).toEqual([
      ['weekly.monday[0]', line("monday: ['9:00"), 'must be a time range written HH:MM-HH:MM, e.g. 09:00-17:00'],
      ['weekly.tuesday[0]', line("tuesday: ['09:00-25"), '"09:00-25:00" has a time that does not exist (hours 00–24, minutes 00–59, 24:00 the latest)'],
      ['weekly.wednesday[0]', line('wednesday:'), '"21:00-09:00" must end after it starts; for hours past midnight end this day at 24:00 and start the next at 00:00'],
      ['weekly.thursday[0]', line('thursday:'), '"24:00-24:00": 24:00 can only end a range; start the day at 00:00'],
      ['weekly.friday[0]', line('friday:'), '"09:60-18:00" has a time that does not exist (hours 00–24, minutes 00–59, 24:00 the latest)'],
    ]);
    expect(new Set(problems.map((p) => p.code))).toEqual(new Set(['CONTENT_SCHEMA']));
  });

  it('reports overlapping ranges of one day at the later range', async () => {
    const { problems, line } = await problemsAfter(replace("tuesday: ['09:00-21:00']", "tuesday:\n    - '09:00-13:00'\n    - '12:30-21:00'"));

    expect(problems).toEqual([
      expect.objectContaining({ code: 'CONTENT_SCHEMA', path: 'weekly.tuesday[1]', line: line("- '12:30-21:00'"), message: '"12:30-21:00" overlaps "09:00-13:00"' }),
    ]);
  });

  it('reports a range inside a longer one even when another range lies between them', async () => {
    const { problems, line } = await problemsAfter(replace("monday: ['09:00-21:00']", "monday: ['09:00-21:00', '10:00-11:00', '12:00-13:00']"));

    expect(problems.map((p) => [p.path, p.line, p.message])).toEqual([
      ['weekly.monday[1]', line('monday:'), '"10:00-11:00" overlaps "09:00-21:00"'],
      ['weekly.monday[2]', line('monday:'), '"12:00-13:00" overlaps "09:00-21:00"'],
    ]);
  });

  it('reports a missing day and a misspelt one', async () => {
    const { problems, line } = await problemsAfter(replace('  wednesday:', '  wensday:'));

    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'CONTENT_SCHEMA', path: 'weekly.wednesday', line: line('weekly:'), message: 'is required' }),
        expect.objectContaining({ code: 'CONTENT_SCHEMA', path: 'weekly.wensday', line: line('wensday:'), message: 'unknown key "wensday" (check the spelling)' }),
      ]),
    );
    expect(problems).toHaveLength(2);
  });

  it('reports holiday dates that are not written YYYY-MM-DD or not in the calendar', async () => {
    const { problems, line } = await problemsAfter((text) => replace('date: 2026-12-25,', 'date: 25/12/2026,')(replace('date: 2026-08-31,', 'date: 2026-08-32,')(text)));

    expect(problems.map((p) => [p.code, p.path, p.line, p.message])).toEqual([
      ['CONTENT_SCHEMA', 'holidays[5].date', line('2026-08-32'), 'is not a date in the calendar'],
      ['CONTENT_SCHEMA', 'holidays[6].date', line('25/12/2026'), 'must be a date written YYYY-MM-DD'],
    ]);
  });

  it('reports a holiday date listed twice with its own code', async () => {
    const { problems, message, line } = await problemsAfter(replace('date: 2027-12-26, name: Boxing Day }', 'date: 2027-12-25, name: Boxing Day }'));

    expect(problems).toEqual([
      {
        code: 'CONTENT_DUPLICATE_HOLIDAY',
        file: 'handover.yaml',
        path: 'holidays[16].date',
        line: line('date: 2027-12-25, name: Boxing Day'),
        message: '2027-12-25 is already listed above as "Christmas Day"',
      },
    ]);
    expect(message).toContain(`handover.yaml:${line('date: 2027-12-25, name: Boxing Day')} holidays[16].date:`);
  });

  it('reports queue settings that are not whole numbers or are out of bounds', async () => {
    const { problems, line } = await problemsAfter((text) =>
      [replace('timeoutMinutes: 20', 'timeoutMinutes: 0'), replace('assumedChatMinutes: 20', 'assumedChatMinutes: 12.5'), replace('positionUpdateSeconds: 60', 'positionUpdateSeconds: 5')].reduce(
        (t, change) => change(t),
        text,
      ),
    );

    expect(problems.map((p) => [p.path, p.line, p.message])).toEqual([
      ['queue.timeoutMinutes', line('timeoutMinutes:'), 'must be at least 1'],
      ['queue.assumedChatMinutes', line('assumedChatMinutes:'), 'expected a whole number, found 12.5'],
      ['queue.positionUpdateSeconds', line('positionUpdateSeconds:'), 'must be at least 10'],
    ]);
  });

  it('reports a queue timeout of more than a day', async () => {
    const { problems } = await problemsAfter(replace('timeoutMinutes: 20', 'timeoutMinutes: 2000'));

    expect(problems).toEqual([expect.objectContaining({ path: 'queue.timeoutMinutes', message: 'must be at most 1440' })]);
  });

  it('reports a key written twice as a YAML syntax error, with its line', async () => {
    const { problems, line } = await problemsAfter(replace('  friday:', '  thursday: []\n  friday:'));

    expect(problems).toEqual([expect.objectContaining({ code: 'CONTENT_YAML_SYNTAX', file: 'handover.yaml', line: line('thursday: []') })]);
  });

  it('reports a missing file', async () => {
    await expect(loadHandoverSettings('/nonexistent-waypoint-dir/handover.yaml')).rejects.toMatchObject({
      problems: [{ code: 'CONTENT_FILE_MISSING', file: 'handover.yaml', path: '', message: 'file is missing' }],
    });
  });
});
