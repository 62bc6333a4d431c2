/**
 * Throttling as S3 does it, and the write cap. The fault proxy allows N writes a
 * second per bucket and answers `503 SlowDown` above it (as S3 per prefix); a
 * point-in-time restore runs through the local runner with the production client
 * (its pace: pace.ts). Throttling must never be a key's failure, and the restore
 * must end exactly at the restore point. With `maxWritesPerSecond`, the proxy
 * counts the write requests that reach it (every attempt): no one second may hold
 * more than 1.1 × the cap. These assert properties of the run, not its duration.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { runRestoreLocally } from '../../cli/local-runner.ts';
import { createS3Client } from '#core/s3/client.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../support/s3.ts';
import { workStores } from '../support/work-stores.ts';
import { requestFor } from './faulty-s3.ts';
import { entriesLost, historyNow, keysNotAtRestorePoint, keysToChange, newEntriesPerKey, seedIncident } from './scenario.ts';

let plain: S3Client;
let proxy: FaultProxy;
const buckets: string[] = [];
const stores = workStores();

beforeAll(async () => {
  plain = testS3Client();
  proxy = await FaultProxy.start({ seed: 17 });
});

afterAll(async () => {
  await proxy.stop();
  await Promise.all(buckets.map((bucket) => emptyAndDeleteBucket(plain, bucket).catch(() => undefined)));
  stores.removeAll();
  plain.destroy();
}, 120_000);

afterEach(() => proxy.setWriteRateLimit(undefined));

const bucketFor = async (label: string) => {
  const bucket = await createVersionedBucket(plain, label);
  buckets.push(bucket);
  return bucket;
};

test('a bucket that allows 100 writes a second and throttles the rest: a copy-mode restore at 64 in flight fails no key and ends exactly at the restore point', async () => {
  const incident = await seedIncident(plain, await bucketFor('rate-limited'), 1_000);
  const s3 = createS3Client({ endpoint: proxy.endpoint, maxSockets: 64 });
  proxy.setWriteRateLimit(100);

  const summary = await runRestoreLocally({ request: requestFor(incident, 'copy') }, { s3, store: stores.make(), concurrency: 64 }).finally(() => s3.destroy());

  const after = await historyNow(plain, incident);
  expect(summary).toMatchObject({ status: 'SUCCEEDED', counts: { failed: 0 } });
  expect(keysNotAtRestorePoint(incident, after)).toEqual([]);
  expect(entriesLost(incident.before, after)).toEqual([]);
  const added = newEntriesPerKey(incident.before, after);
  expect(keysToChange(incident).filter((key) => !added.has(key))).toEqual([]);
  expect([...added.values()].filter((n) => n > 1)).toEqual([]);
  // The limit was met: the proxy throttled writes.
  expect(proxy.stats.injected.rateLimited).toBeGreaterThan(0);
}, 240_000);

test('with maxWritesPerSecond 40, no one second of the restore holds more than 44 write requests at the bucket, and the summary says the cap', async () => {
  const incident = await seedIncident(plain, await bucketFor('capped'), 400);
  const s3 = createS3Client({ endpoint: proxy.endpoint, maxSockets: 64 });
  const since = Date.now();

  const summary = await runRestoreLocally(
    { request: { ...requestFor(incident, 'copy'), maxWritesPerSecond: 40 } },
    { s3, store: stores.make(), concurrency: 64 },
  ).finally(() => s3.destroy());

  expect(summary).toMatchObject({ status: 'SUCCEEDED', counts: { failed: 0 }, maxWritesPerSecond: 40 });
  expect(keysNotAtRestorePoint(incident, await historyNow(plain, incident))).toEqual([]);
  // Enough writes that the cap was what held them back.
  expect(proxy.stats.writeArrivals.filter((t) => t >= since).length).toBeGreaterThan(200);
  expect(proxy.highestWritesInOneSecond(since)).toBeLessThanOrEqual(44);
}, 240_000);
