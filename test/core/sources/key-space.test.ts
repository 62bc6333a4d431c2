/**
 * Keys as points on a line (the partition's interpolation between sampled
 * keys): positions follow S3's key order, a key between two keys lies between
 * them, and a counter's equal steps are equal steps of position.
 */
import fc from 'fast-check';
import { compareKeys } from '#core/s3/listing.ts';
import { keyAt, keyBetween, keySpace, positionOf, spanOf } from '#core/sources/key-space.ts';

const counter = (i: number) => `data/obj-${String(i).padStart(9, '0')}.json`;

test('positions follow S3 key order, whatever the keys and the sampled alphabet (keys with any bytes)', () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 4 }),
      fc.array(fc.string({ unit: 'binary', maxLength: 8 }), { maxLength: 8 }),
      fc.array(fc.string({ unit: 'binary', maxLength: 8 }), { minLength: 2, maxLength: 20 }),
      (head, sampled, rests) => {
        const space = keySpace(
          head,
          sampled.map((rest) => head + rest),
        );
        const keys = rests.map((rest) => head + rest).sort(compareKeys);
        for (let i = 1; i < keys.length; i++) expect(positionOf(space, keys[i - 1]!) <= positionOf(space, keys[i]!)).toBe(true);
      },
    ),
  );
});

test('a key between two keys sorts strictly between them, and the key at a position sorts at or before it', () => {
  fc.assert(
    fc.property(
      fc.array(fc.stringMatching(/^[0-9a-z.]{1,8}$/), { minLength: 2, maxLength: 12 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (rests, fraction) => {
        const keys = [...new Set(rests.map((rest) => `p/${rest}`))].sort(compareKeys);
        const space = keySpace('p/', keys);
        const [from, to] = [keys[0]!, keys.at(-1)!];
        const between = keyBetween(space, from, to, fraction);
        if (between !== undefined) expect([compareKeys(between, from) > 0, compareKeys(between, to) < 0]).toEqual([true, true]);
        const at = keyAt(space, positionOf(space, to));
        expect(positionOf(space, at) <= positionOf(space, to)).toBe(true);
      },
    ),
  );
});

test("a counter's equal steps are equal spans of position, across carries (0000099 → 0000100 as 0000100 → 0000101)", () => {
  // Sampled as probes sample: pages of consecutive keys (all ten digits at the low places), a few far apart.
  const space = keySpace('data/obj-000', [...Array.from({ length: 20 }, (_, i) => counter(i)), counter(123_456), counter(439_561)]);
  expect(spanOf(space, counter(99), counter(100))).toBe(spanOf(space, counter(100), counter(101)));
  expect(spanOf(space, counter(0), counter(200_000))).toBe(2 * spanOf(space, counter(0), counter(100_000)));
  expect(keyBetween(space, counter(100_000), counter(200_000), 0.5)).toBe(counter(150_000));
});
