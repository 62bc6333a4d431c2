/**
 * Times on the command line: ISO 8601 with `Z` or an offset (the shared schema's
 * `instant` rules), or relative to now: `90s ago`, `30m ago`, `2h ago`, `1d ago`,
 * `1w ago` (also `2 hours ago`). A time without a zone is refused rather than
 * guessed, and so is a time in the future. The result is a UTC instant.
 */
import { instant, RELATIVE_TIME } from '#core/restore/request.ts';
import { UsageError } from './exit.ts';

const TIME_HINT = 'times are ISO 8601 with a zone, like 2026-11-20T10:00:00Z or 2026-11-20T11:00:00+01:00, or relative, like 2h ago';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const UNIT_NAMES: Record<string, string> = {
  s: 's',
  sec: 's',
  secs: 's',
  second: 's',
  seconds: 's',
  m: 'm',
  min: 'm',
  mins: 'm',
  minute: 'm',
  minutes: 'm',
  h: 'h',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  hours: 'h',
  d: 'd',
  day: 'd',
  days: 'd',
  w: 'w',
  wk: 'w',
  wks: 'w',
  week: 'w',
  weeks: 'w',
};

const RELATIVE = RELATIVE_TIME;

/** Whether the text is a time relative to now (`2h ago`), as opposed to an instant. */
export const isRelativeTime = (text: string): boolean => RELATIVE.test(text.trim());

/**
 * Parses the value of a time option (`--at`, `--since`) into an ISO 8601 UTC instant.
 * Throws `UsageError` naming the option and what is wrong.
 */
export function parseTime(text: string, option: string, now: number = Date.now()): string {
  const value = text.trim();
  const relative = RELATIVE.exec(value);
  if (relative) {
    const unit = UNIT_NAMES[relative[2]!.toLowerCase()];
    if (!unit) {
      throw new UsageError(`${option} "${text}": unknown unit "${relative[2]}" (use s, m, h, d or w)`, TIME_HINT);
    }
    return new Date(now - Number(relative[1]) * UNIT_MS[unit]!).toISOString();
  }
  if (value === '') throw new UsageError(`${option} is empty`, TIME_HINT);
  if (/^\d+\s*[a-z]+$/i.test(value)) throw new UsageError(`${option} "${value}" is not a time: did you mean "${value} ago"?`, TIME_HINT);
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    throw new UsageError(`${option} "${value}" has no time of day and no time zone: write ${value}T00:00:00Z or give an offset`, TIME_HINT);
  }
  if (/^\d{4}-\d{2}-\d{2} +\d/.test(value)) {
    throw new UsageError(`${option} "${value}": put a T between the date and the time, like ${value.replace(/ +/, 'T')}`, TIME_HINT);
  }
  if (!/^\d{4}-\d{2}-\d{2}T/i.test(value)) throw new UsageError(`${option} "${value}" is not a time`, TIME_HINT);
  const checked = instant.safeParse(value);
  if (!checked.success) {
    const reason = checked.error.issues[0]?.message ?? `"${value}" is not a time`;
    throw new UsageError(`${option} ${reason}`, TIME_HINT);
  }
  const at = Date.parse(value);
  if (at > now + 1000) {
    throw new UsageError(`${option} ${value} is in the future (now is ${new Date(now).toISOString()})`, TIME_HINT);
  }
  return new Date(at).toISOString();
}
