/**
 * A key listed twice anywhere in a manifest, without S3: the fingerprint set
 * (growth, probing, the fingerprint that marks empty slots), candidates
 * confirmed exactly (two keys that only share a fingerprint are never
 * refused), and `checkManifest` reading a manifest from memory with
 * collisions forced by a tiny fingerprint function.
 */
import fc from 'fast-check';
import { checkManifest } from '#core/sources/manifest-source.ts';
import { RequestError } from '#core/restore/errors.ts';
import { FingerprintSet, ManifestKeys, seededFingerprint, type KeyFingerprint } from '#core/sources/manifest-duplicates.ts';
import type { ManifestSource } from '#core/sources/manifest.ts';
import { parseRestoreRequest } from '#core/restore/request.ts';

/** A fingerprint with 3 values: different keys of the same length mod 3 collide. */
const TINY: KeyFingerprint = (key) => [0, key.length % 3];

/** A manifest in memory; counts how many times it was opened and how many lines were handed out. */
function memoryManifest(lines: readonly string[]) {
  const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  const reads = { opens: 0 };
  const source: ManifestSource = {
    open(_location, offset) {
      reads.opens += 1;
      return Promise.resolve([bytes.subarray(offset)]);
    },
  };
  return { source, reads };
}

/** `(line, key)` pairs as the manifest reader yields them, one line read per `next()`. */
function entries(keys: readonly string[], read: { lines: number } = { lines: 0 }): AsyncIterable<{ entry: { line: number; key: string } }> {
  const lines = keys.entries();
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const next = lines.next();
        if (next.done) return Promise.resolve({ done: true, value: undefined });
        read.lines += 1;
        const [i, key] = next.value;
        return Promise.resolve({ done: false, value: { entry: { line: i + 1, key } } });
      },
    }),
  };
}

const request = (at = true) => parseRestoreRequest({ bucket: 'src', manifest: 's3://m/m.csv', ...(at ? { at: '2026-01-01T00:00:00Z' } : {}) });

describe('FingerprintSet', () => {
  test('add says whether the fingerprint was there already; size counts distinct fingerprints', () => {
    const set = new FingerprintSet(4);
    expect(set.add(1, 2)).toBe(false);
    expect(set.add(2, 1)).toBe(false);
    expect(set.add(1, 2)).toBe(true);
    expect(set.size).toBe(2);
    expect(set.has(2, 1)).toBe(true);
    expect(set.has(2, 2)).toBe(false);
  });

  test('doubles whenever it would be more than 3/4 full, and keeps every fingerprint through each doubling', () => {
    const set = new FingerprintSet(4);
    const capacities: number[] = [];
    for (let i = 1; i <= 1000; i++) {
      expect(set.add(i * 7919, i)).toBe(false);
      if (capacities.at(-1) !== set.capacity) capacities.push(set.capacity);
      expect(set.size * 4).toBeLessThanOrEqual(set.capacity * 3);
    }
    expect(capacities).toEqual([4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
    for (let i = 1; i <= 1000; i++) expect(set.has(i * 7919, i)).toBe(true);
    expect(set.has(0, 1001)).toBe(false);
  });

  test('fingerprints that land on the same slot are told apart by probing on', () => {
    // One slot of 4 for all: every (hi, lo) with the same lo ^ hi*c mod 4 collides; here, hi = 0.
    const set = new FingerprintSet(4);
    expect(set.add(0, 4)).toBe(false);
    expect(set.add(0, 8)).toBe(false);
    expect(set.add(0, 12)).toBe(false);
    expect([set.has(0, 4), set.has(0, 8), set.has(0, 12), set.has(0, 16)]).toEqual([true, true, true, false]);
  });

  test('the fingerprint (0, 0), which marks an empty slot, is kept all the same (as (0, 1): a candidate more, never a miss)', () => {
    const set = new FingerprintSet(4);
    expect(set.add(0, 0)).toBe(false);
    expect(set.has(0, 0)).toBe(true);
    expect(set.add(0, 0)).toBe(true);
    expect(set.add(0, 1)).toBe(true);
    expect(set.add(1, 0)).toBe(false);
  });

  test('answers as a Set of the pairs would, for any sequence of fingerprints', () => {
    const pair = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 40 }));
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 200 }), (pairs) => {
        const set = new FingerprintSet(2);
        const model = new Set<string>();
        for (const [hi, lo] of pairs) {
          // (0, 0) and (0, 1) are one fingerprint in the set: the model folds them alike.
          const id = hi === 0 && lo === 0 ? '0,1' : `${hi},${lo}`;
          expect(set.add(hi, lo)).toBe(model.has(id));
          model.add(id);
        }
        expect(set.size).toBe(model.size);
      }),
    );
  });

  test('a capacity that is not a power of two is refused', () => {
    expect(() => new FingerprintSet(12)).toThrow(RangeError);
  });
});

describe('the default fingerprint', () => {
  test('200,000 similar keys, differing in one character or by a suffix, give no candidate', () => {
    const keys = new ManifestKeys();
    let line = 0;
    for (let i = 0; i < 100_000; i++) {
      keys.add(++line, `logs/2026/01/${i}.json`);
      keys.add(++line, `logs/2026/01/${i}.json.bak`);
    }
    expect(keys.candidates).toBe(0);
  });

  test('depends on its seed, so no manifest can be written to collide on purpose', () => {
    expect(seededFingerprint(1)('a/key')).not.toEqual(seededFingerprint(2)('a/key'));
    expect(seededFingerprint(1)('a/key')).toEqual(seededFingerprint(1)('a/key'));
  });
});

describe('ManifestKeys: candidates confirmed exactly', () => {
  test('two different keys that share a fingerprint are a candidate, and are not refused', async () => {
    const keys = new ManifestKeys({ fingerprint: TINY });
    const manifest = ['ab', 'cd'];
    manifest.forEach((key, i) => keys.add(i + 1, key));
    expect(keys.candidates).toBe(1);
    expect(await keys.confirm(entries(manifest))).toBeNull();
    expect(keys.candidates).toBe(0);
  });

  test('a key listed twice is refused with its first line, even behind a collision of its fingerprint with an earlier key', async () => {
    // `cd` shares `ab`'s fingerprint: the fingerprint's first line (1) is not the key's (2).
    const keys = new ManifestKeys({ fingerprint: TINY });
    const manifest = ['ab', 'cd', 'x', 'cd'];
    manifest.forEach((key, i) => keys.add(i + 1, key));
    expect(await keys.confirm(entries(manifest))).toEqual({ line: 4, first: 2, key: 'cd' });
  });

  test('the first line that repeats a key is the one refused, when several do', async () => {
    const keys = new ManifestKeys({ fingerprint: TINY });
    const manifest = ['a', 'b', 'ab', 'b', 'a'];
    manifest.forEach((key, i) => keys.add(i + 1, key));
    expect(await keys.confirm(entries(manifest))).toEqual({ line: 4, first: 2, key: 'b' });
  });

  test('add asks for a confirming read once `confirmEvery` candidates wait; confirming reads only up to the last of them', async () => {
    const keys = new ManifestKeys({ fingerprint: TINY, confirmEvery: 2 });
    const manifest = ['a', 'b', 'c', 'dd', 'ee', 'fff'];
    const add = (line: number) => keys.add(line, manifest[line - 1]!);
    // Lines 2 and 3 share line 1's fingerprint: a pause at line 3.
    expect([add(1), add(2), add(3)]).toEqual([false, false, true]);
    const read = { lines: 0 };
    expect(await keys.confirm(entries(manifest, read))).toBeNull();
    expect(read.lines).toBe(4); // lines 1 to 3, and line 4 to see it is past them
    // Counting starts again: line 5 shares line 4's fingerprint, line 6 line 1's (length 3 folds into (0, 1)).
    expect([add(4), add(5), add(6)]).toEqual([false, false, true]);
  });

  test('with nothing waiting, confirming reads nothing', async () => {
    const keys = new ManifestKeys({ fingerprint: TINY });
    keys.add(1, 'a');
    const read = { lines: 0 };
    expect(await keys.confirm(entries(['a'], read))).toBeNull();
    expect(read.lines).toBe(0);
  });
});

describe('checkManifest: a key listed twice anywhere is refused', () => {
  test('far apart (beyond one 1,000-line chunk), with both line numbers, as a RequestError', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `src,key-${i + 1}`);
    lines[1501] = 'src,key-2';
    const { source } = memoryManifest(lines);
    const failure = await checkManifest(source, request()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RequestError);
    expect((failure as Error).message).toBe('manifest line 1502 repeats the key of line 2: list each key once');
  });

  test('the same key with other version ids is still listed twice (one restore per key)', async () => {
    const { source } = memoryManifest(['src,k,v1', 'src,other,v1', 'src,k,v2']);
    await expect(checkManifest(source, request(false))).rejects.toThrow('manifest line 3 repeats the key of line 1');
  });

  test('keys are compared as S3 means them, once decoded: a+b and a%20b are one key', async () => {
    const { source } = memoryManifest(['src,a+b', 'src,a%20b']);
    await expect(checkManifest(source, request())).rejects.toThrow('manifest line 2 repeats the key of line 1');
  });

  test('blank lines keep their numbers in the message', async () => {
    const { source } = memoryManifest(['src,x', '', '', 'src,x']);
    await expect(checkManifest(source, request())).rejects.toThrow('manifest line 4 repeats the key of line 1');
  });

  test('different keys that all collide are never refused; every line is counted across the pauses to confirm', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `src,key-${i}`);
    const { source, reads } = memoryManifest(lines);
    expect(await checkManifest(source, request(), { fingerprint: TINY, confirmEvery: 7 })).toBe(500);
    // Two fingerprints (key lengths 5, 6 and 7, mod 3, with 0 folded into 1): 498 candidates, 7 to a pause.
    // The first read, then 71 pauses, each a confirming read and a read on, then the confirming read of the last one.
    expect(reads.opens).toBe(1 + 71 * 2 + 1);
  });

  test('a true repeat behind many collisions is found, with its own first line', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `src,key-${i}`);
    lines.push('src,key-250');
    const { source } = memoryManifest(lines);
    await expect(checkManifest(source, request(), { fingerprint: TINY, confirmEvery: 5 })).rejects.toThrow('manifest line 501 repeats the key of line 251');
  });

  test('without a repeat, the real fingerprint reads the manifest once', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `src,key-${i}`);
    const { source, reads } = memoryManifest(lines);
    expect(await checkManifest(source, request())).toBe(5000);
    expect(reads.opens).toBe(1);
  });

  test('a bad line is still refused for what it is', async () => {
    const { source } = memoryManifest(['src,a', 'other,b']);
    await expect(checkManifest(source, request())).rejects.toThrow(/line 2: bucket "other"/);
  });
});
