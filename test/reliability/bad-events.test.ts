/**
 * Bad input arriving as an event: a `Restore Requested` event (or a schedule)
 * starts the state machine with `{ request: detail }` (lib/restore-triggers.ts;
 * the malware / undelete rules' requests are made by gather-recovery-events). Each bad detail here runs through the state
 * machine's definition locally: the execution fails (at Validate Request, or
 * at Plan Chunks for a version id the key lacks) with an error naming what is
 * wrong, `Restore Failed` is announced, and nothing is written: no write
 * request reaches S3 and the bucket's listing is the same before and after.
 */
import { expect } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { LocalExecutionError, runRestoreLocally, type RestoreEvent } from '../../cli/local-runner.ts';
import type { RestorePolicy } from '#core/restore/policy.ts';
import { countRequests, HistoryWriter, historyLines, listHistory, setVersioning } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../support/s3.ts';
import { workStores } from '../support/work-stores.ts';

const WRITES = [
  'PutObjectCommand',
  'CopyObjectCommand',
  'DeleteObjectCommand',
  'DeleteObjectsCommand',
  'UploadPartCopyCommand',
  'CreateMultipartUploadCommand',
  'PutObjectTaggingCommand',
];

let s3: S3Client;
let bucket: string;
let unversioned: string;
let suspended: string;
let markerOfB: string;
let versionOfA: string;
const stores = workStores();
let executions = 0;
const past = new Date(Date.now() - 3_600_000).toISOString();

beforeAll(async () => {
  s3 = testS3Client();
  bucket = await createVersionedBucket(s3, 'bad-events');
  const w = new HistoryWriter(s3, bucket);
  versionOfA = await w.put('docs/a.txt', 'a1');
  await w.put('docs/a.txt', 'a2');
  await w.put('docs/b.txt', 'b1');
  markerOfB = await w.del('docs/b.txt');
  unversioned = await createVersionedBucket(s3, 'bad-events-unversioned', { versioning: 'none' });
  await new HistoryWriter(s3, unversioned).put('docs/a.txt', 'only');
  suspended = await createVersionedBucket(s3, 'bad-events-suspended');
  await new HistoryWriter(s3, suspended).put('docs/a.txt', 'a1');
  await setVersioning(s3, suspended, 'Suspended');
});

afterAll(async () => {
  for (const b of [bucket, unversioned, suspended]) await emptyAndDeleteBucket(s3, b).catch(() => undefined);
  stores.removeAll();
  s3.destroy();
});

/** What a deployment allowing two buckets, delete mode on, would check. */
const deployment = (): RestorePolicy => ({ allowedBuckets: [bucket, unversioned, suspended], deleteModeAllowed: true });

interface Refusal {
  readonly error: string;
  readonly message: string;
  readonly events: RestoreEvent[];
}

/** Runs `{ request: detail }` as the Restore Requested rule starts it; returns how the execution failed. */
async function refused(detail: unknown, policy: RestorePolicy = deployment()): Promise<Refusal> {
  const buckets = [bucket, unversioned, suspended];
  const before = await Promise.all(buckets.map(async (b) => historyLines(await listHistory(s3, b))));
  const sent = countRequests(s3);
  const events: RestoreEvent[] = [];
  let thrown: unknown;
  try {
    // EventBridge starts each execution under a fresh name: the restore id.
    const restoreId = `event-${Date.now().toString(36)}-${(executions++).toString(36)}`;
    await runRestoreLocally({ request: detail as never, restoreId }, { s3, store: stores.make(), policy, onEvent: (e) => events.push(e) });
  } catch (error) {
    thrown = error;
  } finally {
    sent.stop();
  }
  expect(thrown).toBeInstanceOf(LocalExecutionError);
  expect(WRITES.flatMap((command) => Array.from({ length: sent.count(command) }, () => command))).toEqual([]);
  expect(await Promise.all(buckets.map(async (b) => historyLines(await listHistory(s3, b))))).toEqual(before);
  expect(events.map((e) => e.detailType)).toEqual(['Restore Failed']);
  const failure = thrown as LocalExecutionError;
  return { error: failure.error, message: messageOf(failure.message), events };
}

/** Lambda's `{"errorType","errorMessage"}` cause, or the message as it is. */
const messageOf = (text: string): string => {
  try {
    const parsed = JSON.parse(text) as { errorMessage?: string };
    return parsed.errorMessage ?? text;
  } catch {
    return text;
  }
};

describe('a Restore Requested event with a bad detail fails at Validate Request with a RequestError, and nothing is written', () => {
  test('a detail without a bucket', async () => {
    expect(await refused({ prefix: 'docs/', at: past })).toMatchObject({ error: 'RequestError', message: expect.stringContaining('bucket:') });
  });

  test('a detail that is not an object', async () => {
    expect(await refused('restore docs please')).toMatchObject({ error: 'RequestError', message: expect.stringContaining('invalid restore request') });
  });

  test('a key and a prefix at once', async () => {
    const refusal = await refused({ bucket, key: 'docs/a.txt', prefix: 'docs/', at: past });
    expect(refusal).toMatchObject({ error: 'RequestError', message: expect.stringContaining('prefix: give a key or a prefix, not both') });
  });

  test('two restore points', async () => {
    const refusal = await refused({ bucket, key: 'docs/a.txt', at: past, versionId: versionOfA });
    expect(refusal).toMatchObject({ error: 'RequestError', message: expect.stringContaining('give one restore point') });
  });

  test('a time in the future', async () => {
    expect(await refused({ bucket, prefix: 'docs/', at: '2099-01-01T00:00:00Z' })).toMatchObject({
      message: expect.stringContaining('at: 2099-01-01T00:00:00Z is in the future'),
    });
  });

  test('a time without a zone', async () => {
    expect(await refused({ bucket, prefix: 'docs/', at: '2026-01-01T10:00:00' })).toMatchObject({ message: expect.stringContaining('has no time zone') });
  });

  test('an unknown mode', async () => {
    expect(await refused({ bucket, prefix: 'docs/', at: past, mode: 'wipe' })).toMatchObject({
      error: 'RequestError',
      message: expect.stringContaining('mode:'),
    });
  });

  test('delete mode without confirmPermanentDelete', async () => {
    const refusal = await refused({ bucket, prefix: 'docs/', at: past, mode: 'delete' });
    expect(refusal).toMatchObject({ error: 'RequestError', message: expect.stringContaining('confirmPermanentDelete: delete mode permanently deletes') });
  });

  test('a key with control characters', async () => {
    expect(await refused({ bucket, key: 'docs/a\u0000.txt', at: past })).toMatchObject({
      message: expect.stringContaining('key: contains control characters'),
    });
  });

  test('a field of the wrong type', async () => {
    expect(await refused({ bucket, prefix: 'docs/', at: past, dryRun: 'yes' })).toMatchObject({ message: expect.stringContaining('dryRun:') });
  });

  test('an unknown field', async () => {
    expect(await refused({ bucket, prefix: 'docs/', at: past, force: true })).toMatchObject({ message: expect.stringContaining('unknown field force') });
  });
});

describe('a Restore Requested event the deployment or the bucket refuses fails at Validate Request with a RefusedError, and nothing is written', () => {
  test('a bucket not in the allowed list', async () => {
    const refusal = await refused({ bucket, prefix: 'docs/', at: past }, { allowedBuckets: ['another-bucket'], deleteModeAllowed: true });
    expect(refusal).toMatchObject({ error: 'RefusedError', message: expect.stringContaining(`bucket "${bucket}" is not one this deployment may restore`) });
  });

  test('delete mode in a deployment without it', async () => {
    const refusal = await refused(
      { bucket, prefix: 'docs/', at: past, mode: 'delete', confirmPermanentDelete: true },
      { allowedBuckets: [bucket], deleteModeAllowed: false },
    );
    expect(refusal).toMatchObject({ error: 'RefusedError', message: expect.stringContaining('delete mode is disabled') });
  });

  test('an unversioned bucket', async () => {
    expect(await refused({ bucket: unversioned, prefix: 'docs/', at: past })).toMatchObject({
      error: 'RefusedError',
      message: expect.stringContaining('is not versioned'),
    });
  });

  test('a bucket with versioning Suspended', async () => {
    expect(await refused({ bucket: suspended, prefix: 'docs/', at: past })).toMatchObject({
      error: 'RefusedError',
      message: expect.stringContaining('versioning Suspended'),
    });
  });
});

describe('a Restore Requested event naming a version the key does not have fails at Plan Chunks, and nothing is written', () => {
  test("a delete marker's id as the target", async () => {
    const refusal = await refused({ bucket, key: 'docs/b.txt', versionId: markerOfB });
    expect(refusal).toMatchObject({
      error: 'RequestError',
      message: expect.stringMatching(new RegExp(`${markerOfB}.*delete marker|delete marker.*${markerOfB}`)),
    });
  });

  test('a version id the key does not have', async () => {
    const refusal = await refused({ bucket, key: 'docs/a.txt', versionId: 'no-such-version' });
    expect(refusal).toMatchObject({ error: 'RequestError', message: expect.stringContaining('"no-such-version"') });
  });
});
