/**
 * A version id target the key doesn't have as a version is the caller's error:
 * a RequestError naming the key and the id, raised while planning, before
 * anything is written.
 */
import { expect } from '@jest/globals';
import { RequestError } from '#core/restore/errors.ts';
import type { RestoreMode } from '#core/restore/model.ts';
import { HistoryWriter, historyLines, listHistory } from '../../support/history.ts';
import { runRestore, RestoreStepError } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('vererr');
const s3 = fx.s3;

async function docWithMarker(label: string) {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  await w.put('doc', 'v1');
  const marker = await w.del('doc');
  await w.put('doc', 'v2');
  const neighbours = await w.put('doc.bak', 'backup');
  return { bucket, marker, neighbours, before: await listHistory(s3, bucket) };
}

/** The restore's failure: the error the plan step threw, and the failure report's summary. */
async function failure(bucket: string, versionId: string, mode: RestoreMode) {
  const error = await runRestore(s3, { bucket, key: 'doc', versionId, mode, confirmPermanentDelete: mode === 'delete' }, { workBucket: fx.workBucket() }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RestoreStepError);
  const stepError = error as RestoreStepError;
  expect(stepError.step).toBe('Plan Chunks');
  return stepError;
}

describe.each<RestoreMode>(['copy', 'delete'])('%s mode', (mode) => {
  test("a delete marker's id as the versionId target fails with a RequestError naming the key and the id, and nothing is written", async () => {
    const { bucket, marker, before } = await docWithMarker(`marker-${mode}`);

    const { error, summary } = await failure(bucket, marker, mode);

    expect(error).toBeInstanceOf(RequestError);
    expect((error as Error).message).toContain('"doc"');
    expect((error as Error).message).toContain(marker);
    expect((error as Error).message).toMatch(/delete marker/);
    expect(historyLines(await listHistory(s3, bucket))).toEqual(historyLines(before));
    expect(summary).toMatchObject({ status: 'FAILED', error: expect.stringContaining(marker) });
  });

  test('an unknown version id fails with a RequestError naming the key and the id, and nothing is written', async () => {
    const { bucket, before } = await docWithMarker(`unknown-${mode}`);

    const { error, summary } = await failure(bucket, 'no-such-version-id', mode);

    expect(error).toBeInstanceOf(RequestError);
    expect((error as Error).message).toContain('"doc"');
    expect((error as Error).message).toContain('"no-such-version-id"');
    expect(historyLines(await listHistory(s3, bucket))).toEqual(historyLines(before));
    expect(summary).toMatchObject({ status: 'FAILED' });
  });

  test("another key's version id (doc.bak's, for doc) fails the same way, and nothing is written", async () => {
    const { bucket, neighbours, before } = await docWithMarker(`neighbour-${mode}`);

    const { error } = await failure(bucket, neighbours, mode);

    expect(error).toBeInstanceOf(RequestError);
    expect((error as Error).message).toContain('"doc"');
    expect((error as Error).message).toContain(neighbours);
    expect(historyLines(await listHistory(s3, bucket))).toEqual(historyLines(before));
  });
});
