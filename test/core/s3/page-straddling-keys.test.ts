/**
 * Many keys whose histories straddle ListObjectVersions page boundaries: each
 * key must be grouped whole and once, whatever the page size, and a prefix
 * restore (also planned in several chunks) must bring every key to its state.
 */
import { keyHistories } from '#core/s3/listing.ts';
import pLimit from 'p-limit';
import { HistoryWriter, bodyOf, byKeyMap, historyLines, instantAtCut, listHistory, setVersioning, sleep, stateAt, type Entry } from '../../support/history.ts';
import { iso, rowOf, runRestore } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('straddle');
const s3 = fx.s3;

describe('many keys whose histories straddle page boundaries', () => {
  // 12 keys x 90 entries (+3 null versions): more than one page of 1,000 (RGW may also end pages
  // early), and pages of 7 end inside every key.
  const KEYS = Array.from({ length: 12 }, (_, i) => `multi/k${String(i).padStart(2, '0')}`);
  /** Keys with a version written before versioning was enabled (id "null") at the bottom. */
  const NULL_KEYS = ['multi/k03', 'multi/k07', 'multi/k11'];
  const PER_KEY = 90;
  let bucket: string;
  let w: HistoryWriter;
  let before: Entry[];
  /** Restore points after a third and after two thirds of every key's writes. */
  let t1: number;
  let t2: number;

  /** Writes from..to-1 of `key`: a marker every fourth, else a version. */
  const writeRange = async (key: string, from: number, to: number) => {
    for (let j = from; j < to; j++) {
      if (j % 4 === 3) await w.del(key);
      else await w.put(key, `${key}#${j}`);
    }
  };

  beforeAll(async () => {
    bucket = await fx.versionedBucket('multi', { versioning: 'none' });
    w = new HistoryWriter(s3, bucket);
    for (const key of NULL_KEYS) await w.put(key, `${key}#null`);
    await setVersioning(s3, bucket, 'Enabled');
    const limit = pLimit(KEYS.length);
    const phase = (from: number, to: number) => Promise.all(KEYS.map((key) => limit(() => writeRange(key, from, to))));
    await phase(0, 30);
    await sleep(25);
    const cut1 = w.log.length;
    await phase(30, 60);
    await sleep(25);
    const cut2 = w.log.length;
    await phase(60, PER_KEY);
    before = await listHistory(s3, bucket);
    expect(before.length).toBeGreaterThan(1000);
    t1 = instantAtCut(w, before, cut1);
    t2 = instantAtCut(w, before, cut2);
  }, 120_000);

  test("keyHistories groups every key whole and once, with pages of 7 as with pages of 1,000, in the full listing's order", async () => {
    const full = byKeyMap(before);

    for (const pageSize of [7, 1000]) {
      const seen: string[] = [];
      const pages: number[] = [];
      for await (const history of keyHistories(s3, bucket, { kind: 'prefix', prefix: 'multi/' }, { pageSize, onPage: (n) => pages.push(n) })) {
        seen.push(history.key);
        const expected = full.get(history.key) ?? [];
        expect({ pageSize, key: history.key, ids: history.entries.map((e) => e.versionId) }).toEqual({
          pageSize,
          key: history.key,
          ids: expected.map((e) => e.versionId),
        });
        expect(history.entries.map((e) => e.isDeleteMarker)).toEqual(expected.map((e) => e.isDeleteMarker));
        expect(history.entries.filter((e) => e.isLatest).map((e) => e.versionId)).toEqual([expected[0]!.versionId]);
      }
      expect(seen).toEqual(KEYS);
      expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(before.length / pageSize));
    }
  });

  // The restores below run in order on the same bucket; each one's expectation comes from the write log alone.
  test('a copy-mode prefix restore at T2 brings every key to its state at T2 and loses no version', async () => {
    const run = await runRestore(s3, { bucket, prefix: 'multi/', at: iso(t2) }, { workBucket: fx.workBucket() });

    expect(run.rows.map((r) => r.Key)).toEqual(KEYS);
    for (const key of KEYS) {
      const expected = stateAt(w, before, key, t2);
      expect({ key, body: await bodyOf(s3, bucket, key) }).toEqual({ key, body: expected });
      expect({ key, status: rowOf(run, key).TaskStatus }).toEqual({ key, status: expected === null ? 'deleted' : 'restored' });
    }
    const after = await listHistory(s3, bucket);
    expect(after.map((e) => e.versionId)).toEqual(expect.arrayContaining(before.map((e) => e.versionId)));
  });

  test('a copy-mode restore at T1 planned in chunks of 3 writing keys acts on every key once and brings it to its state at T1', async () => {
    const run = await runRestore(s3, { bucket, prefix: 'multi/', at: iso(t1) }, { workBucket: fx.workBucket(), chunkWrites: 3 });

    expect(run.chunks.length).toBe(Math.ceil(KEYS.length / 3));
    expect(run.rows.map((r) => r.Key)).toEqual(KEYS);
    for (const key of KEYS) expect({ key, body: await bodyOf(s3, bucket, key) }).toEqual({ key, body: stateAt(w, before, key, t1) });
    expect(run.summary.counts.failed).toBe(0);
  });

  test('a delete-mode prefix restore at T2 leaves exactly the entries written at or before T2', async () => {
    const run = await runRestore(s3, { bucket, prefix: 'multi/', at: iso(t2), mode: 'delete', confirmPermanentDelete: true }, { workBucket: fx.workBucket() });

    for (const key of KEYS) expect({ key, body: await bodyOf(s3, bucket, key) }).toEqual({ key, body: stateAt(w, before, key, t2) });
    const after = await listHistory(s3, bucket);
    expect(historyLines(after, { latest: false })).toEqual(
      historyLines(
        before.filter((e) => e.lastModified <= t2),
        { latest: false },
      ),
    );
    expect(run.summary.counts.failed).toBe(0);
  });
});
