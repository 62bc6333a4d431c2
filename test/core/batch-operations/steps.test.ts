/**
 * The S3 Batch Operations engine's steps, on the local S3: Prepare Batch Jobs
 * on a planned restore (manifests checked against the source's own listing,
 * the Lambda path's chunks, the rows of keys neither writes) and Advance Batch
 * Jobs against a fake S3 Control (test/support/fake-batch-operations.ts) whose
 * jobs really copy on RGW. The steps run through their handlers, payloads
 * through JSON, in the order the state machine runs them.
 */
import { expect } from '@jest/globals';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { batchKeys, type BatchJob } from '#core/batch-operations/jobs.ts';
import type { PlannedAction } from '#core/restore/destination-plan.ts';
import type { KeyItem } from '#core/sources/key-source.ts';
import type { KeyOutcome } from '#core/restore/model.ts';
import type { RestorePolicy } from '#core/restore/policy.ts';
import type { RestoreRequestInput } from '#core/restore/request.ts';
import type { BatchStage } from '#core/batch-operations/contracts.ts';
import { workKeys, type ChunkPass, type ChunkRef, type RestoreContext } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import type { StepDeps } from '../../../lambdas/commons/clients.ts';
import { makeHandler as advanceHandler } from '../../../lambdas/advance-batch-jobs/handler.ts';
import { makeHandler as prepareHandler } from '../../../lambdas/prepare-batch-jobs/handler.ts';
import { actChunkStep, depsOf, iso, nextChunksStep, planAll, reportRows, reportStep, runRestore, validateStep } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';
import { FakeBatchOperations } from '../../support/fake-batch-operations.ts';
import { HistoryWriter, bodyOf, byKeyMap, instantAtCut, listHistory, sleep, type Entry } from '../../support/history.ts';
import { lambdaContext } from '../../support/lambda.ts';

const fx = engineFixture('batch-steps');
const s3 = fx.s3;
const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/s3-rewind-batch`;
/** A deployment's policy: any bucket, and S3 Control for the engine. */
const DEPLOYED: RestorePolicy = { allowedBuckets: '*', deleteModeAllowed: false, batchOperations: true };

const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
type Invoke<Out> = (event: unknown, context: Context) => Promise<Out>;
const invoke = async <Out>(handler: unknown, name: string, event: unknown): Promise<Out> =>
  viaJson(await (handler as Invoke<Out>)(viaJson(event), lambdaContext(name)));

const depsWith = (fake: FakeBatchOperations): StepDeps => ({ ...depsOf(s3), batchOperations: { control: fake.client, accountId: ACCOUNT, roleArn: ROLE } });

const prepareStep = (context: RestoreContext, nextChunk: number, deps: StepDeps = depsOf(s3)) =>
  invoke<BatchStage>(prepareHandler(deps), 'prepare-batch-jobs', { ...context, nextChunk });
const advanceStep = (context: RestoreContext, batch: BatchStage, fake: FakeBatchOperations) =>
  invoke<BatchStage>(advanceHandler(depsWith(fake)), 'advance-batch-jobs', { ...context, batch });

/** A pass over the engine's Lambda chunks, page by page, each chunk acted on in `phase`. */
async function lambdaPass(context: RestoreContext, phase: ChunkPass['phase']): Promise<ChunkRef[]> {
  let pass: ChunkPass = { source: 'batch', phase, then: 'batch', after: null };
  const acted: ChunkRef[] = [];
  for (;;) {
    const page = await nextChunksStep(s3, context, pass);
    for (const chunk of page.chunks) await actChunkStep(s3, context, chunk, {}, phase);
    acted.push(...page.chunks);
    if (page.done) return acted;
    pass = { source: page.source, phase: page.phase, then: page.then, after: page.after };
  }
}

/** Advance Batch Jobs, again after each wait, until it says what comes next. */
async function advanceUntilNext(context: RestoreContext, stage: BatchStage, fake: FakeBatchOperations, steps: BatchStage[]): Promise<BatchStage> {
  for (let i = 0; i < 10; i += 1) {
    stage = await advanceStep(context, stage, fake);
    steps.push(stage);
    if (stage.next !== 'wait') return stage;
  }
  throw new Error('the jobs never finished');
}

/** The engine after planning, as the state machine runs it: prepare, earlier versions, jobs, current versions, jobs. */
async function runEngine(context: RestoreContext, nextChunk: number, fake: FakeBatchOperations) {
  const steps: BatchStage[] = [];
  const prepared = await prepareStep(context, nextChunk, depsWith(fake));
  const lambdaChunks = await lambdaPass(context, 'noncurrent');
  let stage = await advanceUntilNext(context, prepared, fake, steps);
  if (stage.next === 'current-pass') {
    await lambdaPass(context, 'current');
    stage = await advanceUntilNext(context, stage, fake, steps);
  }
  return { prepared, lambdaChunks, steps, last: stage };
}

type Step = string | null;
/** Each key's writes before T and after T (null: a plain DELETE). */
const STORY: Record<string, { before: Step[]; after: Step[] }> = {
  'h/a b+c.txt': { before: ['a1', 'a2', 'a3'], after: ['a4'] },
  'h/marked': { before: ['m1', null, 'm2'], after: ['m3'] },
  'h/plain': { before: ['p1'], after: ['p2'] },
  'h/later': { before: [], after: ['l1'] },
};

/** A source with STORY's keys (and `extra`), and the instant T between the writes before and after. */
async function seed(label: string, story: Record<string, { before: Step[]; after: Step[] }> = STORY) {
  const bucket = await fx.versionedBucket(`${label}-src`);
  const w = new HistoryWriter(s3, bucket);
  const keys = Object.keys(story).sort();
  const write = async (key: string, steps: Step[]) => {
    for (const step of steps) await (step === null ? w.del(key) : w.put(key, step));
  };
  for (const key of keys) await write(key, story[key]!.before);
  await sleep(25);
  const cut = w.log.length;
  for (const key of keys) await write(key, story[key]!.after);
  const listed = await listHistory(s3, bucket);
  return { bucket, keys, listed, at: instantAtCut(w, listed, cut) };
}

const planned = async (request: RestoreRequestInput) => {
  const context = await validateStep(s3, request, { workBucket: fx.workBucket(), policy: DEPLOYED });
  const { chunks } = await planAll(s3, context);
  return { context, nextChunk: chunks.length };
};

const textOf = async (key: string) => await (await s3.send(new GetObjectCommand({ Bucket: fx.workBucket(), Key: key }))).Body!.transformToString('utf8');
const store = () => new S3WorkStore(s3, fx.workBucket());
const encoded = (key: string) => encodeURIComponent(key).replace(/%2F/g, '/');

/** Every object the restore wrote to the work bucket, with its content. */
async function workFiles(restoreId: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const key of store().keys(workKeys(restoreId).root)) files[key] = await textOf(key);
  return files;
}

test('prepare: the manifests list exactly the source versions up to T of the keys jobs can copy, non-current and current apart; a key with a delete marker becomes a Lambda chunk of exact keys; idempotent', async () => {
  // Prepare
  const { bucket, listed, at } = await seed('prepare');
  const destination = await fx.versionedBucket('prepare-dst');
  const { context, nextChunk } = await planned({
    bucket,
    prefix: 'h/',
    at: iso(at),
    to: `s3://${destination}/restored/`,
    withHistory: true,
    engine: 'batch-operations',
  });

  // Act
  const stage = await prepareStep(context, nextChunk);

  // Assess: the manifests, line for line, from the source's own listing.
  const upToT = byKeyMap(listed.filter((e) => e.lastModified <= at));
  const line = (key: string, e: Entry) => `${bucket},${encoded(key)},${e.versionId}\n`;
  const copyable = ['h/a b+c.txt', 'h/plain'];
  expect(stage.stage).toBe('noncurrent');
  expect(stage.jobs.jobs.map((j: BatchJob) => [j.phase, j.storageClass, j.tasks, j.jobId])).toEqual([
    ['noncurrent', 'STANDARD', 2, undefined],
    ['current', 'STANDARD', 2, undefined],
  ]);
  const [noncurrent, current] = stage.jobs.jobs;
  expect((await textOf(noncurrent!.manifestKey)).split(/(?<=\n)/).sort()).toEqual(
    copyable
      .flatMap((key) =>
        upToT
          .get(key)!
          .slice(1)
          .map((e) => line(key, e)),
      )
      .sort(),
  );
  expect((await textOf(current!.manifestKey)).split(/(?<=\n)/).sort()).toEqual(copyable.map((key) => line(key, upToT.get(key)![0]!)).sort());

  // The marked key: a Lambda chunk at nextChunk, its ref on the engine's chunk-ref page, its key listed exactly.
  const refs = await store().getLines<ChunkRef>(workKeys(context.restoreId).chunkRefs('batch', nextChunk));
  expect(refs).toEqual([expect.objectContaining({ index: nextChunk, planKey: workKeys(context.restoreId).plan(nextChunk), actions: 1, lastKey: 'h/marked' })]);
  expect(await store().getLines<KeyItem>(refs[0]!.itemsKey!)).toEqual([{ line: 0, key: 'h/marked' }]);
  const lambdaPlan = await store().getLines<PlannedAction>(refs[0]!.planKey);
  expect(lambdaPlan.map((a) => [a.key, a.action, a.action === 'copyTo' ? a.writes.map((w) => w.versionId) : []])).toEqual([
    ['h/marked', 'copyTo', [...upToT.get('h/marked')!].reverse().map((e) => e.versionId)],
  ]);

  // Retried: the same files, the same content (so the same manifest ETags and job tokens).
  const before = await workFiles(context.restoreId);
  const again = await prepareStep(context, nextChunk);
  expect(again).toEqual(stage);
  expect(await workFiles(context.restoreId)).toEqual(before);
});

test('prepare: keys neither path writes get their report rows now, as the Lambda path reports them (unchanged; DestinationHistoryDiffers 409)', async () => {
  // Prepare: a key absent at T, and one whose destination history is someone else's.
  const { bucket, at } = await seed('planned-rows', { 'h/later': { before: [], after: ['l1'] }, 'h/conflict': { before: ['c1'], after: [] } });
  const destination = await fx.versionedBucket('planned-rows-dst');
  await s3.send(new PutObjectCommand({ Bucket: destination, Key: 'restored/h/conflict', Body: 'not the source' }));
  const request = { bucket, prefix: 'h/', at: iso(at), to: `s3://${destination}/restored/`, withHistory: true } as const;
  const { context, nextChunk } = await planned({ ...request, engine: 'batch-operations' });

  // Act
  const stage = await prepareStep(context, nextChunk);
  const rows: KeyOutcome[] = [];
  for await (const key of store().keys(workKeys(context.restoreId).outcomesPrefix)) rows.push(...(await store().getLines<KeyOutcome>(key)));

  // Assess: no job, no Lambda chunk; the rows the Lambda engine writes for the same restore.
  expect(stage.jobs.jobs).toEqual([]);
  expect(
    await store()
      .getLines(workKeys(context.restoreId).chunkRefs('batch', nextChunk))
      .catch((e: Error) => e.name),
  ).toBe('NoSuchKey');
  // The Batch Operations restore ends (its report gives back the destination's lease) before the Lambda one runs.
  await reportStep(s3, context, { keys: 0, restore: 0, delete: 0, undelete: 0, unchanged: 0, deletions: 0, copies: 0 });
  const lambda = await runRestore(s3, request, { workBucket: fx.workBucket() });
  expect(rows).toEqual(lambda.rows);
  expect(rows.map((r) => [r.Key, r.TaskStatus, r.ErrorCode, r.HTTPStatusCode])).toEqual([
    ['h/conflict', 'failed', 'DestinationHistoryDiffers', 409],
    ['h/later', 'unchanged', '', 200],
  ]);
});

test('prepare of a manifest restore in place: a Lambda key keeps its manifest line; a line naming no such version fails as the Lambda path fails it', async () => {
  // Prepare: m/one restored to a version, m/gone absent at T (a delete marker: Lambda), m/bad names no version.
  const { bucket, listed, at } = await seed('manifest', {
    'm/one': { before: ['o1', 'o2'], after: ['o3'] },
    'm/gone': { before: [], after: ['g1'] },
    'm/bad': { before: ['b1'], after: [] },
  });
  const o1 = [...byKeyMap(listed).get('m/one')!].reverse()[0]!.versionId;
  const manifestKey = `manifests/${bucket}.csv`;
  await s3.send(
    new PutObjectCommand({ Bucket: fx.workBucket(), Key: manifestKey, Body: `${bucket},m/one,${o1}\n${bucket},m/gone\n${bucket},m/bad,no-such-version\n` }),
  );
  const request = { bucket, manifest: `s3://${fx.workBucket()}/${manifestKey}`, at: iso(at) };
  const { context, nextChunk } = await planned({ ...request, engine: 'batch-operations' });

  // Act
  const stage = await prepareStep(context, nextChunk);

  // Assess
  expect(stage.jobs.jobs.map((j) => [j.phase, j.tasks])).toEqual([['current', 1]]);
  expect(await textOf(stage.jobs.jobs[0]!.manifestKey)).toBe(`${bucket},m/one,${o1}\n`);
  const [ref] = await store().getLines<ChunkRef>(workKeys(context.restoreId).chunkRefs('batch', nextChunk));
  expect(await store().getLines<KeyItem>(ref!.itemsKey!)).toEqual([{ line: 2, key: 'm/gone' }]);
  const rows = await store().getLines<KeyOutcome>(batchKeys(context.restoreId).plannedOutcomes(0));
  const lambda = await runRestore(s3, request, { workBucket: fx.workBucket() });
  expect(rows).toEqual([lambda.rows.find((r) => r.Key === 'm/bad')]);
  expect(rows[0]).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'RequestError', ResultMessage: 'key "m/bad" has no version "no-such-version"' });
});

test('advance: the non-current job runs to Complete before the current one is created; then the reports fold into one row per key', async () => {
  // Prepare
  const { bucket, at } = await seed('advance');
  const destination = await fx.versionedBucket('advance-dst');
  const { context, nextChunk } = await planned({
    bucket,
    prefix: 'h/',
    at: iso(at),
    to: `s3://${destination}/restored/`,
    withHistory: true,
    engine: 'batch-operations',
  });
  const fake = new FakeBatchOperations(s3);

  // Act
  const { steps, last } = await runEngine(context, nextChunk, fake);

  // Assess: stages in order; the current job created after the non-current one ended, its copies all after.
  expect(steps.map((s) => [s.stage, s.next])).toEqual([
    ['noncurrent', 'wait'],
    ['noncurrent', 'wait'],
    ['current', 'current-pass'],
    ['current', 'wait'],
    ['current', 'wait'],
    ['current', 'report'],
  ]);
  const [earlier, latest] = fake.created;
  expect(fake.created.map((j) => [j.input.Description, j.status])).toEqual([
    [`s3-rewind ${context.restoreId}: noncurrent versions (STANDARD)`, 'Complete'],
    [`s3-rewind ${context.restoreId}: current versions (STANDARD)`, 'Complete'],
  ]);
  expect(earlier!.terminationDate!.getTime()).toBeLessThanOrEqual(latest!.creationTime.getTime());
  const jobOfCopy = fake.copies.map((c) => c.jobId);
  expect(jobOfCopy).toEqual([earlier!.jobId, earlier!.jobId, latest!.jobId, latest!.jobId]);
  expect(last.jobs.jobs.map((j) => j.status)).toEqual(['Complete', 'Complete']);
  const rows = await store().getLines<KeyOutcome>(batchKeys(context.restoreId).jobOutcomes(0));
  expect(rows.map((r) => [r.Key, r.TaskStatus])).toEqual([
    ['h/a b+c.txt', 'restored'],
    ['h/plain', 'restored'],
  ]);
});

test('end to end: a restore with history to another bucket by Batch Operations jobs and Lambda chunks leaves every key latest at its state at T, its history there, one report row per key', async () => {
  // Prepare
  const { bucket, listed, at } = await seed('e2e');
  const destination = await fx.versionedBucket('e2e-dst');
  const { context, nextChunk } = await planned({
    bucket,
    prefix: 'h/',
    at: iso(at),
    to: `s3://${destination}/restored/`,
    withHistory: true,
    engine: 'batch-operations',
  });
  const fake = new FakeBatchOperations(s3);

  // Act
  const { lambdaChunks, last } = await runEngine(context, nextChunk, fake);
  const summary = await reportStep(s3, context, { keys: 0, restore: 0, delete: 0, undelete: 0, unchanged: 0, deletions: 0, copies: 0 });
  const rows = await reportRows(s3, fx.workBucket(), context.restoreId);

  // Assess
  expect(last.next).toBe('report');
  expect(lambdaChunks.map((c) => c.lastKey)).toEqual(['h/marked']);
  expect(summary).toMatchObject({ status: 'SUCCEEDED', counts: { restored: 3, unchanged: 1, failed: 0 } });
  // One row per key (the report keeps each outcomes file's order: chunks first, then the engine's files).
  expect(rows.map((r) => [r.Key, r.TaskStatus]).sort()).toEqual([
    ['h/a b+c.txt', 'restored'],
    ['h/later', 'unchanged'],
    ['h/marked', 'restored'],
    ['h/plain', 'restored'],
  ]);
  const source = byKeyMap(listed.filter((e) => e.lastModified <= at));
  const written = byKeyMap(await listHistory(s3, destination));
  expect([...written.keys()].sort()).toEqual(['restored/h/a b+c.txt', 'restored/h/marked', 'restored/h/plain']);
  const shape = (e: Entry) => (e.isDeleteMarker ? 'delete marker' : `${e.etag} ${e.size}`);
  for (const key of ['h/a b+c.txt', 'h/marked', 'h/plain']) {
    const there = written.get(`restored/${key}`)!;
    // Latest: the state at T.
    expect(await bodyOf(s3, destination, `restored/${key}`)).toBe(await bodyOf(s3, bucket, key, source.get(key)![0]!.versionId));
    // Older entries: the same; in order by the Lambda path, in any order within a Batch Operations job.
    const older = (entries: readonly Entry[]) => entries.slice(1).map(shape);
    if (key === 'h/marked') expect(older(there)).toEqual(older(source.get(key)!));
    else expect(older(there).sort()).toEqual(older(source.get(key)!).sort());
  }
});

test('a job that fails fails the restore with its reasons: the current job is never created, and the tasks that ran are folded into rows', async () => {
  // Prepare
  const { bucket, at } = await seed('job-fails');
  const destination = await fx.versionedBucket('job-fails-dst');
  const { context, nextChunk } = await planned({
    bucket,
    prefix: 'h/',
    at: iso(at),
    to: `s3://${destination}/restored/`,
    withHistory: true,
    engine: 'batch-operations',
  });
  const fake = new FakeBatchOperations(s3).failJobs((job) => /noncurrent/.test(job.input.Description ?? ''), {
    FailureCode: 'AccessDenied',
    FailureReason: 'the role may not write the destination',
  });

  // Act
  const { last } = await runEngine(context, nextChunk, fake);
  const summary = await reportStep(
    s3,
    context,
    { keys: 0, restore: 0, delete: 0, undelete: 0, unchanged: 0, deletions: 0, copies: 0 },
    {
      Error: 'BatchJobFailed',
      Cause: last.failure ?? '',
    },
  );

  // Assess
  const [job] = fake.created;
  expect(last).toMatchObject({
    stage: 'noncurrent',
    next: 'fail',
    failure: `Batch Operations job ${job!.jobId} (noncurrent) Failed: AccessDenied: the role may not write the destination`,
  });
  expect(fake.created).toHaveLength(1);
  // Half of the two earlier versions of "a b+c.txt" ran: its current version never did.
  const rows = await store().getLines<KeyOutcome>(batchKeys(context.restoreId).jobOutcomes(0));
  expect(rows.map((r) => [r.Key, r.TaskStatus, r.ErrorCode])).toEqual([['h/a b+c.txt', 'failed', 'CurrentVersionNotCopied']]);
  expect(summary.status).toBe('FAILED');
});

test('a task that fails fails its key only, with the error code and HTTP status of its completion report line', async () => {
  // Prepare
  const { bucket, at } = await seed('task-fails');
  const destination = await fx.versionedBucket('task-fails-dst');
  const { context, nextChunk } = await planned({
    bucket,
    prefix: 'h/',
    at: iso(at),
    to: `s3://${destination}/restored/`,
    withHistory: true,
    engine: 'batch-operations',
  });
  const fake = new FakeBatchOperations(s3).failTasks((task) =>
    task.key === 'h/plain' ? { code: 'AccessDenied', status: 403, message: 'Access Denied' } : undefined,
  );

  // Act
  const { last } = await runEngine(context, nextChunk, fake);

  // Assess
  expect(last.next).toBe('report');
  const rows = await store().getLines<KeyOutcome>(batchKeys(context.restoreId).jobOutcomes(0));
  expect(rows.map((r) => [r.Key, r.TaskStatus, r.ErrorCode, r.HTTPStatusCode, r.ResultMessage])).toEqual([
    [
      'h/a b+c.txt',
      'restored',
      '',
      200,
      expect.stringMatching(/^copied version \S+ after 2 earlier versions to s3:\/\/.*\/restored\/h\/a b\+c\.txt by S3 Batch Operations$/),
    ],
    ['h/plain', 'failed', 'AccessDenied', 403, 'Access Denied'],
  ]);
});

test('in place: a manifest restore by Batch Operations copies each listed version over its key, the Lambda chunk adds the delete marker, one report row per line', async () => {
  // Prepare
  const { bucket, listed, at } = await seed('in-place', {
    'm/one': { before: ['o1', 'o2'], after: ['o3'] },
    'm/gone': { before: [], after: ['g1'] },
  });
  const o1 = [...byKeyMap(listed).get('m/one')!].reverse()[0]!.versionId;
  const manifestKey = `manifests/${bucket}.csv`;
  await s3.send(new PutObjectCommand({ Bucket: fx.workBucket(), Key: manifestKey, Body: `${bucket},m/one,${o1}\n${bucket},m/gone\n` }));
  const { context, nextChunk } = await planned({ bucket, manifest: `s3://${fx.workBucket()}/${manifestKey}`, at: iso(at), engine: 'batch-operations' });
  const fake = new FakeBatchOperations(s3);

  // Act
  const { steps, last } = await runEngine(context, nextChunk, fake);
  await reportStep(s3, context, { keys: 0, restore: 0, delete: 0, undelete: 0, unchanged: 0, deletions: 0, copies: 0 });
  const rows = await reportRows(s3, fx.workBucket(), context.restoreId);

  // Assess: no non-current job (nothing to wait for), one current job writing into the source bucket itself.
  expect(steps.map((s) => [s.stage, s.next])).toEqual([
    ['current', 'current-pass'],
    ['current', 'wait'],
    ['current', 'wait'],
    ['current', 'report'],
  ]);
  expect(last.jobs.jobs.map((j) => j.phase)).toEqual(['current']);
  expect(fake.copies.map((c) => [c.targetBucket, c.targetKey, c.versionId])).toEqual([[bucket, 'm/one', o1]]);
  expect(await bodyOf(s3, bucket, 'm/one')).toBe('o1');
  expect(await bodyOf(s3, bucket, 'm/gone')).toBeNull();
  expect(rows.map((r) => [r.Key, r.TaskStatus]).sort()).toEqual([
    ['m/gone', 'deleted'],
    ['m/one', 'restored'],
  ]);
});

test('in place: a restore by Batch Operations jobs can be undone: its rows keep Before and Copied, the undo puts every key back as before the restore, a second undo writes nothing', async () => {
  // Prepare
  const { bucket, keys, at } = await seed('undo', {
    'u/one': { before: ['o1'], after: ['o2'] },
    'u/two': { before: ['t1', 't2'], after: ['t3', 't4'] },
    'u/new': { before: [], after: ['n1'] },
  });
  const bodies = async () => Object.fromEntries(await Promise.all(keys.map(async (key) => [key, await bodyOf(s3, bucket, key)] as const)));
  const beforeRestore = await bodies();
  const { context, nextChunk } = await planned({ bucket, prefix: 'u/', at: iso(at), engine: 'batch-operations' });
  const fake = new FakeBatchOperations(s3);
  await runEngine(context, nextChunk, fake);
  await reportStep(s3, context, { keys: 0, restore: 0, delete: 0, undelete: 0, unchanged: 0, deletions: 0, copies: 0 });
  const restored = await reportRows(s3, fx.workBucket(), context.restoreId);
  const afterRestore = await bodies();

  // Act
  const undo = await runRestore(s3, { bucket, undo: context.restoreId }, { workBucket: fx.workBucket(), policy: DEPLOYED });
  const afterUndo = await bodies();
  const again = await runRestore(s3, { bucket, undo: context.restoreId }, { workBucket: fx.workBucket(), policy: DEPLOYED });

  // Assess: the jobs copied two keys (rows with Before and Copied, no Wrote); the Lambda path marked the third.
  expect(fake.copies.map((c) => c.targetKey).sort()).toEqual(['u/one', 'u/two']);
  expect(afterRestore).toEqual({ 'u/new': null, 'u/one': 'o1', 'u/two': 't2' });
  const copiedRow = restored.find((r) => r.Key === 'u/two')!;
  expect([copiedRow.TaskStatus, copiedRow.Before?.versionId !== undefined, copiedRow.Copied?.versionId, copiedRow.Wrote]).toEqual([
    'restored',
    true,
    copiedRow.VersionId,
    undefined,
  ]);
  expect(undo.rows.map((r) => [r.Key, r.TaskStatus]).sort()).toEqual([
    ['u/new', 'undeleted'],
    ['u/one', 'restored'],
    ['u/two', 'restored'],
  ]);
  expect(afterUndo).toEqual(beforeRestore);
  expect(again.rows.map((r) => r.TaskStatus)).toEqual(['unchanged', 'unchanged', 'unchanged']);
  expect(await bodies()).toEqual(beforeRestore);
});

test('to another place: a restore with history by Batch Operations jobs can be undone: its rows keep Before and CopiedAll, the undo deletes exactly what the jobs copied there, a key written there since is left and listed', async () => {
  // Prepare: the destination already holds the first entry of t/two's history (a re-run writes the rest on top of it).
  const { bucket, at } = await seed('undo-to', {
    't/one': { before: ['o1'], after: ['o2'] },
    't/two': { before: ['t1', 't2', 't3'], after: ['t4'] },
    't/changed': { before: ['c1', 'c2'], after: [] },
  });
  const destination = await fx.versionedBucket('undo-to-dst');
  await s3.send(new PutObjectCommand({ Bucket: destination, Key: 'restored/t/two', Body: 't1' }));
  await s3.send(new PutObjectCommand({ Bucket: destination, Key: 'restored/other', Body: 'not restored' }));
  const snapshot = async () => (await listHistory(s3, destination)).map((e) => [e.key, e.versionId, e.isDeleteMarker, e.etag ?? null]);
  const beforeRestore = await snapshot();
  const { context, nextChunk } = await planned({
    bucket,
    prefix: 't/',
    at: iso(at),
    to: `s3://${destination}/restored/`,
    withHistory: true,
    engine: 'batch-operations',
  });
  const fake = new FakeBatchOperations(s3);
  await runEngine(context, nextChunk, fake);
  await reportStep(s3, context, { keys: 0, restore: 0, delete: 0, undelete: 0, unchanged: 0, deletions: 0, copies: 0 });
  const restored = await reportRows(s3, fx.workBucket(), context.restoreId);
  // Someone writes t/changed at the destination after the restore.
  await s3.send(new PutObjectCommand({ Bucket: destination, Key: 'restored/t/changed', Body: 'written since' }));
  const beforeUndo = await listHistory(s3, destination);
  const undoRequest = { bucket: destination, undo: context.restoreId, mode: 'delete', confirmPermanentDelete: true } as const;
  const options = { workBucket: fx.workBucket(), policy: { ...DEPLOYED, deleteModeAllowed: true } };

  // Act
  const undo = await runRestore(s3, undoRequest, options);
  const afterUndo = await snapshot();
  const again = await runRestore(s3, undoRequest, options);

  // Assess: every copy was a job's (none on the Lambda path), so no row has WroteAll; each has Before and CopiedAll, newest first.
  expect(fake.copies.map((c) => c.targetKey).sort()).toEqual([
    'restored/t/changed',
    'restored/t/changed',
    'restored/t/one',
    'restored/t/two',
    'restored/t/two',
  ]);
  const rowOf = (key: string) => restored.find((r) => r.Key === key)!;
  expect(restored.map((r) => [r.Key, r.TaskStatus, r.WroteAll, r.CopiedAll?.length, r.Before === null ? null : r.Before?.etag]).sort()).toEqual([
    ['t/changed', 'restored', undefined, 2, null],
    ['t/one', 'restored', undefined, 1, null],
    ['t/two', 'restored', undefined, 2, beforeRestore.find((e) => e[0] === 'restored/t/two')![3]],
  ]);
  expect(rowOf('t/two').CopiedAll![0]!.versionId).toBe(rowOf('t/two').VersionId);
  expect(undo.rows.map((r) => [r.Key, r.TaskStatus, r.ErrorCode]).sort()).toEqual([
    ['restored/t/changed', 'failed', 'ChangedSinceRestore'],
    ['restored/t/one', 'deleted', ''],
    ['restored/t/two', 'restored', ''],
  ]);
  // The destination is as before the restore, except the key written since: left as it was before the undo, whole.
  const changed = (entries: ReadonlyArray<readonly unknown[]>) => entries.filter((e) => e[0] === 'restored/t/changed');
  expect(afterUndo.filter((e) => e[0] !== 'restored/t/changed')).toEqual(beforeRestore);
  expect(changed(afterUndo)).toEqual(changed(beforeUndo.map((e) => [e.key, e.versionId, e.isDeleteMarker, e.etag ?? null])));
  expect(changed(afterUndo)).toHaveLength(3);
  // A second undo deletes nothing.
  expect(again.rows.map((r) => [r.Key, r.TaskStatus]).sort()).toEqual([
    ['restored/t/changed', 'failed'],
    ['restored/t/one', 'unchanged'],
    ['restored/t/two', 'unchanged'],
  ]);
  expect(await snapshot()).toEqual(afterUndo);
});

test('advance-batch-jobs without S3 Control refuses with EngineNotAvailable', async () => {
  const restoreId = 'copy-0123456789abcdef0123';
  const event = {
    restoreId,
    workBucket: fx.workBucket(),
    request: { bucket: 'any-bucket', prefix: 'p/', at: iso(Date.now() - 60_000), engine: 'batch-operations', mode: 'copy', dryRun: false },
    batch: { jobs: { restoreId, workBucket: fx.workBucket(), jobs: [] }, stage: 'noncurrent', next: 'wait' },
  };

  await expect(invoke(advanceHandler(depsOf(s3)), 'advance-batch-jobs', event)).rejects.toMatchObject({
    name: 'RefusedError',
    code: 'EngineNotAvailable',
    message: expect.stringMatching(/BATCH_OPERATIONS_ACCOUNT_ID and BATCH_OPERATIONS_ROLE_ARN/),
  });
});
