/**
 * `--exclude` / `--include` as `aws s3` applies them: Python fnmatch patterns
 * (expected values below computed with `fnmatch.fnmatchcase`), in order, the
 * last matching filter deciding; and the version filters at the restore point.
 */
import { globToRegExp, keySelectorOf, passesFilters, type KeyFilter } from '#core/restore/filters.ts';
import type { HistoryEntry } from '#core/restore/model.ts';
import { canonicalRequest, parseRestoreRequest, restoreIdOf } from '#core/restore/request.ts';
import { RequestError } from '#core/restore/errors.ts';

describe('patterns match as fnmatch does', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*.txt', 'a.txt', true],
    ['*.txt', 'dir/a.txt', true],
    ['*.txt', 'a.txt.bak', false],
    ['dir/*', 'dir/sub/a', true],
    ['?.txt', 'a.txt', true],
    ['?.txt', 'ab.txt', false],
    ['?', '/', true],
    ['[ab].txt', 'b.txt', true],
    ['[ab].txt', 'c.txt', false],
    ['[!ab].txt', 'c.txt', true],
    ['[!ab].txt', 'a.txt', false],
    ['[a-c]*', 'b/x', true],
    ['[]]x', ']x', true],
    ['[!]]x', ']x', false],
    ['[!]]x', 'ax', true],
    ['a[', 'a[', true],
    ['a[b', 'a[b', true],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
    ['*/*', 'a', false],
    ['*/*', 'a/b', true],
    ['\\*', '\\abc', true],
    ['[^a]', '^', true],
    ['[^a]', 'b', false],
    ['a^b$', 'a^b$', true],
  ];
  test.each(cases)('%j against %j is %s', (pattern, key, expected) => {
    expect(globToRegExp(pattern).test(key)).toBe(expected);
  });
});

describe('filters apply in order, the last match wins', () => {
  const keys = ['a.txt', 'b.txt', 'logs/a.txt', 'logs/x.log', 'img/p.png'];
  const taken = (filters: KeyFilter[]) => keys.filter((k) => passesFilters(k, filters));

  test('with no filter every key is taken', () => {
    expect(taken([])).toEqual(keys);
  });
  test('--exclude "*" --include "*.txt" takes only .txt keys, at any depth', () => {
    expect(taken([{ exclude: '*' }, { include: '*.txt' }])).toEqual(['a.txt', 'b.txt', 'logs/a.txt']);
  });
  test('--include "*.txt" --exclude "*" takes nothing: the later exclude wins', () => {
    expect(taken([{ include: '*.txt' }, { exclude: '*' }])).toEqual([]);
  });
  test('--exclude "logs/*" leaves out the folder, --include "logs/a*" then takes one key back', () => {
    expect(taken([{ exclude: 'logs/*' }])).toEqual(['a.txt', 'b.txt', 'img/p.png']);
    expect(taken([{ exclude: 'logs/*' }, { include: 'logs/a*' }])).toEqual(['a.txt', 'b.txt', 'logs/a.txt', 'img/p.png']);
  });
});

describe('a request selects keys relative to its prefix', () => {
  const entry = (key: string, size: number, lastModified: number, storageClass = 'STANDARD'): HistoryEntry => ({
    key,
    versionId: `v${lastModified}`,
    isDeleteMarker: false,
    isLatest: false,
    lastModified,
    etag: '"e"',
    size,
    storageClass,
  });

  test('patterns see the key without the prefix: "a*" under site/ takes site/a.txt, not site/b/a.txt', () => {
    const selector = keySelectorOf({ prefix: 'site/', filters: [{ exclude: '*' }, { include: 'a*' }] });
    expect(selector.takesKey('site/a.txt')).toBe(true);
    expect(selector.takesKey('site/b/a.txt')).toBe(false);
  });

  test('size and storage class look at the version the restore makes current, absent keys are left alone', () => {
    const selector = keySelectorOf({ minSize: 10, storageClass: 'STANDARD' });
    const history = [entry('k', 5, 300), entry('k', 50, 200), entry('k', 1, 100)];
    expect(selector.takesHistory(history, { kind: 'pointInTime', at: 250 })).toBe(true); // 50 bytes at T
    expect(selector.takesHistory(history, { kind: 'pointInTime', at: 150 })).toBe(false); // 1 byte at T
    expect(selector.takesHistory(history, { kind: 'pointInTime', at: 50 })).toBe(false); // absent at T
    const glacier = [entry('k', 5, 300), entry('k', 50, 200, 'GLACIER')];
    expect(selector.takesHistory(glacier, { kind: 'pointInTime', at: 250 })).toBe(false);
  });

  test('filters are part of the restore id and of the canonical request; no filters leaves the id as it was', () => {
    const base = { bucket: 'my-bucket', prefix: 'site/', at: '2026-01-01T00:00:00Z' };
    const plain = parseRestoreRequest(base);
    const filtered = parseRestoreRequest({ ...base, filters: [{ exclude: '*' }, { include: '*.txt' }] });
    const reordered = parseRestoreRequest({ ...base, filters: [{ include: '*.txt' }, { exclude: '*' }] });
    expect(restoreIdOf(plain)).toBe(restoreIdOf(parseRestoreRequest({ ...base, filters: [] })));
    expect(new Set([restoreIdOf(plain), restoreIdOf(filtered), restoreIdOf(reordered)]).size).toBe(3);
    expect(canonicalRequest(filtered).filters).toEqual([{ exclude: '*' }, { include: '*.txt' }]);
  });

  test('a bad pattern, a filter with both kinds, min above max are refused with the field', () => {
    const base = { bucket: 'my-bucket', prefix: 'site/', at: '2026-01-01T00:00:00Z' };
    expect(() => parseRestoreRequest({ ...base, filters: [{ exclude: '[z-a]' }] })).toThrow(/filters\.0\.exclude: is not a valid pattern/);
    expect(() => parseRestoreRequest({ ...base, filters: [{ exclude: 'a', include: 'b' }] })).toThrow(RequestError);
    expect(() => parseRestoreRequest({ ...base, minSize: 10, maxSize: 5 })).toThrow(/minSize: 10 is more than maxSize 5/);
  });
});
