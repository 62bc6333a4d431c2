/**
 * Key ranges for planning in parallel: the ranges of a partition follow each
 * other with no gap and no overlap (every key in exactly one), whatever the
 * boundaries; the ranges hold about equal numbers of entries, found by a few
 * probes at once: on the local S3 with a prefix whose versions are uneven,
 * and on the synthetic S3 with a million entries under a flat prefix; a
 * structured prefix is cut at its sub-prefixes where they are near.
 */
import fc from 'fast-check';
import { compareKeys } from '#core/s3/listing.ts';
import { evenlySpaced, inRange, partitionScope, rangesBetween } from '#core/sources/key-ranges.ts';
import { keyName, history, syntheticS3, ENTRIES_PER_KEY, SYNTHETIC_BUCKET, SYNTHETIC_PREFIX } from '../../../bench/synthetic-s3.ts';
import { eachKey, HistoryWriter, listHistory } from '../../support/history.ts';
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

test('a flat prefix of 120 keys is cut into 6 ranges of at least 15 keys, in key order', async () => {
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

test('a prefix whose versions are uneven (one sub-prefix with most of them) is cut into ranges of about equal entries', async () => {
  const bucket = await fx.versionedBucket('skew');
  const w = new HistoryWriter(s3, bucket);
  // 30 keys of one version under a/ and under z/; 40 keys of three versions and a delete marker under m/: 60 + 160 entries.
  const light = ['a', 'z'].flatMap((d) => Array.from({ length: 30 }, (_, i) => `skew/${d}/${String(i).padStart(2, '0')}`));
  const heavy = Array.from({ length: 40 }, (_, i) => `skew/m/${String(i).padStart(2, '0')}`);
  await eachKey(light, (key) => w.put(key, key).then(() => undefined));
  await eachKey(heavy, async (key) => {
    for (let v = 0; v < 3; v++) await w.put(key, `${key} v${v}`);
    await w.del(key);
  });
  const listed = await listHistory(s3, bucket, 'skew/');

  // Probes of 10 entries, 4 at once: most of the scope is estimated, not read.
  const ranges = await partitionScope(s3, bucket, 'skew/', 4, { probeEntries: 10, concurrency: 4 });

  const sizes = ranges.map((range) => listed.filter((e) => inRange(e.key, range)).length);
  expect(listed).toHaveLength(220);
  expect(ranges).toHaveLength(4);
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(listed.length);
  expect(Math.max(...sizes)).toBeLessThanOrEqual(1.25 * (listed.length / 4));
});

test('on the synthetic S3, 1,000,000 entries under a flat prefix: 16 ranges within 5 % of an even share, from at most 100 probes, at most 16 at once', async () => {
  const keys = Math.ceil(1_000_000 / ENTRIES_PER_KEY);
  const synthetic = syntheticS3(keys);
  let inFlight = 0;
  let mostInFlight = 0;
  let probes = 0;
  synthetic.middlewareStack.add(
    (next) => async (args) => {
      probes += 1;
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      // Answered after a turn of the event loop, as a remote S3 would: the probes sent at once overlap.
      await new Promise((resolve) => setImmediate(resolve));
      return next(args).finally(() => (inFlight -= 1));
    },
    { step: 'initialize', name: 'countProbes' },
  );

  const ranges = await partitionScope(synthetic, SYNTHETIC_BUCKET, SYNTHETIC_PREFIX, 16);

  const sizes = ranges.map(() => 0);
  let range = 0;
  for (let i = 0; i < keys; i++) {
    while (!inRange(keyName(i), ranges[range]!)) range += 1;
    sizes[range]! += history(i).length;
  }
  const even = sizes.reduce((a, b) => a + b, 0) / 16;
  expect(ranges).toHaveLength(16);
  expect({ largest: Math.max(...sizes) <= 1.05 * even, smallest: Math.min(...sizes) >= 0.95 * even }).toEqual({ largest: true, smallest: true });
  expect(probes).toBeLessThanOrEqual(100);
  expect(mostInFlight).toBeGreaterThan(1);
  expect(mostInFlight).toBeLessThanOrEqual(16);
});
