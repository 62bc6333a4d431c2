/**
 * The request-count property of issue 5 on a small seed against the local S3:
 * a point-in-time restore of 300 keys with a realistic history (bench/seed.ts),
 * driven through the step handlers as the state machine runs them
 * (test/support/drive.ts), with every HTTP request to the restored bucket
 * counted by type (the work bucket's plan and outcome files are not counted).
 */
import { createS3Client } from '#core/s3/client.ts';
import type { RestoreMode } from '#core/restore/model.ts';
import { countRequests, type RequestCounts } from '../../bench/counting.ts';
import { requestBound } from '../../bench/report.ts';
import { createVersionedBucket, removeBucket, seedBuckets, seedTotals } from '../../bench/seed.ts';
import { runRestore } from '../support/drive.ts';

const KEYS = 300;
const PREFIX = 'data/';
const seed = seedTotals(KEYS);
const run = `${process.pid}-${Date.now().toString(36)}`;
const buckets = { copy: `req-count-copy-${run}`, delete: `req-count-delete-${run}`, work: `req-count-work-${run}` };
const measured: Partial<Record<RestoreMode, { requests: RequestCounts; changed: number; failed: number; chunks: number }>> = {};

beforeAll(async () => {
  const s3 = createS3Client({ maxSockets: 64 });
  await Promise.all(Object.values(buckets).map((bucket) => createVersionedBucket(s3, bucket)));
  const { cut } = await seedBuckets(s3, [buckets.copy, buckets.delete], KEYS, { prefix: PREFIX, concurrency: 64 });
  for (const mode of ['copy', 'delete'] as const) {
    const client = createS3Client({ maxSockets: 32 });
    const counter = countRequests(client, { bucket: buckets[mode] });
    const request = { bucket: buckets[mode], prefix: PREFIX, at: cut.toISOString(), mode, ...(mode === 'delete' ? { confirmPermanentDelete: true } : {}) };
    const run = await runRestore(client, request, { workBucket: buckets.work });
    const { counts } = run.summary;
    measured[mode] = {
      requests: counter.counts(),
      changed: counts.restored + counts.deleted + counts.undeleted,
      failed: counts.failed,
      chunks: run.chunks.length,
    };
  }
}, 60_000);

afterAll(async () => {
  const s3 = createS3Client();
  await Promise.all(Object.values(buckets).map((bucket) => removeBucket(s3, bucket).catch(() => undefined)));
});

describe.each(['copy', 'delete'] as const)('a %s-mode point-in-time restore of 300 keys', (mode) => {
  test('sends one CopyObject per copied key, one DeleteObjects per 1,000 deletions, and no HEAD, GET or single DELETE', () => {
    const { requests, changed, failed } = measured[mode]!;
    expect({ changed, failed }).toEqual({ changed: seed.changed, failed: 0 });
    expect(requests.CopyObject ?? 0).toBe(mode === 'copy' ? seed.copies : 0);
    expect(requests.DeleteObjects).toBe(Math.ceil((mode === 'copy' ? seed.newMarkers : seed.deletions) / 1000));
    for (const perKey of ['HeadObject', 'GetObject', 'DeleteObject', 'PutObject']) expect(requests[perKey]).toBeUndefined();
  });

  // Over the bound (copies + ⌈deletions/1000⌉ + ⌈entries/1000⌉), only what keeps the restore safe
  // (docs/performance.md, "Requests over the bound"): validation's versioning check, and in delete mode its
  // Object Lock check (read once, for every act step: locked keys left alone). Whether the scope holds anything
  // is told by the plan's first page, which the plan lists anyway: no request of its own. Copy mode, per chunk:
  // the act step's versioning check (suspended since the plan, a copy would overwrite the null version:
  // refused). No chunk is listed again: each was listed moments ago and is carried out as planned
  // (docs/safety.md, "A fresh plan carried out as written"; in copy mode on its first attempt, recorded in the
  // work store). A copy whose answer has no VersionId (RGW's) is recorded by what it copied, not listed again.
  test(
    mode === 'copy'
      ? 'lists the scope once to plan (its first page also refusing an empty scope), and sends beyond the bound 1 check per restore and a versioning check per chunk, no re-listing'
      : "lists the scope once to plan (its first page also refusing an empty scope), and sends beyond the bound only validation's 2 checks per restore, nothing per chunk",
    () => {
      const { requests, chunks } = measured[mode]!;
      expect(chunks).toBe(1);
      const planPages = Math.ceil(seed.entries / 1000);
      const perChunk = mode === 'copy' ? 1 : 0;
      expect(requests.ListObjectVersions).toBe(planPages);
      expect(requests.GetBucketVersioning).toBe(mode === 'copy' ? 1 + chunks : 1);
      expect(requests.GetObjectLockConfiguration ?? 0).toBe(mode === 'delete' ? 1 : 0);
      const total = Object.values(requests).reduce((sum, n) => sum + n, 0);
      expect(total).toBe(requestBound(seed, mode) + (mode === 'copy' ? 1 : 2) + perChunk * chunks);
    },
  );
});
