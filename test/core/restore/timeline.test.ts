/** The incident timeline's pure part: changes read from histories, intervals, the burst rule and the restore point it suggests. */
import type { HistoryEntry } from '../../../lambdas/core/restore/model.ts';
import {
  buildTimeline,
  ChangeHistogram,
  changesOfKey,
  chooseInterval,
  findBurstSpans,
  formatInterval,
  IntervalError,
  parseInterval,
  subPrefixOf,
  type Change,
  type ChangeKind,
} from '../../../lambdas/core/restore/timeline.ts';

const T0 = Date.parse('2026-05-04T09:00:00.000Z');
const SECOND = 1_000;
const MINUTE = 60_000;

let n = 0;
const version = (key: string, at: number, size = 10): HistoryEntry => ({
  key,
  versionId: `v${n++}`,
  isDeleteMarker: false,
  isLatest: false,
  lastModified: at,
  size,
});
const marker = (key: string, at: number): HistoryEntry => ({ key, versionId: `m${n++}`, isDeleteMarker: true, isLatest: false, lastModified: at });

const change = (at: number, kind: ChangeKind = 'overwrite', key = 'site/pages/a.html', bytes = 10): Change => ({ key, kind, at, bytes });

function histogramOf(changes: readonly Change[], prefix = 'site/', maxBuckets?: number): ChangeHistogram {
  const histogram = new ChangeHistogram(prefix, maxBuckets);
  for (const c of changes) histogram.add(c);
  return histogram;
}

const timeline = (changes: readonly Change[], options: Partial<Parameters<typeof buildTimeline>[1]> = {}) =>
  buildTimeline(histogramOf(changes), { bucket: 'shop', listed: { keys: 1, entries: changes.length }, ...options });

/** One background write every `every` ms over [from, to). */
const background = (from: number, to: number, every: number): Change[] =>
  Array.from({ length: Math.ceil((to - from) / every) }, (_, i) => change(from + i * every, 'overwrite', `site/pages/p${i % 7}.html`));

describe('changes read from a key history', () => {
  test('a version over nothing is a new key, over a version an overwrite, over a delete marker a new key again; a delete marker is a delete marker', () => {
    // Newest first, as listed.
    const history = [version('k', 5), marker('k', 4), version('k', 3, 7), version('k', 2), version('k', 1)];

    const kinds = changesOfKey('k', history).map((c) => [c.at, c.kind, c.bytes]);

    expect(kinds).toEqual([
      [5, 'newKey', 10],
      [4, 'deleteMarker', 0],
      [3, 'overwrite', 7],
      [2, 'overwrite', 10],
      [1, 'newKey', 10],
    ]);
  });

  test('since stops at the first older entry but still uses it to tell an overwrite from a new key; until leaves out newer entries', () => {
    const history = [version('k', 50), version('k', 40), version('k', 30), marker('k', 20), version('k', 10)];

    const kinds = changesOfKey('k', history, { since: 30, until: 45 }).map((c) => [c.at, c.kind]);

    expect(kinds).toEqual([
      [40, 'overwrite'],
      [30, 'newKey'],
    ]);
  });

  test('a key made only of a delete marker counts one delete marker', () => {
    expect(changesOfKey('gone', [marker('gone', 9)]).map((c) => c.kind)).toEqual(['deleteMarker']);
  });

  test.each([
    ['site/img/a.jpg', 'site/', 'site/img/'],
    ['site/index.html', 'site/', 'site/'],
    ['site/a/b/c', 'site/', 'site/a/'],
    ['site/img/a.jpg', 'site', 'site/'],
    ['top.txt', '', ''],
    ['logs/2026/x', '', 'logs/'],
  ])('%s under prefix "%s" counts under "%s"', (key, prefix, expected) => {
    expect(subPrefixOf(key, prefix)).toBe(expected);
  });
});

describe('intervals', () => {
  test.each([
    ['1m', 60_000],
    ['30s', 30_000],
    ['500ms', 500],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    [' 15 m ', 900_000],
  ])('"%s" is %d ms', (text, ms) => {
    expect(parseInterval(text)).toBe(ms);
  });

  test('auto leaves the choice to the span', () => {
    expect(parseInterval('auto')).toBeUndefined();
  });

  test.each(['', '1', 'm', '1y', '-1m', '1.5m', '0s'])('"%s" is refused with how to write one', (text) => {
    expect(() => parseInterval(text)).toThrow(/interval/);
  });

  test.each([
    [60_000, '1m'],
    [500, '500ms'],
    [86_400_000, '1d'],
    [90_000, '90s'],
    [604_800_000, '1w'],
  ])('%d ms reads %s', (ms, text) => {
    expect(formatInterval(ms)).toBe(text);
  });

  test.each([
    ['90 seconds in 60 columns', 90 * SECOND, 60, 1, 2 * SECOND],
    ['an hour in 100 columns', 60 * MINUTE, 100, 1, MINUTE],
    ['three days in 100 columns', 3 * 24 * 60 * MINUTE, 100, 1, 3_600_000],
    ['a year in 100 columns', 365 * 86_400_000, 100, 1, 604_800_000],
    ['nothing (one instant)', 0, 100, 1, 10],
    ['a second, counted 1 s at a time', SECOND, 100, 1_000, SECOND],
    ['an hour, counted 10 min at a time', 60 * MINUTE, 100, 600_000, 600_000],
    ['two hours in 10 columns', 120 * MINUTE, 10, 1, 15 * MINUTE],
  ])('%s: %d ms span → interval %#', (_case, span, columns, fine, expected) => {
    expect(chooseInterval(T0, T0 + span, columns, fine)).toBe(expected);
  });
});

describe('the burst rule', () => {
  test('a jump far above a steady background is one burst; the background is what it rose above', () => {
    const counts = [2, 1, 2, 3, 2, 1, 2, 40, 2, 1, 2];

    expect(findBurstSpans(counts)).toEqual([{ from: 7, to: 7, background: 2 }]);
  });

  test('a busy but steady prefix has no burst', () => {
    expect(findBurstSpans([100, 120, 90, 110, 130, 100, 95, 140, 105])).toEqual([]);
  });

  test('on a quiet prefix 5 changes in one interval are a burst, 4 are not', () => {
    expect(findBurstSpans([0, 0, 0, 0, 5, 0, 0])).toEqual([{ from: 4, to: 4, background: 0 }]);
    expect(findBurstSpans([0, 0, 0, 0, 4, 0, 0])).toEqual([]);
  });

  test('burst intervals two quiet intervals apart are one burst; three apart are two', () => {
    expect(findBurstSpans([1, 1, 1, 1, 30, 1, 1, 30, 1, 1]).map(({ from, to }) => [from, to])).toEqual([[4, 7]]);
    expect(findBurstSpans([1, 1, 1, 1, 30, 1, 1, 1, 30, 1, 1]).map(({ from, to }) => [from, to])).toEqual([
      [4, 4],
      [8, 8],
    ]);
  });

  test('a long burst does not raise its own background: the median is of quiet intervals only', () => {
    const counts = [1, 2, 1, 2, 1, ...Array<number>(12).fill(50), 1, 2];

    expect(findBurstSpans(counts)).toEqual([{ from: 5, to: 16, background: 1 }]);
  });

  test('a burst in the first intervals is measured against the whole series', () => {
    expect(findBurstSpans([60, 1, 2, 1, 1, 2, 1, 2])).toEqual([{ from: 0, to: 0, background: 1.5 }]);
  });
});

describe('the timeline', () => {
  // Background: a write every 10 s for 10 minutes; the incident: 30 overwrites and 30 delete markers within 2 s at 09:05:03.
  const incidentStart = T0 + 5 * MINUTE + 3 * SECOND;
  const incident = [
    ...Array.from({ length: 30 }, (_, i) => change(incidentStart + i * 30, 'overwrite', `site/pages/p${i}.html`, 100)),
    ...Array.from({ length: 30 }, (_, i) => change(incidentStart + 1_000 + i * 30, 'deleteMarker', `site/img/i${i}.jpg`, 0)),
  ];
  const lastBackgroundBefore = T0 + 5 * MINUTE;
  const story = [...background(T0, T0 + 10 * MINUTE, 10 * SECOND), ...incident];

  test('finds the incident as the one burst, with its counts by kind and the sub-prefixes it touched', () => {
    const doc = timeline(story);

    expect(doc.bursts).toHaveLength(1);
    const [burst] = doc.bursts;
    expect(burst!.changes).toEqual({ newKeys: 0, overwrites: 30, deleteMarkers: 30, bytes: 3_000 });
    expect(burst!.topPrefixes).toEqual([
      { prefix: 'site/img/', changes: 30 },
      { prefix: 'site/pages/', changes: 30 },
    ]);
    expect(burst!.start).toBe(new Date(incidentStart).toISOString());
    expect(burst!.end).toBe(new Date(incident.at(-1)!.at).toISOString());
  });

  test('suggests the instant just before the first change of the burst, after the last background write before it, as a ready command', () => {
    const [burst] = timeline(story).bursts;

    const point = Date.parse(burst!.restorePoint);
    expect(point).toBeGreaterThanOrEqual(lastBackgroundBefore);
    expect(point).toBeLessThan(incidentStart);
    expect(point).toBe(incidentStart - 1);
    expect(burst!.command).toBe(`s3-rewind plan s3://shop/site/ --recursive --at ${burst!.restorePoint}`);
  });

  test('a background write in the burst interval just before the burst stays before the restore point', () => {
    // A minute-wide interval holds the write at 09:05:00 and the burst from 09:05:03.
    const [burst] = timeline(story, { intervalMs: MINUTE }).bursts;

    expect(Date.parse(burst!.restorePoint)).toBe(incidentStart - 1);
    expect(burst!.changes.overwrites + burst!.changes.deleteMarkers).toBe(60);
  });

  test('the series covers the window interval by interval and its counts add up to the totals', () => {
    const doc = timeline(story, { intervalMs: MINUTE });

    expect(doc.interval).toEqual({ ms: MINUTE, label: '1m', auto: false });
    expect(doc.series).toHaveLength(10);
    expect(doc.series[0]!.start).toBe('2026-05-04T09:00:00.000Z');
    expect(doc.series[5]).toMatchObject({ start: '2026-05-04T09:05:00.000Z', overwrites: 36, deleteMarkers: 30 });
    expect(doc.series.reduce((sum, s) => sum + s.overwrites + s.deleteMarkers + s.newKeys, 0)).toBe(story.length);
    expect(doc.totals).toEqual({ newKeys: 0, overwrites: 90, deleteMarkers: 30, bytes: 3_600 });
  });

  test('an automatic interval fits the span in the columns asked for', () => {
    const doc = timeline(story, { columns: 60 });

    // 09:00:00 .. 09:09:50 at 10 s is exactly 60 intervals; in 59 columns it takes 15 s.
    expect(doc.interval).toMatchObject({ ms: 10 * SECOND, auto: true });
    expect(doc.series).toHaveLength(60);
    expect(timeline(story, { columns: 59 }).interval.ms).toBe(15 * SECOND);
  });

  test('a steady history has no burst and so suggests nothing', () => {
    const doc = timeline(background(T0, T0 + 10 * MINUTE, 10 * SECOND));

    expect(doc.bursts).toEqual([]);
    expect(doc.series.length).toBeGreaterThan(0);
  });

  test('an empty prefix has no series, no burst and zero totals', () => {
    const doc = timeline([]);

    expect(doc).toMatchObject({ series: [], bursts: [], totals: { newKeys: 0, overwrites: 0, deleteMarkers: 0, bytes: 0 } });
  });

  test('a one-key prefix with one write is one interval and no burst', () => {
    const doc = timeline([change(T0, 'newKey')]);

    expect(doc.series).toEqual([{ start: new Date(T0).toISOString(), newKeys: 1, overwrites: 0, deleteMarkers: 0, bytes: 10 }]);
    expect(doc.bursts).toEqual([]);
  });

  test('since and until bound the series even where nothing was written', () => {
    const doc = timeline([change(T0 + 30 * MINUTE)], { since: T0, until: T0 + 60 * MINUTE, intervalMs: 10 * MINUTE });

    expect(doc.series.map((s) => s.start.slice(11, 16))).toEqual(['09:00', '09:10', '09:20', '09:30', '09:40', '09:50', '10:00']);
    expect(doc).toMatchObject({ since: '2026-05-04T09:00:00.000Z', until: '2026-05-04T10:00:00.000Z' });
  });

  test('too many intervals for the span is refused with what to do', () => {
    expect(() => timeline([change(T0), change(T0 + 86_400_000)], { intervalMs: SECOND })).toThrow(IntervalError);
    expect(() => timeline([change(T0), change(T0 + 86_400_000)], { intervalMs: SECOND })).toThrow(/longer interval/);
  });

  test('a prefix key with quotes or spaces is quoted in the command', () => {
    const doc = buildTimeline(histogramOf(story, 'my site/'), { bucket: 'shop', listed: { keys: 1, entries: 1 } });

    expect(doc.bursts[0]!.command).toMatch(/^s3-rewind plan 's3:\/\/shop\/my site\/' --recursive --at /);
  });
});

describe('bounded memory', () => {
  test('past its bucket limit the histogram counts coarser but loses no change, and first and last changes stay exact', () => {
    const changes = Array.from({ length: 1_000 }, (_, i) => change(T0 + i * 7));
    const histogram = histogramOf(changes, 'site/', 50);

    expect(histogram.width).toBeGreaterThan(1);
    const buckets = histogram.sorted();
    expect(buckets.length).toBeLessThanOrEqual(50);
    expect(buckets.reduce((sum, b) => sum + b.counts.overwrites, 0)).toBe(1_000);
    expect(buckets[0]!.first).toBe(T0);
    expect(buckets.at(-1)!.last).toBe(T0 + 999 * 7);
  });

  test('a given interval finer than the counting is widened, and the document says so', () => {
    const changes = Array.from({ length: 1_000 }, (_, i) => change(T0 + i * 7));
    const doc = buildTimeline(histogramOf(changes, 'site/', 50), { bucket: 'shop', listed: { keys: 1, entries: 1_000 }, intervalMs: 50 });

    expect(doc.interval.ms % doc.resolutionMs).toBe(0);
    expect(doc.interval.note).toMatch(/widened/);
  });

  test('a bucket keeps at most 8 sub-prefixes; the most written stay', () => {
    const changes = [
      ...Array.from({ length: 20 }, () => change(T0, 'overwrite', 'site/big/x')),
      ...Array.from({ length: 30 }, (_, i) => change(T0, 'overwrite', `site/p${i}/x`)),
    ];

    const [bucket] = histogramOf(changes).sorted();

    expect(bucket!.prefixes.size).toBe(8);
    expect(bucket!.prefixes.get('site/big/')).toBe(20);
  });
});
