/**
 * A key listed twice anywhere in a manifest, end to end on the local S3 through
 * the step handlers: refused in the first plan step with both line numbers,
 * however far apart the lines (here beyond one 1,000-line chunk), before
 * anything is planned or written; a manifest that lists each key once is
 * restored as before.
 */
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { workKeys } from '#core/steps/contracts.ts';
import { HistoryWriter, bodyOf, historyLines, listHistory } from '../../support/history.ts';
import { freshExecutionName, iso, rowOf, runRestore, RestoreStepError } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('manifest-dup');
const s3 = fx.s3;

/** A CSV manifest of `keys` (one line each, with its version id when `versions` has one), in the source bucket. */
async function putManifest(bucket: string, keys: readonly string[], versions: Record<number, string> = {}): Promise<string> {
  const body = keys.map((key, i) => [bucket, key, ...(versions[i + 1] ? [versions[i + 1]] : [])].join(',')).join('\n');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'manifests/restore.csv', Body: `${body}\n` }));
  return `s3://${bucket}/manifests/restore.csv`;
}

/** Keys that have no history: the lines between the ones under test. */
const filler = (count: number, from: number) => Array.from({ length: count }, (_, i) => `filler/${String(from + i).padStart(5, '0')}`);

/** The objects a restore left in the work bucket. */
async function workObjects(restoreId: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: fx.workBucket(), Prefix: workKeys(restoreId).root }));
  return (listed.Contents ?? []).map((o) => o.Key!.slice(workKeys(restoreId).root.length)).sort();
}

test('a key on line 2 and again on line 1502 (another version, beyond one chunk) is refused with both line numbers; nothing is planned or written', async () => {
  const bucket = await fx.versionedBucket('src');
  const destination = await fx.versionedBucket('dst');
  const w = new HistoryWriter(s3, bucket);
  const v1 = await w.put('k', 'k v1');
  const v2 = await w.put('k', 'k v2');
  // Line 1 a, line 2 k (v1), lines 3 to 1501 filler, line 1502 k again (v2), line 1503 z.
  const manifest = await putManifest(bucket, ['a', 'k', ...filler(1499, 3), 'k', 'z'], { 2: v1, 1502: v2 });
  const before = await listHistory(s3, bucket);
  const executionName = freshExecutionName();

  // With history to another bucket: acted on twice, the key's history would be written there twice.
  const request = { bucket, manifest, at: iso(Date.now()), to: `s3://${destination}/restored/`, withHistory: true } as const;
  const failure = await runRestore(s3, request, { workBucket: fx.workBucket(), executionName }).catch((e: unknown) => e);

  expect(failure).toBeInstanceOf(RestoreStepError);
  expect((failure as RestoreStepError).step).toBe('Plan Chunks');
  expect((failure as RestoreStepError).error).toMatchObject({
    name: 'RequestError',
    message: 'manifest line 1502 repeats the key of line 2: list each key once',
  });
  expect(historyLines(await listHistory(s3, bucket))).toEqual(historyLines(before));
  expect(await listHistory(s3, destination)).toEqual([]);
  // Only Report Failure's files: no plan chunk, no manifest lines kept for a chunk, no outcomes.
  expect((await workObjects(executionName)).filter((key) => /^(plan|items|outcomes|chunk-refs)\//.test(key))).toEqual([]);
});

test('a 1,500-line manifest that lists each key once passes and is restored in two chunks', async () => {
  const bucket = await fx.versionedBucket('once');
  const w = new HistoryWriter(s3, bucket);
  const v1 = await w.put('k', 'k v1');
  await w.put('k', 'k v2');
  const manifest = await putManifest(bucket, ['a', 'k', ...filler(1498, 3)], { 2: v1 });

  const run = await runRestore(s3, { bucket, manifest, at: iso(Date.now()) }, { workBucket: fx.workBucket() });

  expect(run.chunks.map((c) => c.actions)).toEqual([1000, 500]);
  expect(run.rows).toHaveLength(1500);
  expect(rowOf(run, 'k').TaskStatus).toBe('restored');
  expect(await bodyOf(s3, bucket, 'k')).toBe('k v1');
});
