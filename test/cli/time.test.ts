import { UsageError } from '../../cli/exit.ts';
import { parseTime } from '../../cli/time.ts';

const NOW = Date.parse('2026-11-20T12:00:00.000Z');

const failureOf = (text: string): UsageError => {
  try {
    parseTime(text, '--at', NOW);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`expected ${text} to be refused`);
};

describe('parseTime accepts ISO 8601 with a zone and gives the UTC instant', () => {
  test.each([
    ['2026-11-20T10:00:00Z', '2026-11-20T10:00:00.000Z'],
    ['2026-11-20T10:00:00.250Z', '2026-11-20T10:00:00.250Z'],
    ['2026-11-20T11:00:00+01:00', '2026-11-20T10:00:00.000Z'],
    ['2026-11-20T05:00:00-05:00', '2026-11-20T10:00:00.000Z'],
    ['2026-11-20T10:00Z', '2026-11-20T10:00:00.000Z'],
    ['2026-11-20t10:00:00z', '2026-11-20T10:00:00.000Z'],
    [' 2026-11-20T10:00:00Z ', '2026-11-20T10:00:00.000Z'],
  ])('%s is %s', (text, iso) => {
    expect(parseTime(text, '--at', NOW)).toBe(iso);
  });
});

describe('parseTime accepts times relative to now', () => {
  test.each([
    ['90s ago', '2026-11-20T11:58:30.000Z'],
    ['30m ago', '2026-11-20T11:30:00.000Z'],
    ['2h ago', '2026-11-20T10:00:00.000Z'],
    ['1d ago', '2026-11-19T12:00:00.000Z'],
    ['1w ago', '2026-11-13T12:00:00.000Z'],
    ['2 hours ago', '2026-11-20T10:00:00.000Z'],
    ['45 min ago', '2026-11-20T11:15:00.000Z'],
    ['0s ago', '2026-11-20T12:00:00.000Z'],
  ])('%s is %s', (text, iso) => {
    expect(parseTime(text, '--at', NOW)).toBe(iso);
  });
});

describe('parseTime refuses what is not an unambiguous past time, saying why', () => {
  test.each([
    ['2026-11-20T10:00:00', '--at "2026-11-20T10:00:00" has no time zone: add Z or an offset like +01:00'],
    ['2026-11-20T10:00', '--at "2026-11-20T10:00" has no time zone: add Z or an offset like +01:00'],
    ['2026-11-20', '--at "2026-11-20" has no time of day and no time zone: write 2026-11-20T00:00:00Z or give an offset'],
    ['2026-11-20 10:00:00Z', '--at "2026-11-20 10:00:00Z": put a T between the date and the time, like 2026-11-20T10:00:00Z'],
    ['2026-13-45T10:00:00Z', '--at "2026-13-45T10:00:00Z" is not an ISO 8601 time like 2026-11-20T10:00:00Z'],
    ['2026-11-20T10:00:00+1', '--at "2026-11-20T10:00:00+1" is not an ISO 8601 time like 2026-11-20T10:00:00Z'],
    ['2026-11-20T12:00:05Z', '--at 2026-11-20T12:00:05Z is in the future (now is 2026-11-20T12:00:00.000Z)'],
    ['2h', '--at "2h" is not a time: did you mean "2h ago"?'],
    ['2 fortnights ago', '--at "2 fortnights ago": unknown unit "fortnights" (use s, m, h, d or w)'],
    ['yesterday', '--at "yesterday" is not a time'],
    ['', '--at is empty'],
  ])('%j', (text, message) => {
    const error = failureOf(text);
    expect(error.message).toBe(message);
    expect(error.hint).toContain('2h ago');
  });

  test('the message names the option it was given to', () => {
    expect(() => parseTime('2026-11-20T10:00:00', '--since', NOW)).toThrow('--since "2026-11-20T10:00:00" has no time zone');
  });
});
