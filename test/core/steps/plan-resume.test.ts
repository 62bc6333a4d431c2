/**
 * list-versions plans until its time budget is spent, returns the chunks so far
 * with a cursor, and the state machine invokes it again from there. Every key is
 * planned once, in exactly one chunk, and acted on once; the chunks' new delete
 * markers go out in DeleteObjects batches of up to 1,000.
 */
import pLimit from 'p-limit';
import { HistoryWriter, bodyOf, byKeyMap, countRequests, instantAtCut, listHistory, sleep, stateAt, type Entry } from '../../support/history.ts';
import { iso, runRestore, type RestoreRun } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('resume');
const s3 = fx.s3;

describe('1,050 keys uploaded after T, restored in copy mode under a 60 s list-versions timeout', () => {
  const keys = Array.from({ length: 1050 }, (_, i) => `img/${String(i).padStart(5, '0')}.png`);
  let bucket: string;
  let w: HistoryWriter;
  let before: Entry[];
  let at: number;
  let run: RestoreRun;
  let sent: ReturnType<typeof countRequests>;

  beforeAll(async () => {
    bucket = await fx.versionedBucket('resume');
    w = new HistoryWriter(s3, bucket);
    await w.put('img/', 'a folder placeholder from before T');
    await sleep(25);
    const cut = w.log.length;
    // Uploaded after T: the restore puts a delete marker on each (1,050 writing actions, 1,000 a chunk).
    const limit = pLimit(32);
    await Promise.all(keys.map((key) => limit(() => w.put(key, `${key} uploaded after T`))));
    before = await listHistory(s3, bucket);
    at = instantAtCut(w, before, cut);
    sent = countRequests(s3);
    // A 60 s Lambda timeout leaves list-versions no time past its 60 s margin: it returns after each chunk.
    run = await runRestore(s3, { bucket, prefix: 'img/', at: iso(at) }, { workBucket: fx.workBucket(), planTimeoutMs: 60_000 });
    sent.stop();
  }, 120_000);

  test("the plan is made in two list-versions invocations, the second resuming after the first one's last key", () => {
    expect(run.planSteps).toBe(2);
    // "img/" sorts first and is unchanged: chunk 0 holds it and the first 1,000 writing actions.
    expect(run.chunks.map((c) => [c.index, c.writes, c.actions, c.startAfter, c.lastKey])).toEqual([
      [0, 1000, 1001, '', keys[999]],
      [1, 50, 50, keys[999], keys[1049]],
    ]);
    expect(run.totals).toMatchObject({ keys: 1051, delete: 1050, unchanged: 1, deletions: 1050 });
  });

  test('every key is acted on once: one delete marker each, none missed or doubled at the chunk and plan-step boundary', async () => {
    expect(run.rows.map((r) => r.Key)).toEqual(['img/', ...keys]);
    expect(run.summary.counts).toMatchObject({ deleted: 1050, unchanged: 1, failed: 0 });
    const after = byKeyMap(await listHistory(s3, bucket));
    expect(
      keys.filter(
        (key) =>
          after
            .get(key)
            ?.map((e) => e.isDeleteMarker)
            .join() !== 'true,false',
      ),
    ).toEqual([]);
    for (const key of ['img/', keys[0]!, keys[999]!, keys[1000]!, keys[1049]!]) expect(await bodyOf(s3, bucket, key)).toBe(stateAt(w, before, key, at));
  });

  test('the 1,050 new delete markers go out in at most 2 DeleteObjects requests', () => {
    expect(sent.count('DeleteObjectsCommand')).toBeLessThanOrEqual(Math.ceil(1050 / 1000));
    expect(sent.count('DeleteObjectCommand')).toBe(0);
    const entries = sent.inputs('DeleteObjectsCommand').flatMap((input) => (input.Delete as { Objects: Array<{ VersionId?: string }> }).Objects);
    expect(entries).toHaveLength(1050);
    expect(entries.filter((e) => e.VersionId !== undefined)).toEqual([]);
  });
});
