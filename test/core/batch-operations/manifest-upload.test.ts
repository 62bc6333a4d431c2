/**
 * The Batch Operations manifests are streamed to the work bucket (`writeManifests`):
 * one per phase and storage class, each line as it comes, multipart above one
 * part. What CreateJob is handed must be the stored object's ETag, and the same
 * lines must give the same ETag again (a retried Prepare Batch Jobs, the same
 * job token). On the local S3.
 */
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { createJobInput, manifestCsv, writeManifests, type BatchCopy, type BatchPhase } from '#core/batch-operations/jobs.ts';
import { UPLOAD_PART_BYTES } from '#core/work-store/work-store.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('manifest-upload');
const s3 = fx.s3;
const SOURCE = 'source-bucket';
const OPTIONS = { accountId: '111122223333', roleArn: 'arn:aws:iam::111122223333:role/s3-rewind-batch' };

/** `count` copies with 60-character keys and 32-character version ids: ~110 bytes per manifest line. */
const copies = (count: number, storageClass: string, label: string): BatchCopy[] =>
  Array.from({ length: count }, (_, i) => ({
    key: `data/${label}/${String(i).padStart(8, '0')}`.padEnd(60, 'x'),
    versionId: `v${String(i).padStart(31, '0')}`,
    storageClass,
  }));

const textOf = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: fx.workBucket(), Key: key }))).Body!.transformToString('utf8');

test('copies of two phases and two storage classes, fed interleaved, become one manifest each, in their order; the large one is multipart with the stored ETag, the same when written again', async () => {
  // Prepare: enough current STANDARD copies for more than one part.
  const large = copies(Math.ceil((UPLOAD_PART_BYTES * 1.2) / 110), 'STANDARD', 'big');
  const byManifest: Array<[BatchPhase, BatchCopy[]]> = [
    ['current', large],
    ['current', copies(300, 'STANDARD_IA', 'ia')],
    ['noncurrent', copies(500, 'STANDARD', 'old')],
  ];
  const feed = async (add: (phase: BatchPhase, copy: BatchCopy) => Promise<void>) => {
    const longest = Math.max(...byManifest.map(([, c]) => c.length));
    for (let i = 0; i < longest; i++) for (const [phase, list] of byManifest) if (i < list.length) await add(phase, list[i]!);
  };

  // Act
  const state = await writeManifests(s3, fx.workBucket(), 'copy-manifestupload0000001', SOURCE, feed);
  const again = await writeManifests(s3, fx.workBucket(), 'copy-manifestupload0000001', SOURCE, feed);

  // Assess: jobs phase by phase, storage classes in order, each manifest exactly its copies' lines.
  expect(state.jobs.map((j) => [j.phase, j.storageClass, j.tasks])).toEqual([
    ['noncurrent', 'STANDARD', 500],
    ['current', 'STANDARD', large.length],
    ['current', 'STANDARD_IA', 300],
  ]);
  const [noncurrent, current, ia] = state.jobs;
  expect(await textOf(noncurrent!.manifestKey)).toBe(manifestCsv(SOURCE, byManifest[2]![1]));
  expect(await textOf(current!.manifestKey)).toBe(manifestCsv(SOURCE, large));
  expect(await textOf(ia!.manifestKey)).toBe(manifestCsv(SOURCE, byManifest[1]![1]));
  // The large manifest is multipart; every ETag is the stored object's (what S3 checks at CreateJob).
  expect(current!.manifestEtag).toMatch(/-2"$/);
  for (const job of state.jobs) {
    const head = await s3.send(new HeadObjectCommand({ Bucket: fx.workBucket(), Key: job.manifestKey }));
    expect(job.manifestEtag).toBe(head.ETag);
  }
  // Written again: the same ETags, so the same CreateJob tokens.
  expect(again.jobs.map((j) => j.manifestEtag)).toEqual(state.jobs.map((j) => j.manifestEtag));
  const destination = { bucket: 'destination', prefix: '' };
  expect(again.jobs.map((j) => createJobInput(again, j, destination, OPTIONS).ClientRequestToken)).toEqual(
    state.jobs.map((j) => createJobInput(state, j, destination, OPTIONS).ClientRequestToken),
  );
});

test('no copies: no manifest and no job', async () => {
  const state = await writeManifests(s3, fx.workBucket(), 'copy-manifestupload0000002', SOURCE, () => Promise.resolve());

  expect(state.jobs).toEqual([]);
});
