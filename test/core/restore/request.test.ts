/**
 * The restore request: every kind of bad input is refused with a field-level
 * message, valid input passes with its defaults, and it maps to a spec and a
 * stable restore id.
 */
import { expect } from '@jest/globals';
import { RequestError } from '#core/restore/errors.ts';
import { canonicalRequest, parseRestoreRequest, RESTORE_ID, restoreIdOf, specOf, type RestoreRequest } from '#core/restore/request.ts';
import { scheduledRunIdOf } from '#core/restore/runs.ts';

const AT = '2026-11-20T10:00:00Z';
const base = { bucket: 'my-bucket', key: 'docs/report.pdf' };

/** The field-level issues of an input that must be refused. */
function issuesOf(input: unknown): readonly string[] {
  let thrown: unknown;
  try {
    parseRestoreRequest(input);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(RequestError);
  const error = thrown as RequestError;
  expect(error.issues.length).toBeGreaterThan(0);
  // The message carries every issue, so a caller that shows only the message loses nothing.
  for (const issue of error.issues) expect(error.message).toContain(issue);
  return error.issues;
}

/** Asserts exactly one issue, on `field`, matching `pattern`. */
function expectOnlyIssue(input: unknown, field: string, pattern: RegExp): void {
  const issues = issuesOf(input);
  expect(issues).toHaveLength(1);
  expect(issues[0]).toMatch(new RegExp(`^${field}: `));
  expect(issues[0]).toMatch(pattern);
}

const hoursFromNow = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

describe('parseRestoreRequest: times', () => {
  test.each(['2026-11-20T10:00', '2026-11-20T10:00:00', '2026-11-20T10:00:00.250'])('a time without a zone (%s) says "no time zone"', (at) => {
    expectOnlyIssue({ ...base, at }, 'at', /no time zone/);
  });

  test('since without a zone says "no time zone" on since', () => {
    expectOnlyIssue({ ...base, undelete: true, since: '2026-11-20T10:00:00' }, 'since', /no time zone/);
  });

  test('a time with a zone but not in ISO 8601 form is refused as not ISO 8601', () => {
    expectOnlyIssue({ ...base, at: '20 Nov 2026 10:00 Z' }, 'at', /not an ISO 8601 time/);
  });

  test('a string that is not a time at all is refused as not ISO 8601, not for a missing zone', () => {
    expectOnlyIssue({ ...base, at: 'yesterday' }, 'at', /not an ISO 8601 time/);
  });

  test('a date that does not exist (February 30) is refused', () => {
    expect(issuesOf({ ...base, at: '2025-02-30T10:00:00Z' })).toEqual([expect.stringMatching(/^at: /)]);
  });

  test('a time in the future is refused on its field', () => {
    expectOnlyIssue({ ...base, at: hoursFromNow(1) }, 'at', /in the future/);
    expectOnlyIssue({ ...base, undelete: true, since: hoursFromNow(1) }, 'since', /in the future/);
  });

  test('a time in the future written with an offset is refused too', () => {
    // Two hours from now, written as wall-clock time at UTC-10:00. Read without its
    // offset it would be eight hours ago, so this fails if the offset is ignored.
    const future = new Date(Date.now() + 2 * 3_600_000 - 10 * 3_600_000).toISOString().slice(0, 19) + '-10:00';
    expectOnlyIssue({ ...base, at: future }, 'at', /in the future/);
  });

  test('atInput, how a relative at was typed, is kept beside at and leaves the restore id and the instant as they are', () => {
    const request = parseRestoreRequest({ ...base, at: AT, atInput: '2h ago' });
    expect(request.atInput).toBe('2h ago');
    expect(restoreIdOf(request)).toBe(restoreIdOf(parseRestoreRequest({ ...base, at: AT })));
    expect(canonicalRequest(request)).toMatchObject({ at: '2026-11-20T10:00:00.000Z', atInput: '2h ago' });
  });

  test('atInput without at is refused on atInput', () => {
    expectOnlyIssue({ ...base, versionId: 'v1', atInput: '2h ago' }, 'atInput', /give at as well/);
  });

  test('atInput that is not a relative time is refused on atInput', () => {
    expectOnlyIssue({ ...base, at: AT, atInput: 'yesterday evening' }, 'atInput', /not a relative time like "2h ago"/);
  });

  test('a past time with an offset, fractional seconds or lowercase z is valid', () => {
    expect(parseRestoreRequest({ ...base, at: '2026-11-20T11:00:00+01:00' }).at).toBe('2026-11-20T11:00:00+01:00');
    expect(() => parseRestoreRequest({ ...base, at: '2026-11-20T10:00:00.123Z' })).not.toThrow();
    expect(() => parseRestoreRequest({ ...base, at: '2026-11-20T10:00Z' })).not.toThrow();
    expect(() => parseRestoreRequest({ ...base, at: '2026-11-20T10:00:00z' })).not.toThrow();
  });
});

describe('parseRestoreRequest: scope and restore point', () => {
  test('key and prefix both are refused on prefix', () => {
    expectOnlyIssue({ ...base, prefix: 'docs/', at: AT }, 'prefix', /not both/);
  });

  test('neither key nor prefix is refused on key', () => {
    expectOnlyIssue({ bucket: 'my-bucket', at: AT }, 'key', /give a key or a prefix/);
  });

  test('an empty key is refused', () => {
    expectOnlyIssue({ bucket: 'my-bucket', key: '', at: AT }, 'key', /is empty/);
  });

  test('no restore point is refused', () => {
    expectOnlyIssue({ ...base }, 'at', /give a restore point/);
  });

  test.each([
    ['versionId and at', { versionId: 'v1', at: AT }],
    ['versionId and beforeVersionId', { versionId: 'v1', beforeVersionId: 'v2' }],
    ['at and undelete', { at: AT, undelete: true }],
  ])('two restore points (%s) are refused', (_name, points) => {
    expectOnlyIssue({ ...base, ...points }, 'at', /give one restore point/);
  });

  test('versionId with a prefix is refused on versionId', () => {
    expectOnlyIssue({ bucket: 'my-bucket', prefix: 'docs/', versionId: 'v1' }, 'versionId', /give key, not prefix/);
  });

  test('beforeVersionId with a prefix is refused on beforeVersionId', () => {
    expectOnlyIssue({ bucket: 'my-bucket', prefix: 'docs/', beforeVersionId: 'v1' }, 'beforeVersionId', /give key, not prefix/);
  });

  test('since without undelete is refused on since', () => {
    expectOnlyIssue({ ...base, at: AT, since: AT }, 'since', /since goes with undelete/);
  });

  test('undelete: false is refused on undelete (only true is meaningful)', () => {
    const issues = issuesOf({ ...base, undelete: false });
    expect(issues.some((i) => i.startsWith('undelete: '))).toBe(true);
  });

  test('delete mode without confirmPermanentDelete is refused on confirmPermanentDelete', () => {
    expectOnlyIssue({ ...base, at: AT, mode: 'delete' }, 'confirmPermanentDelete', /permanently deletes/);
    expectOnlyIssue({ ...base, at: AT, mode: 'delete', confirmPermanentDelete: false }, 'confirmPermanentDelete', /set confirmPermanentDelete to true/);
  });

  test('an unknown field is named', () => {
    const issues = issuesOf({ ...base, at: AT, versionid: 'v1' });
    expect(issues).toEqual(['unknown field versionid']);
  });

  test('several unknown fields are all named', () => {
    expect(issuesOf({ ...base, at: AT, Bucket: 'x', target: 'y' })).toEqual(['unknown fields Bucket, target']);
  });
});

describe('parseRestoreRequest: names and characters', () => {
  test.each([
    ['uppercase', 'My-Bucket'],
    ['too short', 'ab'],
    ['too long', 'a'.repeat(64)],
    ['an IP address', '192.168.5.4'],
    ['two adjacent periods', 'my..bucket'],
    ['starting with a hyphen', '-bucket'],
    ['ending with a period', 'bucket.'],
    ['an underscore', 'my_bucket'],
    ['the xn-- prefix', 'xn--bucket'],
    ['the -s3alias suffix', 'bucket-s3alias'],
  ])('a bucket name with %s is refused on bucket', (_name, bucket) => {
    expectOnlyIssue({ ...base, bucket, at: AT }, 'bucket', /is not a valid S3 bucket name/);
  });

  test.each(['abc', 'a'.repeat(63), 'my.bucket.example', 'logs-2026'])('the bucket name %s is valid', (bucket) => {
    expect(parseRestoreRequest({ ...base, bucket, at: AT }).bucket).toBe(bucket);
  });

  test.each([
    ['a newline', 'docs/a\nb'],
    ['a NUL', 'docs/a\u0000b'],
    ['a tab', 'docs/\tb'],
    ['DEL', 'docs/\u007f'],
  ])('a key with %s is refused for control characters', (_name, key) => {
    expectOnlyIssue({ ...base, key, at: AT }, 'key', /contains control characters/);
  });

  test('a prefix and a version id with control characters are refused on their fields', () => {
    expectOnlyIssue({ bucket: 'my-bucket', prefix: 'a\rb', at: AT }, 'prefix', /contains control characters/);
    expectOnlyIssue({ ...base, versionId: 'v\n1' }, 'versionId', /contains control characters/);
  });

  test('a key over 1,024 UTF-8 bytes is refused even when under 1,024 characters', () => {
    expectOnlyIssue({ ...base, key: 'é'.repeat(513), at: AT }, 'key', /longer than 1,024 bytes/);
    expect(() => parseRestoreRequest({ ...base, key: 'é'.repeat(512), at: AT })).not.toThrow();
  });

  test('keys with spaces, +, %, &, ? and non-ASCII are valid', () => {
    const key = 'R&D/Q3 report+final%20 (v2)?.pdf/日本語/😀';
    expect(parseRestoreRequest({ ...base, key, at: AT }).key).toBe(key);
  });
});

describe('parseRestoreRequest: wrong types', () => {
  test.each([
    ['bucket', { ...base, bucket: 5, at: AT }],
    ['key', { ...base, key: ['a'], at: AT }],
    ['at', { ...base, at: 1_795_168_800_000 }],
    ['mode', { ...base, at: AT, mode: 'move' }],
    ['dryRun', { ...base, at: AT, dryRun: 'yes' }],
    ['confirmPermanentDelete', { ...base, at: AT, mode: 'delete', confirmPermanentDelete: 'true' }],
  ])('a wrong type for %s is refused on that field', (field, input) => {
    const issues = issuesOf(input);
    expect(issues.some((i) => i.startsWith(`${field}: `))).toBe(true);
  });

  test.each([
    ['null', null],
    ['a string', 'restore everything'],
    ['an array', []],
    ['a number', 42],
  ])('%s instead of an object is refused', (_name, input) => {
    expect(issuesOf(input)[0]).toMatch(/expected object/);
  });

  test('every problem is listed, not just the first', () => {
    const issues = issuesOf({ bucket: 'Bad_Bucket', key: 'k', prefix: 'p', at: '2026-11-20T10:00' });
    expect(issues.map((i) => i.split(':')[0]).sort()).toEqual(['at', 'bucket', 'prefix']);
  });
});

describe('parseRestoreRequest: valid requests', () => {
  test('a key at a time is valid, with mode copy and dryRun false by default', () => {
    expect(parseRestoreRequest({ ...base, at: AT })).toEqual({ ...base, at: AT, mode: 'copy', dryRun: false });
  });

  test('each restore point alone is valid', () => {
    expect(() => parseRestoreRequest({ ...base, versionId: 'null' })).not.toThrow();
    expect(() => parseRestoreRequest({ ...base, beforeVersionId: 'v1' })).not.toThrow();
    expect(() => parseRestoreRequest({ ...base, undelete: true })).not.toThrow();
    expect(() => parseRestoreRequest({ ...base, undelete: true, since: AT })).not.toThrow();
  });

  test('an empty prefix (the whole bucket) is valid', () => {
    expect(parseRestoreRequest({ bucket: 'my-bucket', prefix: '', undelete: true }).prefix).toBe('');
  });

  test('delete mode is valid with confirmPermanentDelete, or as a dry run without it', () => {
    expect(parseRestoreRequest({ ...base, at: AT, mode: 'delete', confirmPermanentDelete: true }).mode).toBe('delete');
    expect(parseRestoreRequest({ ...base, at: AT, mode: 'delete', dryRun: true }).dryRun).toBe(true);
  });
});

describe('specOf', () => {
  const parse = (input: object): RestoreRequest => parseRestoreRequest(input);

  test('a key scope with a time maps to pointInTime at the instant in ms', () => {
    expect(specOf(parse({ ...base, at: '2026-11-20T11:00:00+01:00' }))).toEqual({
      bucket: 'my-bucket',
      scope: { kind: 'key', key: 'docs/report.pdf' },
      point: { kind: 'pointInTime', at: Date.UTC(2026, 10, 20, 10, 0, 0) },
      mode: 'copy',
    });
  });

  test('a prefix scope maps to kind prefix, the empty prefix included', () => {
    expect(specOf(parse({ bucket: 'my-bucket', prefix: 'docs/', at: AT })).scope).toEqual({ kind: 'prefix', prefix: 'docs/' });
    expect(specOf(parse({ bucket: 'my-bucket', prefix: '', at: AT })).scope).toEqual({ kind: 'prefix', prefix: '' });
  });

  test('versionId maps to kind version, beforeVersionId to kind beforeVersion', () => {
    expect(specOf(parse({ ...base, versionId: 'v1' })).point).toEqual({ kind: 'version', versionId: 'v1' });
    expect(specOf(parse({ ...base, beforeVersionId: 'v2' })).point).toEqual({ kind: 'beforeVersion', versionId: 'v2' });
  });

  test('undelete maps without since, or with since in ms', () => {
    expect(specOf(parse({ ...base, undelete: true })).point).toEqual({ kind: 'undelete' });
    expect(specOf(parse({ ...base, undelete: true, since: '2026-11-20T10:00:00.500Z' })).point).toEqual({
      kind: 'undelete',
      since: Date.UTC(2026, 10, 20, 10, 0, 0, 500),
    });
  });

  test('the mode is carried over', () => {
    expect(specOf(parse({ ...base, at: AT, mode: 'delete', confirmPermanentDelete: true })).mode).toBe('delete');
  });
});

describe('restoreIdOf', () => {
  const idOf = (input: object) => restoreIdOf(parseRestoreRequest(input));

  test('is the same for the same request', () => {
    expect(idOf({ ...base, at: AT })).toBe(idOf({ ...base, at: AT }));
  });

  test('is the same for one instant written with different offsets or precision', () => {
    const id = idOf({ ...base, at: '2026-11-20T10:00:00Z' });
    expect(idOf({ ...base, at: '2026-11-20T11:00:00+01:00' })).toBe(id);
    expect(idOf({ ...base, at: '2026-11-20T05:00:00-05:00' })).toBe(id);
    expect(idOf({ ...base, at: '2026-11-20T10:00:00.000Z' })).toBe(id);
  });

  test('does not depend on the order of fields or on defaults written out', () => {
    expect(idOf({ at: AT, key: base.key, bucket: base.bucket })).toBe(idOf({ ...base, at: AT, mode: 'copy', dryRun: false }));
  });

  test.each([
    ['another bucket', { bucket: 'other-bucket', key: base.key, at: AT }],
    ['another key', { ...base, key: 'docs/other.pdf', at: AT }],
    ['the same string as a prefix', { bucket: base.bucket, prefix: base.key, at: AT }],
    ['another instant', { ...base, at: '2026-11-20T10:00:01Z' }],
    ['delete mode', { ...base, at: AT, mode: 'delete', confirmPermanentDelete: true }],
    ['a dry run', { ...base, at: AT, dryRun: true }],
    ['a version id', { ...base, versionId: AT }],
  ])('differs for %s', (_name, other) => {
    expect(idOf(other)).not.toBe(idOf({ ...base, at: AT }));
  });

  test('differs between undelete without since and with since, and between versionId and beforeVersionId', () => {
    expect(idOf({ ...base, undelete: true })).not.toBe(idOf({ ...base, undelete: true, since: AT }));
    expect(idOf({ ...base, versionId: 'v1' })).not.toBe(idOf({ ...base, beforeVersionId: 'v1' }));
  });

  test('names the mode, or "plan" for a dry run, followed by 20 hex digits', () => {
    expect(idOf({ ...base, at: AT })).toMatch(/^copy-[0-9a-f]{20}$/);
    expect(idOf({ ...base, at: AT, mode: 'delete', confirmPermanentDelete: true })).toMatch(/^delete-[0-9a-f]{20}$/);
    expect(idOf({ ...base, at: AT, dryRun: true })).toMatch(/^plan-[0-9a-f]{20}$/);
  });
});

test("a schedule's run id is the restore id and the UTC firing time, and is a restore id; other suffixes are not", () => {
  const id = 'copy-0123456789abcdef0123';
  expect(scheduledRunIdOf(id, '2026-12-06T03:00:00Z')).toBe(`${id}-20261206T030000Z`);
  expect(scheduledRunIdOf(id, '2026-12-06T04:00:00+01:00')).toBe(`${id}-20261206T030000Z`);
  expect(RESTORE_ID.test(`${id}-20261206T030000Z`)).toBe(true);
  expect(RESTORE_ID.test(`${id}-2`)).toBe(true);
  for (const bad of [`${id}-20261206T0300Z`, `${id}-20261206T030000`, `${id}-1`, `${id}-2-20261206T030000Z`]) expect(RESTORE_ID.test(bad)).toBe(false);
  expect(() => scheduledRunIdOf(id, 'tonight')).toThrow('not a firing time');
});
