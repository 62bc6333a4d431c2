/**
 * Chunks of exact keys (`ChunkRef.itemsKey`) and act phases in place, on the
 * local S3, through the act handlers: a chunk listing some keys of a prefix
 * restore acts on exactly those keys, each listed exactly, never on its key
 * range's neighbours (the S3 Batch Operations engine leaves such chunks to the
 * Lambda path); in place, the `noncurrent` phase writes nothing and `current`
 * writes the rest, in copy and delete mode.
 */
import { expect } from '@jest/globals';
import type { RestoreMode } from '#core/restore/model.ts';
import type { PlannedAction } from '#core/restore/destination-plan.ts';
import type { KeyItem } from '#core/sources/key-source.ts';
import type { RestoreRequestInput } from '#core/restore/request.ts';
import { chunkRefOf, itemsKey as manifestItemsKey, workKeys, type ChunkRef, type RestoreContext } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { HistoryWriter, bodyOf, byKeyMap, countRequests, historyLines, instantAtCut, listHistory, sleep } from '../../support/history.ts';
import { actChunkStep, iso, planAll, validateStep } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('items-chunk');
const s3 = fx.s3;
const KEYS = ['p/a', 'p/b', 'p/c', 'p/d'];
/** The keys of the exact-keys chunk: its range (after '' up to p/d) also holds p/a and p/c. */
const LISTED = ['p/b', 'p/d'];

/** Each key: v0 and v1 before T, v2 after. */
async function seed(label: string) {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  for (const key of KEYS) await w.put(key, `${key} v0`);
  for (const key of KEYS) await w.put(key, `${key} v1`);
  await sleep(25);
  const cut = w.log.length;
  for (const key of KEYS) await w.put(key, `${key} v2`);
  const before = await listHistory(s3, bucket);
  return { bucket, before, at: instantAtCut(w, before, cut) };
}

/**
 * Plans the restore (acting on nothing), then writes a chunk after the plan's
 * chunks for `LISTED` only, as the Batch Operations engine writes one: its
 * plan holds those keys' actions, its items file those keys.
 */
async function exactKeysChunk(request: RestoreRequestInput): Promise<{ context: RestoreContext; chunk: ChunkRef }> {
  const context = await validateStep(s3, request, { workBucket: fx.workBucket() });
  const plan = await planAll(s3, context);
  expect(plan.chunks).toHaveLength(1);
  const store = new S3WorkStore(s3, fx.workBucket());
  const actions = (await store.getLines<PlannedAction>(plan.chunks[0]!.planKey)).filter((a) => LISTED.includes(a.key));
  const index = plan.chunks.length;
  const items: KeyItem[] = LISTED.map((key, i) => ({ line: i + 1, key }));
  const itemsKey = `${workKeys(context.restoreId).root}lambda-keys/${index}.jsonl`;
  await store.putLines(workKeys(context.restoreId).plan(index), actions);
  await store.putLines(itemsKey, items);
  const chunk = chunkRefOf(context, index, actions, '', itemsKey);
  expect(chunk).toMatchObject({ startAfter: '', lastKey: 'p/d', itemsKey });
  return { context, chunk };
}

const outcomeKeys = async (context: RestoreContext, chunk: ChunkRef) =>
  (await new S3WorkStore(s3, fx.workBucket()).getLines<{ Key: string; TaskStatus: string }>(workKeys(context.restoreId).outcomes(chunk.index))).map(
    (r) => `${r.Key} ${r.TaskStatus}`,
  );

test('in place, a chunk with an itemsKey restores exactly its listed keys; the other keys of its range are untouched', async () => {
  const { bucket, before, at } = await seed('in-place');
  const { context, chunk } = await exactKeysChunk({ bucket, prefix: 'p/', at: iso(at) });

  const result = await actChunkStep(s3, context, chunk, {}, 'all');

  expect(result.counts).toMatchObject({ restored: 2, failed: 0, unchanged: 0 });
  expect(await outcomeKeys(context, chunk)).toEqual(['p/b restored', 'p/d restored']);
  expect(await bodyOf(s3, bucket, 'p/b')).toBe('p/b v1');
  expect(await bodyOf(s3, bucket, 'p/d')).toBe('p/d v1');
  const after = byKeyMap(await listHistory(s3, bucket));
  const was = byKeyMap(before);
  for (const key of ['p/a', 'p/c']) expect({ key, history: historyLines(after.get(key)!) }).toEqual({ key, history: historyLines(was.get(key)!) });
});

test('to another bucket with history, a chunk with an itemsKey writes exactly its listed keys there: earlier entries in phase noncurrent, the latest in phase current', async () => {
  const { bucket, at } = await seed('to');
  const destination = await fx.versionedBucket('to-dst');
  const { context, chunk } = await exactKeysChunk({ bucket, prefix: 'p/', at: iso(at), to: `s3://${destination}/x/`, withHistory: true });

  await actChunkStep(s3, context, chunk, {}, 'noncurrent');
  const bodies = async () => {
    const listed = await listHistory(s3, destination);
    return Promise.all([...listed].reverse().map(async (e) => `${e.key} ${await bodyOf(s3, destination, e.key, e.versionId)}`));
  };
  expect((await bodies()).sort()).toEqual(['x/p/b p/b v0', 'x/p/d p/d v0']);
  // Provisional rows until the current pass: a restore that stopped here has not restored them.
  expect(await outcomeKeys(context, chunk)).toEqual(['p/b failed', 'p/d failed']);

  const result = await actChunkStep(s3, context, chunk, {}, 'current');
  expect(result.counts).toMatchObject({ restored: 2, failed: 0 });
  expect([...byKeyMap(await listHistory(s3, destination)).keys()]).toEqual(['x/p/b', 'x/p/d']);
  expect(byKeyMap(await listHistory(s3, destination)).get('x/p/b')).toHaveLength(2);
  expect(await bodyOf(s3, destination, 'x/p/b')).toBe('p/b v1');
  expect(await bodyOf(s3, destination, 'x/p/d')).toBe('p/d v1');
});

test.each<RestoreMode>(['copy', 'delete'])(
  'in place (%s mode), phase noncurrent writes nothing and records no outcome; phase current then restores',
  async (mode) => {
    const { bucket, before, at } = await seed(`phase-${mode}`);
    const request: RestoreRequestInput = { bucket, prefix: 'p/', at: iso(at), ...(mode === 'delete' ? { mode, confirmPermanentDelete: true } : {}) };
    const context = await validateStep(s3, request, { workBucket: fx.workBucket() });
    const [chunk] = (await planAll(s3, context)).chunks;

    const first = await actChunkStep(s3, context, chunk!, {}, 'noncurrent');
    expect(first.counts).toMatchObject({ restored: 0, failed: 0, unchanged: 0 });
    expect(await outcomeKeys(context, chunk!)).toEqual([]);
    expect(historyLines(await listHistory(s3, bucket))).toEqual(historyLines(before));

    const second = await actChunkStep(s3, context, chunk!, {}, 'current');
    expect(second.counts).toMatchObject({ restored: 4, failed: 0 });
    for (const key of KEYS) expect(await bodyOf(s3, bucket, key)).toBe(`${key} v1`);
  },
);

test('to another bucket without history, phase noncurrent lists nothing in either bucket and records no outcome; phase current then restores', async () => {
  const { bucket, at } = await seed('to-no-history');
  const destination = await fx.versionedBucket('to-no-history-dst');
  const context = await validateStep(s3, { bucket, prefix: 'p/', at: iso(at), to: `s3://${destination}/x/` }, { workBucket: fx.workBucket() });
  const [chunk] = (await planAll(s3, context)).chunks;

  const sent = countRequests(s3);
  const first = await actChunkStep(s3, context, chunk!, {}, 'noncurrent');
  sent.stop();
  expect(first.counts).toMatchObject({ restored: 0, failed: 0, unchanged: 0 });
  expect(await outcomeKeys(context, chunk!)).toEqual([]);
  // Only the chunk's (empty) outcomes file is written, in the work bucket.
  expect(sent.inputs('ListObjectVersionsCommand')).toEqual([]);
  expect(sent.inputs('PutObjectCommand').map((input) => input.Bucket)).toEqual([fx.workBucket()]);
  expect(await listHistory(s3, destination)).toEqual([]);

  const second = await actChunkStep(s3, context, chunk!, {}, 'current');
  expect(second.counts).toMatchObject({ restored: 4, failed: 0 });
  for (const key of KEYS) expect(await bodyOf(s3, destination, `x/${key}`)).toBe(`${key} v1`);
});

test("a manifest's plan chunks name the file of their lines (itemsKey), which their act steps read", async () => {
  const { bucket, at } = await seed('manifest');
  await s3.send(new PutObjectCommand({ Bucket: fx.workBucket(), Key: 'items-chunk.csv', Body: `${bucket},p/b\n${bucket},p/d\n` }));
  const context = await validateStep(s3, { bucket, manifest: `s3://${fx.workBucket()}/items-chunk.csv`, at: iso(at) }, { workBucket: fx.workBucket() });
  const plan = await planAll(s3, context);
  expect(plan.chunks).toEqual([expect.objectContaining({ index: 0, itemsKey: manifestItemsKey(context.restoreId, 0) })]);
  const items = await new S3WorkStore(s3, fx.workBucket()).getLines<KeyItem>(plan.chunks[0]!.itemsKey!);
  expect(items).toEqual([
    { line: 1, key: 'p/b' },
    { line: 2, key: 'p/d' },
  ]);
  await actChunkStep(s3, context, plan.chunks[0]!, {}, 'all');
  expect(await outcomeKeys(context, plan.chunks[0]!)).toEqual(['p/b restored', 'p/d restored']);
});
