/**
 * The S3 Batch Operations engine. RGW has no S3 Control API, so: the plan is
 * made on the local S3 and the manifests written there are checked line by line
 * against the source's own listing; CreateJob / DescribeJob run against a
 * mocked S3 Control client.
 */
import { expect } from '@jest/globals';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { CreateJobCommand, DescribeJobCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { mockClient } from 'aws-sdk-client-mock';
import { advanceBatchJobs, batchWorkOf, createJobInput, foldCompletionReports, writeBatchManifests, type BatchJobsState } from '#core/batch-operations/jobs.ts';
import type { PlannedAction } from '#core/restore/destination-plan.ts';
import { GiB } from '#core/s3/copy-version.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { HistoryWriter, byKeyMap, instantAtCut, listHistory, sleep } from '../../support/history.ts';
import { iso, planAll, validateStep } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('batch-ops');
const s3 = fx.s3;
const control = mockClient(S3ControlClient);
const OPTIONS = { accountId: '111122223333', roleArn: 'arn:aws:iam::111122223333:role/s3-rewind-batch' };

beforeEach(() => control.reset());

const textOf = async (bucket: string, key: string) => await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString('utf8');

test('with history: the non-current manifest lists every entry before the state at T, the current one the state at T, keys URL-encoded, as the source lists them', async () => {
  // Prepare: a source whose keys need encoding, three versions before T, one after.
  const bucket = await fx.versionedBucket('src');
  const destination = await fx.versionedBucket('dst');
  const w = new HistoryWriter(s3, bucket);
  const keys = ['p/a b+c.txt', 'p/plain', 'p/ü%.bin'];
  for (const n of [1, 2, 3]) for (const key of keys) await w.put(key, `${key} ${n}`);
  await sleep(25);
  const cut = w.log.length;
  for (const key of keys) await w.put(key, `${key} after`);
  const listed = await listHistory(s3, bucket);
  const at = instantAtCut(w, listed, cut);
  const context = await validateStep(
    s3,
    { bucket, prefix: 'p/', at: iso(at), to: `s3://${destination}/restored/`, withHistory: true, engine: 'batch-operations', dryRun: true },
    { workBucket: fx.workBucket() },
  );
  const { chunks } = await planAll(s3, context);
  const store = new S3WorkStore(s3, fx.workBucket());
  const actions = (await Promise.all(chunks.map((c) => store.getLines<PlannedAction>(c.planKey)))).flat();

  // Act
  const work = batchWorkOf(actions);
  const state = await writeBatchManifests(s3, fx.workBucket(), context.restoreId, bucket, work);

  // Assess: exact content, from the source's listing (oldest first within a key).
  const history = byKeyMap(listed.filter((e) => e.lastModified <= at));
  const encoded = (key: string) => encodeURIComponent(key).replace(/%2F/g, '/');
  const expectedNoncurrent = keys.flatMap((key) =>
    history
      .get(key)!
      .slice(1)
      .map((e) => `${bucket},${encoded(key)},${e.versionId}\n`),
  );
  const expectedCurrent = keys.map((key) => `${bucket},${encoded(key)},${history.get(key)![0]!.versionId}\n`);
  expect(state.jobs.map((j) => [j.phase, j.storageClass, j.tasks])).toEqual([
    ['noncurrent', 'STANDARD', 6],
    ['current', 'STANDARD', 3],
  ]);
  const [noncurrent, current] = state.jobs;
  expect((await textOf(fx.workBucket(), noncurrent!.manifestKey)).split(/(?<=\n)/).sort()).toEqual(expectedNoncurrent.sort());
  expect(await textOf(fx.workBucket(), current!.manifestKey)).toBe(expectedCurrent.join(''));
  expect(await textOf(fx.workBucket(), current!.manifestKey)).toContain('p/a%20b%2Bc.txt');
  const head = await s3.send(new HeadObjectCommand({ Bucket: fx.workBucket(), Key: current!.manifestKey }));
  expect(current!.manifestEtag).toBe(head.ETag);
  expect(work.lambda).toEqual([]);
});

const ref = (versionId: string, size = 10, extra: object = {}) => ({
  versionId,
  isDeleteMarker: false,
  etag: `"${versionId}"`,
  size,
  lastModified: 1,
  ...extra,
});
const marker = (versionId: string) => ({ versionId, isDeleteMarker: true, lastModified: 1 });

test('versions above 5 GiB, archived versions, delete markers and non-copies stay on the Lambda path; the rest is split by phase', () => {
  const actions: PlannedAction[] = [
    { key: 'big', action: 'copy', outcome: 'restored', source: ref('b1', 6 * GiB), current: ref('b2') },
    { key: 'cold', action: 'copy', outcome: 'restored', source: ref('c1', 10, { storageClass: 'GLACIER' }), current: ref('c2') },
    { key: 'ok', action: 'copy', outcome: 'restored', source: ref('o1', 5 * GiB), current: ref('o2') },
    { key: 'gone', action: 'addDeleteMarker', outcome: 'deleted', current: ref('g1') },
    { key: 'same', action: 'unchanged', reason: 'already current', current: ref('s1') },
    { key: 'h', action: 'copyTo', outcome: 'restored', writes: [ref('h1'), ref('h2'), ref('h3')], current: null, destinationKey: 'r/h' },
    { key: 'hm', action: 'copyTo', outcome: 'restored', writes: [ref('m1'), marker('m2'), ref('m3')], current: null, destinationKey: 'r/hm' },
  ];

  const work = batchWorkOf(actions);

  expect(work.copies).toEqual({
    noncurrent: [
      { key: 'h', versionId: 'h1', storageClass: 'STANDARD' },
      { key: 'h', versionId: 'h2', storageClass: 'STANDARD' },
    ],
    current: [
      { key: 'h', versionId: 'h3', storageClass: 'STANDARD' },
      { key: 'ok', versionId: 'o1', storageClass: 'STANDARD' },
    ],
  });
  expect(work.lambda.map((l) => [l.action.key, l.reason])).toEqual([
    ['big', 'larger than 5 GiB: copied in parts'],
    ['cold', 'in GLACIER: needs RestoreObject first'],
    ['gone', 'not a copy'],
    ['hm', 'a delete marker is reproduced with DeleteObject'],
  ]);
});

test('versions in a storage class CreateJob refuses (REDUCED_REDUNDANCY, OUTPOSTS) go to the Lambda path; the classes it accepts get their job', () => {
  const inClass = (key: string, storageClass: string): PlannedAction => ({
    key,
    action: 'copy',
    outcome: 'restored',
    source: ref(`${key}1`, 10, { storageClass }),
    current: ref(`${key}2`),
  });
  const work = batchWorkOf([
    inClass('rrs', 'REDUCED_REDUNDANCY'),
    inClass('outposts', 'OUTPOSTS'),
    inClass('ia', 'STANDARD_IA'),
    inClass('ir', 'GLACIER_IR'),
    inClass('it', 'INTELLIGENT_TIERING'),
    inClass('oz', 'ONEZONE_IA'),
  ]);
  expect(work.copies.current.map((c) => [c.key, c.storageClass])).toEqual([
    ['ia', 'STANDARD_IA'],
    ['ir', 'GLACIER_IR'],
    ['it', 'INTELLIGENT_TIERING'],
    ['oz', 'ONEZONE_IA'],
  ]);
  expect(work.lambda.map((l) => [l.action.key, l.reason])).toEqual([
    ['rrs', "in REDUCED_REDUNDANCY: a storage class Batch Operations jobs can't write"],
    ['outposts', "in OUTPOSTS: a storage class Batch Operations jobs can't write"],
  ]);
});

const STATE: BatchJobsState = {
  restoreId: 'copy-0123456789abcdef0123',
  workBucket: 'rewind-work',
  jobs: [
    {
      phase: 'noncurrent',
      storageClass: 'STANDARD',
      manifestKey: 'restores/x/batch-operations/manifests/noncurrent-STANDARD.csv',
      manifestEtag: '"e1"',
      tasks: 6,
    },
    { phase: 'current', storageClass: 'STANDARD', manifestKey: 'restores/x/batch-operations/manifests/current-STANDARD.csv', manifestEtag: '"e2"', tasks: 3 },
    {
      phase: 'current',
      storageClass: 'STANDARD_IA',
      manifestKey: 'restores/x/batch-operations/manifests/current-STANDARD_IA.csv',
      manifestEtag: '"e3"',
      tasks: 1,
    },
  ],
};
const DESTINATION = { bucket: 'restored-bucket', prefix: 'restored/' };

test('CreateJob: PutObjectCopy to the destination under its prefix, the manifest by ARN and ETag, a report of all tasks, an idempotency token', () => {
  const input = createJobInput(STATE, STATE.jobs[2]!, DESTINATION, OPTIONS);
  expect(input).toEqual({
    AccountId: '111122223333',
    ConfirmationRequired: false,
    Operation: {
      S3PutObjectCopy: {
        TargetResource: 'arn:aws:s3:::restored-bucket',
        TargetKeyPrefix: 'restored',
        MetadataDirective: 'COPY',
        StorageClass: 'STANDARD_IA',
      },
    },
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key', 'VersionId'] },
      Location: { ObjectArn: 'arn:aws:s3:::rewind-work/restores/x/batch-operations/manifests/current-STANDARD_IA.csv', ETag: '"e3"' },
    },
    Report: {
      Bucket: 'arn:aws:s3:::rewind-work',
      Prefix: 'restores/copy-0123456789abcdef0123/batch-operations/reports',
      Format: 'Report_CSV_20180820',
      Enabled: true,
      ReportScope: 'AllTasks',
    },
    Priority: 10,
    RoleArn: OPTIONS.roleArn,
    ClientRequestToken: expect.stringMatching(/^[0-9a-f]{64}$/),
    Description: 's3-rewind copy-0123456789abcdef0123: current versions (STANDARD_IA)',
  });
  expect(createJobInput(STATE, STATE.jobs[2]!, DESTINATION, OPTIONS).ClientRequestToken).toBe(input.ClientRequestToken);
  expect(createJobInput(STATE, STATE.jobs[1]!, DESTINATION, OPTIONS).ClientRequestToken).not.toBe(input.ClientRequestToken);
  expect(createJobInput(STATE, STATE.jobs[1]!, { bucket: 'b', prefix: '' }, OPTIONS).Operation?.S3PutObjectCopy).not.toHaveProperty('TargetKeyPrefix');
});

test('the current-versions jobs are created only after the non-current job is Complete', async () => {
  control.on(CreateJobCommand).resolvesOnce({ JobId: 'job-noncurrent' }).resolvesOnce({ JobId: 'job-current' }).resolvesOnce({ JobId: 'job-current-ia' });
  control
    .on(DescribeJobCommand, { JobId: 'job-noncurrent' })
    .resolvesOnce({ Job: { Status: 'Active' } })
    .resolves({ Job: { Status: 'Complete' } });
  control.on(DescribeJobCommand, { JobId: 'job-current' }).resolves({ Job: { Status: 'Complete' } });
  control
    .on(DescribeJobCommand, { JobId: 'job-current-ia' })
    .resolvesOnce({ Job: { Status: 'Active' } })
    .resolves({ Job: { Status: 'Complete' } });

  const first = await advanceBatchJobs(control as unknown as S3ControlClient, STATE, DESTINATION, OPTIONS);
  expect(control.commandCalls(CreateJobCommand).map((c) => c.args[0].input.Manifest?.Location?.ETag)).toEqual(['"e1"']);
  expect(first.done).toBe(false);

  const second = await advanceBatchJobs(control as unknown as S3ControlClient, first.state, DESTINATION, OPTIONS);
  expect(control.commandCalls(CreateJobCommand)).toHaveLength(1);
  expect(second.state.jobs.map((j) => j.status)).toEqual(['Active', undefined, undefined]);

  const third = await advanceBatchJobs(control as unknown as S3ControlClient, second.state, DESTINATION, OPTIONS);
  expect(control.commandCalls(CreateJobCommand).map((c) => c.args[0].input.Manifest?.Location?.ETag)).toEqual(['"e1"', '"e2"', '"e3"']);
  expect(third.state.jobs.map((j) => j.jobId)).toEqual(['job-noncurrent', 'job-current', 'job-current-ia']);
  expect(third.done).toBe(false);

  const fourth = await advanceBatchJobs(control as unknown as S3ControlClient, third.state, DESTINATION, OPTIONS);
  expect(fourth).toMatchObject({ done: false });
  const fifth = await advanceBatchJobs(control as unknown as S3ControlClient, fourth.state, DESTINATION, OPTIONS);
  expect(fifth.done).toBe(true);
  expect(control.commandCalls(DescribeJobCommand).every((c) => c.args[0].input.AccountId === OPTIONS.accountId)).toBe(true);
});

test('a Failed job fails the engine with its reasons, and the next phase is never created', async () => {
  control.on(CreateJobCommand).resolves({ JobId: 'job-1' });
  control.on(DescribeJobCommand).resolves({ Job: { Status: 'Failed', FailureReasons: [{ FailureCode: 'ManifestNotFound', FailureReason: 'no such key' }] } });
  const started = await advanceBatchJobs(control as unknown as S3ControlClient, STATE, DESTINATION, OPTIONS);

  const progress = await advanceBatchJobs(control as unknown as S3ControlClient, started.state, DESTINATION, OPTIONS);

  expect(progress.failure).toBe('Batch Operations job job-1 (noncurrent) Failed: ManifestNotFound: no such key');
  expect(control.commandCalls(CreateJobCommand)).toHaveLength(1);
});

test('completion reports fold into one report row per key, keys decoded, the HTTP status read where S3 writes it, a failed task failing its key', () => {
  // Lines as S3 writes them: `succeeded,200,,Successful`, `failed,<status>,<code>,<message>` (its ReportSchema names the code first).
  const rows = foldCompletionReports(
    [
      { phase: 'current', csv: 'src,a%20b%2Bc.txt,v3,succeeded,200,,Successful\nsrc,k,k3,failed,403,AccessDenied,"Access Denied, really"\n' },
      { phase: 'noncurrent', csv: 'src,a%20b%2Bc.txt,v1,succeeded,200,,Successful\r\nsrc,a%20b%2Bc.txt,v2,succeeded,200,,Successful\r\n' },
    ],
    DESTINATION,
  );
  expect(rows).toEqual([
    {
      Bucket: 'src',
      Key: 'a b+c.txt',
      VersionId: 'v3',
      TaskStatus: 'restored',
      ErrorCode: '',
      HTTPStatusCode: 200,
      ResultMessage: 'copied version v3 after 2 earlier versions to s3://restored-bucket/restored/a b+c.txt by S3 Batch Operations',
    },
    { Bucket: 'src', Key: 'k', VersionId: 'k3', TaskStatus: 'failed', ErrorCode: 'AccessDenied', HTTPStatusCode: 403, ResultMessage: 'Access Denied, really' },
  ]);
});

test('completion report lines in the order their schema names (code before status) fold the same', () => {
  const rows = foldCompletionReports([
    { phase: 'current', csv: 'src,k,k3,failed,NoSuchVersion,404,no such version\nsrc,in%20place,p1,succeeded,,200,Successful\n' },
  ]);
  expect(rows.map((r) => [r.Key, r.TaskStatus, r.ErrorCode, r.HTTPStatusCode, r.ResultMessage])).toEqual([
    ['in place', 'restored', '', 200, 'copied version p1 over the current version by S3 Batch Operations'],
    ['k', 'failed', 'NoSuchVersion', 404, 'no such version'],
  ]);
});

test('a key whose earlier versions were copied but not its current one fails, and a failed earlier version fails its key whatever the current job did', () => {
  const rows = foldCompletionReports([
    {
      phase: 'noncurrent',
      csv: 'src,only-earlier,e1,succeeded,200,,Successful\nsrc,gap,g1,failed,500,InternalError,try again\nsrc,gap,g2,succeeded,200,,Successful\n',
    },
    { phase: 'current', csv: 'src,gap,g3,succeeded,200,,Successful\n' },
  ]);
  expect(rows.map((r) => [r.Key, r.TaskStatus, r.ErrorCode, r.VersionId])).toEqual([
    ['gap', 'failed', 'InternalError', 'g1'],
    ['only-earlier', 'failed', 'CurrentVersionNotCopied', ''],
  ]);
});

test('advancing through the non-current phase only: its jobs are created and followed to Complete, the current ones never created', async () => {
  control.on(CreateJobCommand).resolves({ JobId: 'job-noncurrent' });
  control.on(DescribeJobCommand).resolves({ Job: { Status: 'Complete' } });

  const first = await advanceBatchJobs(control as unknown as S3ControlClient, STATE, DESTINATION, OPTIONS, 'noncurrent');
  const second = await advanceBatchJobs(control as unknown as S3ControlClient, first.state, DESTINATION, OPTIONS, 'noncurrent');

  expect([first.done, second.done]).toEqual([false, true]);
  expect(control.commandCalls(CreateJobCommand)).toHaveLength(1);
  expect(second.state.jobs.map((j) => [j.jobId, j.status])).toEqual([
    ['job-noncurrent', 'Complete'],
    [undefined, undefined],
    [undefined, undefined],
  ]);
});

test('in place, a key Batch Operations copied keeps what the plan knew for an undo: the entry before (Before) and the version copied with its ETag and size (Copied)', () => {
  const current = { versionId: 'p9', isDeleteMarker: false, etag: '"e9"', size: 9, lastModified: 9 };
  const source = { versionId: 'p1', isDeleteMarker: false, etag: '"e1"', size: 1, storageClass: 'STANDARD', lastModified: 1 };
  const planned: PlannedAction[] = [
    { key: 'p', action: 'copy', outcome: 'restored', source, current },
    // A key whose task failed, and a key the plan copies another version of than the report names, get nothing.
    { key: 'k', action: 'copy', outcome: 'restored', source: { ...source, versionId: 'k1' }, current },
    { key: 'q', action: 'copy', outcome: 'restored', source: { ...source, versionId: 'q0' }, current },
  ];
  const rows = foldCompletionReports(
    [{ phase: 'current', csv: 'src,p,p1,succeeded,200,,Successful\nsrc,k,k1,failed,403,AccessDenied,no\nsrc,q,q1,succeeded,200,,Successful\n' }],
    undefined,
    planned,
  );
  expect(rows.map((r) => [r.Key, r.Before, r.Copied])).toEqual([
    ['k', undefined, undefined],
    ['p', current, { versionId: 'p1', etag: '"e1"', size: 1 }],
    ['q', undefined, undefined],
  ]);
});

test('to another place, the fold keeps Before and every copy the jobs made (CopiedAll, newest first) on a key restored with the version the plan copied last, and nothing on others', () => {
  const version = (versionId: string, etag: string, size: number) => ({
    versionId,
    isDeleteMarker: false,
    etag,
    size,
    storageClass: 'STANDARD',
    lastModified: 1,
  });
  const before = { versionId: 'd0', isDeleteMarker: false, etag: '"d"', size: 1, lastModified: 0 };
  const copyTo = (key: string, writes: ReturnType<typeof version>[], current: typeof before | null): PlannedAction => ({
    key,
    action: 'copyTo',
    outcome: 'restored',
    writes,
    current,
    destinationKey: `restored/${key}`,
  });
  const rows = foldCompletionReports(
    [
      { phase: 'noncurrent', csv: 'src,h,v1,succeeded,200,,Successful\nsrc,h,v2,succeeded,200,,Successful\nsrc,f,f1,succeeded,200,,Successful\n' },
      { phase: 'current', csv: 'src,h,v3,succeeded,200,,Successful\nsrc,n,n1,succeeded,200,,Successful\nsrc,other,o9,succeeded,200,,Successful\n' },
    ],
    DESTINATION,
    [
      copyTo('h', [version('v1', '"1"', 1), version('v2', '"2"', 2), version('v3', '"3"', 3)], before),
      copyTo('n', [version('n1', '"n"', 4)], null),
      // Not the version the job copied last (a plan this row does not come from), and a key whose current task never ran.
      copyTo('other', [version('o1', '"o"', 5)], null),
      copyTo('f', [version('f1', '"f"', 6), version('f2', '"g"', 7)], null),
    ],
  );
  expect(rows.map((r) => [r.Key, r.TaskStatus, r.Before, r.CopiedAll, r.Copied])).toEqual([
    ['f', 'failed', undefined, undefined, undefined],
    [
      'h',
      'restored',
      before,
      [
        { versionId: 'v3', etag: '"3"', size: 3 },
        { versionId: 'v2', etag: '"2"', size: 2 },
        { versionId: 'v1', etag: '"1"', size: 1 },
      ],
      undefined,
    ],
    ['n', 'restored', null, [{ versionId: 'n1', etag: '"n"', size: 4 }], undefined],
    ['other', 'restored', undefined, undefined, undefined],
  ]);
});
