/**
 * Key ranges for planning in parallel: the ranges of a partition follow each
 * other with no gap and no overlap (every key in exactly one), whatever the
 * boundaries; on the local S3 a structured prefix is cut at its sub-prefixes
 * and a flat one at sampled keys.
 */
import fc from 'fast-check';
import { compareKeys } from '#core/s3/listing.ts';
import { evenlySpaced, inRange, partitionScope, rangesBetween } from '#core/sources/key-ranges.ts';
import { HistoryWriter } from '../../support/history.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('ranges');
const s3 = fx.s3;

test('every key belongs to exactly one range of a partition, whatever the boundaries (keys with any bytes)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: 'binary', minLength: 1 }), { maxLength: 12 }),
      fc.array(fc.string({ unit: 'binary', minLength: 1 }), { maxLength: 40 }),
      (boundaries, keys) => {
        const ranges = rangesBetween(boundaries);
        for (const key of keys) expect(ranges.filter((range) => inRange(key, range)).length).toBe(1);
      },
    ),
  );
});

test('the ranges follow each other in key order: each starts after the last key of the one before, the last is open', () => {
  const ranges = rangesBetween(['b/', 'a/', 'c/', 'a/']);
  expect(ranges).toEqual([{ startAfter: '', lastKey: 'a/' }, { startAfter: 'a/', lastKey: 'b/' }, { startAfter: 'b/', lastKey: 'c/' }, { startAfter: 'c/' }]);
});

test('evenly spaced boundaries skip the first candidate and take all when there are too few', () => {
  expect(evenlySpaced(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], 3)).toEqual(['c', 'e', 'g']);
  expect(evenlySpaced(['a', 'b'], 5)).toEqual(['a', 'b']);
  expect(evenlySpaced(['a'], 0)).toEqual([]);
});

test('a prefix with sub-prefixes is cut at them: as many ranges as asked, covering every key once', async () => {
  const bucket = await fx.versionedBucket('tree');
  const w = new HistoryWriter(s3, bucket);
  const keys = ['tree/a.txt', ...'abcdefgh'.split('').flatMap((d) => [`tree/${d}/1`, `tree/${d}/2`, `tree/${d}/x/deep`]), 'tree/z-loose', 'treetop'];
  await Promise.all(keys.map((key) => w.put(key, key)));

  const ranges = await partitionScope(s3, bucket, 'tree/', 4);

  expect(ranges).toHaveLength(4);
  expect(ranges.slice(0, -1).every((range) => range.lastKey?.startsWith('tree/') && range.lastKey.endsWith('/'))).toBe(true);
  for (const key of keys.filter((k) => k.startsWith('tree/')))
    expect({ key, in: ranges.filter((range) => inRange(key, range)).length }).toEqual({ key, in: 1 });
});

test('a flat prefix is cut where its keys branch (0000..0119: at 000, 001, ... 011)', async () => {
  const bucket = await fx.versionedBucket('flat');
  const w = new HistoryWriter(s3, bucket);
  const keys = Array.from({ length: 120 }, (_, i) => `flat/${String(i).padStart(4, '0')}`);
  await Promise.all(keys.map((key) => w.put(key, key)));

  const ranges = await partitionScope(s3, bucket, 'flat/', 6);

  expect(ranges).toHaveLength(6);
  const sizes = ranges.map((range) => keys.filter((key) => inRange(key, range)).length);
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(keys.length);
  expect(Math.min(...sizes)).toBeGreaterThanOrEqual(15);
  expect([...ranges.map((r) => r.lastKey).filter((k): k is string => k !== undefined)].sort(compareKeys)).toEqual(ranges.slice(0, -1).map((r) => r.lastKey));
});

test('one range asked, or a scope with nothing to cut at, is the whole scope', async () => {
  const bucket = await fx.versionedBucket('one');
  await new HistoryWriter(s3, bucket).put('solo/only', 'x');

  expect(await partitionScope(s3, bucket, 'solo/', 1)).toEqual([{ startAfter: '' }]);
  expect(await partitionScope(s3, bucket, 'empty/', 8)).toEqual([{ startAfter: '' }]);
});
