/**
 * Restores to another bucket with history, run by the deployed state machine
 * definition (synthesized, executed in-process by the local runner) on the local
 * S3, on both engines: the Lambda fan-out, and S3 Batch Operations with S3
 * Control faked on RGW (test/support/fake-batch-operations.ts: its jobs copy
 * there, in a shuffled order). Each checks the destination's own listing (every
 * key's entries up to T, oldest first, the latest the state at T), the order of
 * the writes to it, and the report. Then a Batch Operations restore in place
 * undone by the definition too (its rows have no `Wrote`: the undo finds the copies by content).
 */
import { expect } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { runRestoreLocally } from '../../cli/local-runner.ts';
import type { KeyOutcome } from '#core/restore/model.ts';
import { workKeys } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { iso } from '../support/drive.ts';
import { engineFixture } from '../support/engine-fixture.ts';
import { FakeBatchOperations } from '../support/fake-batch-operations.ts';
import { HistoryWriter, byKeyMap, instantAtCut, listHistory, sleep, type Entry } from '../support/history.ts';
import { testS3Client } from '../support/s3.ts';

const fx = engineFixture('sm-engines');
const s3 = fx.s3;
const ACCOUNT = '111122223333';

type Step = string | null;
/** Each key's writes before T and after T (null: a plain DELETE). */
const STORY: Record<string, { before: Step[]; after: Step[] }> = {
  'app/a': { before: ['a1', 'a2'], after: ['a3'] },
  'app/b': { before: ['b1', 'b2'], after: [] },
  'app/c': { before: ['c1'], after: ['c2', null] },
  // A delete marker in its history: Batch Operations can't copy a marker, so this key goes the Lambda way.
  'app/d': { before: ['d1', null, 'd2'], after: ['d3'] },
  'app/e': { before: [], after: ['e1'] },
};

async function seed(label: string) {
  const bucket = await fx.versionedBucket(`${label}-src`);
  const w = new HistoryWriter(s3, bucket);
  const write = (key: string, steps: Step[]) =>
    steps.reduce((done, step) => done.then(() => (step === null ? w.del(key) : w.put(key, step)).then(() => undefined)), Promise.resolve());
  await Promise.all(Object.entries(STORY).map(([key, story]) => write(key, story.before)));
  await sleep(1100);
  const cut = w.log.length;
  await Promise.all(Object.entries(STORY).map(([key, story]) => write(key, story.after)));
  const listed = await listHistory(s3, bucket);
  return { bucket, listed, at: instantAtCut(w, listed, cut) };
}

/** Every copy into `bucket` through a new client, in the order S3 answered them: the key written and the source version copied. */
function recordingClient(bucket: string): { client: S3Client; writes: Array<{ key: string; source: string }> } {
  const client = testS3Client();
  const writes: Array<{ key: string; source: string }> = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const input = args.input as { Bucket?: string; Key?: string; CopySource?: string };
      if (input.Bucket === bucket && input.CopySource !== undefined) {
        writes.push({ key: input.Key!, source: decodeURIComponent(input.CopySource.split('versionId=')[1] ?? '') });
      }
      return result;
    },
    { step: 'initialize', name: 'recordDestinationWrites' },
  );
  return { client, writes };
}

/** Source entries up to T per key, oldest first, as what the destination must repeat: body ETag and size, or a marker. */
const sequenceOf = (entries: readonly Entry[] | undefined): string[] =>
  [...(entries ?? [])].reverse().map((e) => (e.isDeleteMarker ? 'delete marker' : `${e.etag} ${e.size}`));

function expectHistoryReproduced(source: readonly Entry[], at: number, destination: readonly Entry[]) {
  const upToT = byKeyMap(source.filter((e) => e.lastModified <= at));
  const written = byKeyMap(destination.map((e) => ({ ...e, key: e.key.replace(/^restored\//, '') })));
  for (const key of Object.keys(STORY)) {
    const wanted = sequenceOf(upToT.get(key));
    // A key whose history up to T is only a marker, or nothing, leaves the destination without it.
    const expected = wanted.every((w) => w === 'delete marker') ? [] : wanted;
    expect([key, sequenceOf(written.get(key))]).toEqual([key, expected]);
  }
}

async function reportOf(restoreId: string): Promise<Map<string, KeyOutcome>> {
  const rows = await new S3WorkStore(s3, fx.workBucket()).getLines<KeyOutcome>(workKeys(restoreId).reportJsonl);
  return new Map(rows.map((r) => [r.Key, r]));
}

test("Lambda engine: the definition writes every key's earlier entries before any current one; the destination repeats each history up to T, oldest first", async () => {
  const { bucket, listed, at } = await seed('lambda');
  const destination = await fx.versionedBucket('lambda-dst');
  const { client, writes } = recordingClient(destination);
  const store = new S3WorkStore(s3, fx.workBucket());

  const progress: KeyOutcome[] = [];
  const summary = await runRestoreLocally(
    { request: { bucket, prefix: 'app/', at: iso(at), to: `s3://${destination}/restored/`, withHistory: true } },
    { s3: client, store, onOutcome: (row) => progress.push(row) },
  ).finally(() => client.destroy());

  expect(summary.status).toBe('SUCCEEDED');
  // Progress hears each key once, when its last phase is done (the first phase's rows are provisional).
  expect(progress.map((row) => row.Key).sort()).toEqual(Object.keys(STORY).sort());
  expectHistoryReproduced(listed, at, await listHistory(s3, destination));
  // The latest entry of each key up to T is its current one: all of those copies came after every other copy.
  const latest = new Set([...byKeyMap(listed.filter((e) => e.lastModified <= at)).values()].map((entries) => entries[0]!.versionId));
  const firstCurrent = writes.findIndex((w) => latest.has(w.source));
  expect(firstCurrent).toBeGreaterThan(0);
  expect(writes.slice(firstCurrent).every((w) => latest.has(w.source))).toBe(true);
  const rows = await reportOf(summary.restoreId);
  expect([...rows.keys()].sort()).toEqual(['app/a', 'app/b', 'app/c', 'app/d', 'app/e']);
  expect(rows.get('app/a')!.TaskStatus).toBe('restored');
  expect(rows.get('app/e')!.TaskStatus).toBe('unchanged');
});

test('Batch Operations engine: earlier-versions job, then (once Complete) current-versions job; the marker key goes the Lambda way in the same order; the destination repeats each history up to T', async () => {
  const { bucket, listed, at } = await seed('batch');
  const destination = await fx.versionedBucket('batch-dst');
  const fake = new FakeBatchOperations(s3);
  const { client, writes: lambdaWrites } = recordingClient(destination);
  const store = new S3WorkStore(s3, fx.workBucket());

  const summary = await runRestoreLocally(
    { request: { bucket, prefix: 'app/', at: iso(at), to: `s3://${destination}/restored/`, withHistory: true, engine: 'batch-operations' } },
    {
      s3: client,
      store,
      batchOperations: { control: fake.client, accountId: ACCOUNT, roleArn: `arn:aws:iam::${ACCOUNT}:role/s3-rewind-batch` },
      waitSeconds: 0,
    },
  ).finally(() => client.destroy());

  expect(summary.status).toBe('SUCCEEDED');
  expectHistoryReproduced(listed, at, await listHistory(s3, destination));

  // Two jobs, phases in order; the current-versions job was created only after the earlier-versions job ran all its tasks.
  const [earlier, current] = fake.created;
  expect(fake.created.map((job) => job.input.Description)).toEqual([expect.stringContaining('noncurrent'), expect.stringContaining(': current')]);
  const copiedBy = (jobId: string) =>
    fake.copies
      .filter((c) => c.jobId === jobId)
      .map((c) => c.key)
      .sort();
  expect(copiedBy(earlier!.jobId)).toEqual(['app/a', 'app/b']);
  expect(copiedBy(current!.jobId)).toEqual(['app/a', 'app/b', 'app/c']);
  const lastEarlier = fake.copies.findLastIndex((c) => c.jobId === earlier!.jobId);
  expect(fake.copies.findIndex((c) => c.jobId === current!.jobId)).toBeGreaterThan(lastEarlier);

  // The delete-marker key was written by the Lambda path, never by a job, its own entries in order.
  expect(fake.copies.some((c) => c.key === 'app/d')).toBe(false);
  expect(lambdaWrites.map((w) => w.key)).toEqual(['restored/app/d', 'restored/app/d']);

  const rows = await reportOf(summary.restoreId);
  expect([...rows.keys()].sort()).toEqual(['app/a', 'app/b', 'app/c', 'app/d', 'app/e']);
  for (const key of ['app/a', 'app/b', 'app/c', 'app/d']) expect([key, rows.get(key)!.TaskStatus]).toEqual([key, 'restored']);
  expect(rows.get('app/e')!.TaskStatus).toBe('unchanged');
});

test('Batch Operations engine in place, then an undo, both by the executed definition: every key is back as before the restore', async () => {
  const { bucket, at } = await seed('batch-undo');
  const fake = new FakeBatchOperations(s3);
  const store = new S3WorkStore(s3, fx.workBucket());
  const latest = async () =>
    new Map([...byKeyMap(await listHistory(s3, bucket)).entries()].map(([key, entries]) => [key, entries[0]!.isDeleteMarker ? null : entries[0]!.etag]));
  const beforeRestore = await latest();

  const restore = await runRestoreLocally(
    { request: { bucket, prefix: 'app/', at: iso(at), engine: 'batch-operations' } },
    { s3, store, batchOperations: { control: fake.client, accountId: ACCOUNT, roleArn: `arn:aws:iam::${ACCOUNT}:role/s3-rewind-batch` }, waitSeconds: 0 },
  );
  const afterRestore = await latest();
  const undo = await runRestoreLocally({ request: { bucket, undo: restore.restoreId } }, { s3, store });

  expect([restore.status, undo.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  // The jobs copied the keys changed since T (app/c undeleted too); app/e, absent at T, got its delete marker from the Lambda path.
  expect(fake.copies.map((c) => c.key).sort()).toEqual(['app/a', 'app/c', 'app/d']);
  expect(afterRestore).not.toEqual(beforeRestore);
  expect(await latest()).toEqual(beforeRestore);
});

test("Batch Operations engine without S3 Control (the CLI's local runner) is refused before anything is planned or written", async () => {
  const { bucket, at } = await seed('refused');
  const destination = await fx.versionedBucket('refused-dst');
  await expect(
    runRestoreLocally(
      { request: { bucket, prefix: 'app/', at: iso(at), to: `s3://${destination}/restored/`, engine: 'batch-operations' } },
      { s3, store: new S3WorkStore(s3, fx.workBucket()) },
    ),
  ).rejects.toMatchObject({ error: 'RefusedError', message: expect.stringMatching(/deployed stack/) });
  expect(await listHistory(s3, destination)).toEqual([]);
});
