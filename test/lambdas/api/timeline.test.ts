/**
 * `GET /timeline` against a real S3 (the local Ceph RGW): the document the CLI's
 * `timeline --json` prints, within the deployment's buckets, bounded in time.
 */
import { expect } from '@jest/globals';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import pLimit from 'p-limit';
import { makeHandler } from '../../../lambdas/api/router.ts';
import type { TimelineDocument } from '../../../lambdas/core/restore/timeline.ts';
import { runCli } from '../../cli/run-cli.ts';
import { sleep } from '../../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../../support/s3.ts';
import { apiEnv, bodyOf, getTimeline } from './events.ts';

const logger = new Logger({ logLevel: 'SILENT' });
let s3: S3Client;
let bucket: string;
/** Around the writes: a window both the API and the CLI are asked about. */
let since: string;
let until: string;

const api = (env: Record<string, string> = {}) =>
  makeHandler({ sfn: new SFNClient({ region: 'us-east-1' }), s3, env: apiEnv({ ALLOWED_BUCKETS: bucket, ...env }), logger });

beforeAll(async () => {
  s3 = testS3Client();
  bucket = await createVersionedBucket(s3, 'api-timeline');
  const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const limit = pLimit(8);
  await Promise.all(Array.from({ length: 24 }, (_, i) => limit(() => put(`site/img/${i}`, `image ${i}`))));
  await sleep(300);
  since = new Date().toISOString();
  for (let i = 0; i < 4; i++) {
    await put(`site/page-${i % 3}`, `edit ${i}`);
    await sleep(600);
  }
  await sleep(500);
  await Promise.all(Array.from({ length: 24 }, (_, i) => limit(() => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `site/img/${i}` })))));
  await sleep(500);
  await put('site/page-0', 'after');
  until = new Date(Date.now() + 1_000).toISOString();
  await sleep(1_100);
});

afterAll(async () => {
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
});

test('answers the timeline: the series, the burst of delete markers and its restore command', async () => {
  const response = await api()(getTimeline({ bucket, prefix: 'site/', since, until, interval: '500ms' }));

  expect(response.statusCode).toBe(200);
  const doc = bodyOf(response) as unknown as TimelineDocument;
  expect(doc.totals).toMatchObject({ newKeys: 3, overwrites: 2, deleteMarkers: 24 });
  expect(doc.bursts).toHaveLength(1);
  expect(doc.bursts[0]!.changes.deleteMarkers).toBe(24);
  expect(doc.bursts[0]!.command).toMatch(new RegExp(`^s3-rewind plan s3://${bucket}/site/ --recursive --at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`));
});

test('is the very document the CLI prints with --json', async () => {
  const response = await api()(getTimeline({ bucket, prefix: 'site/', since, until, interval: '500ms' }));
  const cli = await runCli([
    'timeline',
    `s3://${bucket}/site/`,
    '--recursive',
    '--since',
    since,
    '--until',
    until,
    '--interval',
    '500ms',
    '--json',
    '--no-progress',
  ]);

  expect(cli.code).toBe(0);
  expect(bodyOf(response)).toEqual(JSON.parse(cli.stdout));
});

test('with at, says what a restore to it would change: the deleted images and the page written after come back, the other pages stay', async () => {
  const [burst] = (bodyOf(await api()(getTimeline({ bucket, prefix: 'site/', since, interval: '500ms' }))) as unknown as TimelineDocument).bursts;

  const response = await api()(getTimeline({ bucket, prefix: 'site/', since, at: burst!.restorePoint }));

  const doc = bodyOf(response) as unknown as TimelineDocument;
  expect(doc.restores).toEqual([
    {
      at: burst!.restorePoint,
      label: '--at',
      command: burst!.command,
      totals: expect.objectContaining({ keys: 27, restore: 25, delete: 0, undelete: 0, unchanged: 2, deletions: 0, copies: 25 }),
    },
  ]);
});

test('a listing that cannot finish within the time limit is refused with 422, saying to narrow it or use the CLI', async () => {
  const response = await api({ TIMELINE_TIME_LIMIT_MS: '0' })(getTimeline({ bucket, prefix: 'site/' }));

  expect(response.statusCode).toBe(422);
  expect(bodyOf(response).message).toMatch(
    /too many versions to list within 0 s .* run the CLI, which has no time limit .*s3-rewind timeline s3:\/\/.*--since/,
  );
});

test('a bucket outside ALLOWED_BUCKETS is refused with 403', async () => {
  const response = await api({ ALLOWED_BUCKETS: 'photos' })(getTimeline({ bucket, prefix: 'site/' }));

  expect(response.statusCode).toBe(403);
  expect(bodyOf(response)).toMatchObject({ code: 'BucketNotAllowed' });
});

test('an allowed bucket that does not exist answers 404', async () => {
  const response = await api({ ALLOWED_BUCKETS: 's3-rewind-no-such-bucket' })(getTimeline({ bucket: 's3-rewind-no-such-bucket' }));

  expect(response.statusCode).toBe(404);
});

test.each([
  ['no query at all', null, ['bucket: is required']],
  ['a time without a zone', { bucket: 'photos', since: '2026-05-04T10:00:00' }, [expect.stringMatching(/^since: /)]],
  ['since after until', { bucket: 'photos', since: '2026-05-04T10:00:00Z', until: '2026-05-04T09:00:00Z' }, ['since: is after until']],
  ['a bad interval', { bucket: 'photos', interval: 'fortnightly' }, [expect.stringMatching(/^interval: "fortnightly" is not an interval/)]],
])('%s answers 400 naming the parameter', async (_case, query, issues) => {
  const response = await api({ ALLOWED_BUCKETS: 'photos' })(getTimeline(query));

  expect(response.statusCode).toBe(400);
  expect(bodyOf(response).issues).toEqual(issues);
});
