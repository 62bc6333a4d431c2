/**
 * One key with a history longer than a ListObjectVersions page (at most 1,000
 * entries; RGW often returns fewer): versions and delete markers interleave and
 * span two or more pages. Restores at instants on either side of a page
 * boundary, on a version and on a delete marker, must see the whole history in
 * S3's order.
 */
import { listPage } from '#core/s3/listing.ts';
import { HistoryWriter, bodyOf, historyLines, latestOf, listHistory, stateAt, timeOf, type Entry, type Write } from '../../support/history.ts';
import { iso, rowOf, runRestore } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('longkey');
const s3 = fx.s3;

/** Write i of the big key: a delete marker every third write, else a version "v<i>". */
const isMarker = (i: number) => i % 3 === 2;
const BIG_WRITES = 1101;

describe('one key with 1,101 interleaved versions and delete markers, over two or more listing pages', () => {
  let bucket: string;
  let w: HistoryWriter;
  let big: Write[];
  let original: Entry[];
  /** Write indexes of the last entry of the first listing page and of the first entry of the second. */
  let boundary: { last: number; first: number };
  const at = (i: number) => timeOf(original, big[i]!);

  beforeAll(async () => {
    bucket = await fx.versionedBucket('big');
    w = new HistoryWriter(s3, bucket);
    for (let i = 0; i < BIG_WRITES; i++) {
      if (isMarker(i)) await w.del('big');
      else await w.put('big', `v${i}`);
    }
    // A neighbour listed after it.
    await w.put('bih', 'after');
    big = w.writesOf('big');
    original = await listHistory(s3, bucket);
    expect(original.filter((e) => e.key === 'big')).toHaveLength(BIG_WRITES);
    // Where the listing the restore makes (Prefix=big, up to 1,000 per page) breaks the key's history:
    // at most 1,000 entries a page (RGW may return fewer), so at least two pages.
    const index = new Map(big.map((write, i) => [write.versionId, i]));
    const firstPage = await listPage(s3, bucket, 'big', null);
    expect(firstPage.next).not.toBeNull();
    const secondPage = await listPage(s3, bucket, 'big', firstPage.next);
    boundary = { last: index.get(firstPage.entries.at(-1)!.versionId)!, first: index.get(secondPage.entries[0]!.versionId)! };
    expect(boundary.first).toBe(boundary.last - 1);
    // The writes the restore points fall on have their own millisecond.
    for (const i of [49, 50, 600, boundary.first, boundary.last]) expect(at(i)).toBeLessThan(at(i + 1));
  }, 120_000);

  test.each([
    ['on a version (write 600)', () => at(600), () => 'v600'],
    ['on a delete marker (write 50)', () => at(50), () => null],
    ['on the last entry of the first listing page', () => at(boundary.last), () => stateAt(w, original, 'big', at(boundary.last))],
    ['on the first entry of the second listing page', () => at(boundary.first), () => stateAt(w, original, 'big', at(boundary.first))],
    ['between two writes (700 and 701)', () => Math.floor((at(700) + at(701)) / 2), () => 'v700'],
    ['before the first write', () => at(0) - 1, () => null],
  ])('copy mode, restore point %s: the key ends in its state at that instant', async (_, point, state) => {
    const t = point();
    const expected = state();
    expect(stateAt(w, original, 'big', t)).toBe(expected);

    const run = await runRestore(s3, { bucket, key: 'big', at: iso(t) }, { workBucket: fx.workBucket() });

    expect(await bodyOf(s3, bucket, 'big')).toBe(expected);
    const row = rowOf(run, 'big');
    if (expected === null) {
      expect(row.TaskStatus).toMatch(/^(deleted|unchanged)$/);
      expect(latestOf(await listHistory(s3, bucket, 'big'), 'big')?.isDeleteMarker).toBe(true);
    } else {
      const source = [...big].reverse().find((x) => x.kind === 'put' && x.body === expected)!;
      expect(row).toMatchObject({ TaskStatus: 'restored', VersionId: source.versionId });
    }
    // Copy mode loses nothing.
    const now = await listHistory(s3, bucket, 'big');
    expect(now.map((e) => e.versionId)).toEqual(expect.arrayContaining(original.filter((e) => e.key === 'big').map((e) => e.versionId)));
  });

  test('delete mode to write 49 (a version over 1,000 entries down) leaves exactly writes 0..49, and v49 current', async () => {
    const run = await runRestore(s3, { bucket, key: 'big', at: iso(at(49)), mode: 'delete', confirmPermanentDelete: true }, { workBucket: fx.workBucket() });

    const after = await listHistory(s3, bucket, 'big');
    const expected = original
      .filter((e) => e.key === 'big' && e.lastModified <= at(49))
      .map((e) => e.versionId)
      .sort();
    expect(
      after
        .filter((e) => e.key === 'big')
        .map((e) => e.versionId)
        .sort(),
    ).toEqual(expected);
    expect(expected).toHaveLength(50);
    expect(latestOf(after, 'big')?.versionId).toBe(big[49]!.versionId);
    expect(await bodyOf(s3, bucket, 'big')).toBe('v49');
    expect(rowOf(run, 'big')).toMatchObject({ TaskStatus: 'restored', VersionId: big[49]!.versionId });
    expect(historyLines((await listHistory(s3, bucket)).filter((e) => e.key !== 'big'))).toEqual(historyLines(original.filter((e) => e.key !== 'big')));
  });
});
