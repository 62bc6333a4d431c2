/**
 * Planning in ranges as deployed: the synthesized definition, executed by the
 * local runner on the local S3, with a flat prefix forced into many small key
 * ranges (`Partition Scope` → `Plan Ranges`, each range planned and acted on
 * in its own child, `Sum Range Totals`). Keys sit on the range boundaries
 * themselves (a boundary is a key's head, like `r/k05`, and that key exists
 * with several versions and markers), and the outcome is the one of a single
 * chain: the same destination histories, the same report, the same totals,
 * with every earlier version written before any current one across ranges.
 */
import { expect } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { runRestoreLocally } from '../../cli/local-runner.ts';
import type { KeyOutcome } from '#core/restore/model.ts';
import { RANGE_CHUNKS, workKeys } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { iso } from '../support/drive.ts';
import { engineFixture } from '../support/engine-fixture.ts';
import { eachKey, HistoryWriter, byKeyMap, instantAtCut, listHistory, sleep, stateAt, bodyOf, type Entry } from '../support/history.ts';
import { testS3Client } from '../support/s3.ts';

const fx = engineFixture('sm-ranges');
const s3 = fx.s3;

/** 40 flat keys `r/k00`..`r/k39` (their heads `r/k0`..`r/k3`, `r/k00`.. are the boundaries) and the heads `r/k1`, `r/k2` as keys too. */
const KEYS = [...Array.from({ length: 40 }, (_, i) => `r/k${String(i).padStart(2, '0')}`), 'r/k1', 'r/k2'];

async function seed() {
  const bucket = await fx.versionedBucket('src');
  const w = new HistoryWriter(s3, bucket);
  await eachKey(KEYS, async (key, i) => {
    for (let v = 0; v < 1 + (i % 3); v++) await w.put(key, `${key} v${v}`);
    if (i % 5 === 0) await w.del(key);
    if (i % 5 === 0) await w.put(key, `${key} back`);
  });
  await sleep(1100);
  const cut = w.log.length;
  await eachKey(KEYS, async (key, i) => {
    if (i % 3 === 0) await w.put(key, `${key} after`);
    else if (i % 3 === 1) await w.del(key);
  });
  await w.put('r/k40-new', 'new after T');
  const listed = await listHistory(s3, bucket);
  return { bucket, w, listed, at: instantAtCut(w, listed, cut) };
}

/** Copies into `bucket` in the order S3 answered them: the source version copied. */
function recordingClient(bucket: string): { client: S3Client; sources: string[] } {
  const client = testS3Client();
  const sources: string[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const input = args.input as { Bucket?: string; CopySource?: string };
      if (input.Bucket === bucket && input.CopySource !== undefined) sources.push(decodeURIComponent(input.CopySource.split('versionId=')[1] ?? ''));
      return result;
    },
    { step: 'initialize', name: 'recordDestinationCopies' },
  );
  return { client, sources };
}

const historiesOf = (entries: readonly Entry[]) =>
  [...byKeyMap(entries).entries()].map(([key, es]) => [key, es.map((e) => (e.isDeleteMarker ? 'marker' : `${e.etag} ${e.size}`))]).sort();

async function reportOf(restoreId: string): Promise<Array<[string, string]>> {
  const rows = await new S3WorkStore(s3, fx.workBucket()).getLines<KeyOutcome>(workKeys(restoreId).reportJsonl);
  return rows.map((r): [string, string] => [r.Key, r.TaskStatus]).sort();
}

test('with history to another bucket: 12 ranges planned in the Plan Ranges map give the destination, report and totals of one chain, earlier versions before any current one', async () => {
  const { bucket, listed, at } = await seed();
  const store = new S3WorkStore(s3, fx.workBucket());
  const runWith = async (planRanges: number) => {
    const destination = await fx.versionedBucket(`dst-${planRanges}`);
    const { client, sources } = recordingClient(destination);
    const summary = await runRestoreLocally(
      { request: { bucket, prefix: 'r/', at: iso(at), to: `s3://${destination}/`, withHistory: true } },
      { s3: client, store, planRanges },
    ).finally(() => client.destroy());
    const planFiles: string[] = [];
    for await (const key of store.keys(workKeys(summary.restoreId).planPrefix)) planFiles.push(key);
    const refPages: string[] = [];
    for await (const key of store.keys(workKeys(summary.restoreId).chunkRefsPrefix('plan'))) refPages.push(key);
    return { summary, sources, planFiles, refPages, destination: await listHistory(s3, destination), report: await reportOf(summary.restoreId) };
  };

  const one = await runWith(1);
  const many = await runWith(12);

  expect(one.summary.status).toBe('SUCCEEDED');
  expect(many.summary.status).toBe('SUCCEEDED');
  // Planned in ranges apart: each range's own plan steps (one page of chunk refs each), its chunks in its own block of indices.
  expect(many.refPages.length).toBeGreaterThanOrEqual(8);
  expect(one.refPages).toHaveLength(1);
  const blocks = new Set(many.planFiles.map((key) => Math.floor(Number(key.split('/').at(-1)!.replace('.jsonl', '')) / RANGE_CHUNKS)));
  expect(blocks.size).toBeGreaterThanOrEqual(8);
  expect(new Set(one.planFiles.map((key) => Math.floor(Number(key.split('/').at(-1)!.replace('.jsonl', '')) / RANGE_CHUNKS))).size).toBe(1);

  expect(historiesOf(many.destination)).toEqual(historiesOf(one.destination));
  expect(many.report).toEqual(one.report);
  expect(many.summary.planned).toEqual(one.summary.planned);
  expect(many.report.map(([key]) => key)).toEqual([...KEYS, 'r/k40-new'].sort());
  // Across ranges, every key's latest entry up to T (its current one) was copied after every other copy.
  const latest = new Set([...byKeyMap(listed.filter((e) => e.lastModified <= at)).values()].map((entries) => entries[0]!.versionId));
  const firstCurrent = many.sources.findIndex((source) => latest.has(source));
  expect(firstCurrent).toBeGreaterThan(0);
  expect(many.sources.slice(firstCurrent).every((source) => latest.has(source))).toBe(true);
});

test('in place, 12 ranges: every key, the boundary keys included, is back in its state at T', async () => {
  const { bucket, w, listed, at } = await seed();
  const summary = await runRestoreLocally(
    { request: { bucket, prefix: 'r/', at: iso(at) } },
    { s3, store: new S3WorkStore(s3, fx.workBucket()), planRanges: 12 },
  );
  expect(summary.status).toBe('SUCCEEDED');
  for (const key of [...KEYS, 'r/k40-new']) expect([key, await bodyOf(s3, bucket, key)]).toEqual([key, stateAt(w, listed, key, at)]);
});
