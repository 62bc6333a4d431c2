/**
 * A bucket whose versioning is Suspended (a write there overwrites the null
 * version) or was never enabled (nothing to restore) is refused before
 * anything is listed or written. Suspended after validation, a copy-mode act
 * step refuses its chunk; a delete-mode one only deletes entries by version id,
 * which writes nothing and is safe whatever the versioning.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { RefusedError } from '#core/restore/errors.ts';
import type { RestoreMode } from '#core/restore/model.ts';
import { HistoryWriter, historyLines, listHistory, setVersioning } from '../../support/history.ts';
import { actChunkStep, planAll, runRestore, RestoreStepError, validateStep } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('guard');
const s3 = fx.s3;

const workObjects = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: fx.workBucket() }))).Contents ?? []).map((o) => o.Key).sort();

/** Runs the restore and returns what Validate Request threw. */
async function refusal(request: Parameters<typeof runRestore>[1]): Promise<unknown> {
  const error = await runRestore(s3, request, { workBucket: fx.workBucket() }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RestoreStepError);
  expect((error as RestoreStepError).step).toBe('Validate Request');
  return (error as RestoreStepError).error;
}

describe('versioning Suspended', () => {
  test.each<RestoreMode>(['copy', 'delete'])('a %s-mode restore is refused with RefusedError VersioningSuspended, and nothing is written', async (mode) => {
    const bucket = await fx.versionedBucket(`suspended-${mode}`);
    const w = new HistoryWriter(s3, bucket);
    const first = await w.put('notes.txt', 'first');
    await w.put('notes.txt', 'second');
    await setVersioning(s3, bucket, 'Suspended');
    const before = await listHistory(s3, bucket);
    const work = await workObjects();

    const error = await refusal({ bucket, key: 'notes.txt', versionId: first, mode, confirmPermanentDelete: mode === 'delete' });

    expect(error).toBeInstanceOf(RefusedError);
    expect(error).toMatchObject({ code: 'VersioningSuspended' });
    expect((error as Error).message).toContain(bucket);
    expect((error as Error).message).toMatch(/Suspended/);
    expect(historyLines(await listHistory(s3, bucket))).toEqual(historyLines(before));
    expect(await workObjects()).toEqual(work);
  });

  test('versioning suspended after the plan was made: the act step refuses the chunk, and nothing is written', async () => {
    const bucket = await fx.versionedBucket('suspended-later');
    const w = new HistoryWriter(s3, bucket);
    const first = await w.put('notes.txt', 'first');
    await w.put('notes.txt', 'second');
    const context = await validateStep(s3, { bucket, key: 'notes.txt', versionId: first }, { workBucket: fx.workBucket() });
    const plan = await planAll(s3, context);
    await setVersioning(s3, bucket, 'Suspended');
    const before = await listHistory(s3, bucket);

    const error = await actChunkStep(s3, context, plan.chunks[0]!).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(RefusedError);
    expect(error).toMatchObject({ code: 'VersioningSuspended' });
    expect(historyLines(await listHistory(s3, bucket))).toEqual(historyLines(before));
  });

  test('versioning suspended after the plan was made, delete mode: the act step deletes exactly the planned versions (a deletion by id writes nothing), and the key is restored', async () => {
    const bucket = await fx.versionedBucket('suspended-later-delete');
    const w = new HistoryWriter(s3, bucket);
    const first = await w.put('notes.txt', 'first');
    const second = await w.put('notes.txt', 'second');
    const request = { bucket, key: 'notes.txt', versionId: first, mode: 'delete', confirmPermanentDelete: true } as const;
    const context = await validateStep(s3, request, { workBucket: fx.workBucket() });
    const plan = await planAll(s3, context);
    await setVersioning(s3, bucket, 'Suspended');
    const before = await listHistory(s3, bucket);

    const acted = await actChunkStep(s3, context, plan.chunks[0]!);

    expect(acted.counts).toMatchObject({ restored: 1, failed: 0 });
    expect(historyLines(await listHistory(s3, bucket), { latest: false })).toEqual(
      historyLines(
        before.filter((e) => e.versionId !== second),
        { latest: false },
      ),
    );
  });
});

describe('versioning never enabled', () => {
  test.each<RestoreMode>(['copy', 'delete'])('a %s-mode restore is refused with RefusedError VersioningNotEnabled, and nothing is written', async (mode) => {
    const bucket = await fx.versionedBucket(`unversioned-${mode}`, { versioning: 'none' });
    const w = new HistoryWriter(s3, bucket);
    await w.put('notes.txt', 'only');
    const before = await listHistory(s3, bucket);
    const work = await workObjects();

    const error = await refusal({ bucket, prefix: '', at: new Date(Date.now() - 60_000).toISOString(), mode, confirmPermanentDelete: mode === 'delete' });

    expect(error).toBeInstanceOf(RefusedError);
    expect(error).toMatchObject({ code: 'VersioningNotEnabled' });
    expect((error as Error).message).toContain(bucket);
    expect(historyLines(await listHistory(s3, bucket))).toEqual(historyLines(before));
    expect(await workObjects()).toEqual(work);
  });
});
