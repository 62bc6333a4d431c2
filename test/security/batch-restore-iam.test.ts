/**
 * IAM for batch restores, checked against what the code really sends: each
 * restore below runs step by step on the local S3 (RGW enforces no IAM), every
 * S3 request of each step is recorded, and each request's permissions (the
 * actions AWS checks for it, test/security/s3-permissions.ts) must be granted
 * by the role of the function that runs that step in a deployment synthesized
 * with the same buckets allowed. A grant the code needs but the table in
 * lib/restore-grants.ts lacks fails here, not at 3 a.m. on AWS.
 *
 * Then what lies outside: no role reaches a bucket that is not allowed, and a
 * destination or manifest there is refused by policy (BucketNotAllowed) by the
 * validate step and by the API, before anything is read or started.
 */
import { expect } from '@jest/globals';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { planStep } from '#core/steps/plan.ts';
import { policyFromEnv } from '#core/restore/policy.ts';
import type { RestoreRequestInput } from '#core/restore/request.ts';
import type { ChunkRef, PlanStepOutput, RestoreContext, RestoreSummary } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { makeHandler as apiHandler } from '../../lambdas/api/router.ts';
import type { RestoreFunction } from '../../lib/restore-function.ts';
import { apiEnv, bodyOf as responseBody, postRestore } from '../lambdas/api/events.ts';
import { FULL_CONTEXT, logicalIdOf, synth } from '../lib/support.ts';
import { actChunkStep, freshExecutionName, iso, planAll, reportStep, validateStep } from '../support/drive.ts';
import { engineFixture } from '../support/engine-fixture.ts';
import { HistoryWriter, byKeyMap, countRequests, listHistory, sleep } from '../support/history.ts';
import { testS3Client } from '../support/s3.ts';
import { withMockedStepFunctions } from '../support/step-functions.ts';
import { objectResource, roleOf, type BucketNaming, type SentRequest } from './s3-permissions.ts';

const fx = engineFixture('iam-batch');
const s3 = fx.s3;

/** A client on the local S3 that records every request sent through it. */
function recordingClient() {
  const client = testS3Client();
  const counter = countRequests(client);
  const sent = (): SentRequest[] => Object.keys(counter.tally()).flatMap((command) => counter.inputs(command).map((input) => ({ command, input })));
  return { client, sent, commands: () => Object.keys(counter.tally()).sort() };
}

type Recording = ReturnType<typeof recordingClient>;

/** The roles of a deployment that may touch `allowedBuckets`, named as the local S3 names its work bucket. */
function deploymentFor(allowedBuckets: readonly string[]) {
  const { stack, template } = synth({ 's3-rewind:allowedBuckets': [...allowedBuckets], 's3-rewind:deleteModeAllowed': true });
  const naming: BucketNaming = { workBucket: fx.workBucket(), workBucketArn: `<${logicalIdOf(stack.workBucket.bucket)}.Arn>` };
  const role = (fn: RestoreFunction) => roleOf(template, logicalIdOf(fn.executionRole));
  const fns = stack.restores.functions;
  /** Permissions `recording`'s requests needed that `fn`'s role lacks. */
  const missing = (fn: RestoreFunction, recording: Recording) => role(fn).missing(recording.sent(), naming);
  return { fns, naming, missing };
}

/** The steps of one restore, each on its own recording client, as each runs in its own Lambda. */
function stepClients() {
  const steps = { validate: recordingClient(), plan: recordingClient(), act: recordingClient(), report: recordingClient() };
  return { ...steps, destroy: () => Object.values(steps).forEach((step) => step.client.destroy()) };
}

/** Plans one chunk per step (so each later step resumes the manifest with a ranged GET), as Plan Chunks loops. */
async function planChunkByChunk(client: S3Client, context: RestoreContext): Promise<{ chunks: ChunkRef[]; totals: PlanStepOutput['totals'] }> {
  const store = new S3WorkStore(client, context.workBucket);
  const chunks: ChunkRef[] = [];
  let step: PlanStepOutput | undefined;
  do {
    step = await planStep(
      client,
      store,
      { ...context, cursor: step?.cursor ?? null, nextChunk: step?.nextChunk ?? 0, ...(step ? { totals: step.totals } : {}) },
      {
        chunkWrites: 1,
        maxChunks: 1,
      },
    );
    chunks.push(...step.chunks);
  } while (!step.done);
  return { chunks, totals: step.totals };
}

describe("every S3 request of a batch restore is one its function's role may make", () => {
  test('a manifest restore in place: validate, plan (reading the manifest, resumed with ranged GETs), act (copies, delete markers) and report', async () => {
    // Prepare: the source, and the manifest in a third allowed bucket
    const source = await fx.versionedBucket('src');
    const manifests = await fx.versionedBucket('manifests');
    const w = new HistoryWriter(s3, source);
    const first = await w.put('docs/a.txt', 'a1');
    await w.put('docs/tagged.txt', 'same bytes', { Tagging: 'team=blue', ContentType: 'text/plain' });
    await w.put('docs/b.txt', 'b1');
    await sleep(1100);
    const at = Date.now();
    await sleep(1100);
    await w.put('docs/a.txt', 'a2');
    await w.put('docs/b.txt', 'b2');
    // Same bytes again, other headers: only HEADs (and the tags) tell it from the target.
    await w.put('docs/tagged.txt', 'same bytes', { ContentType: 'application/octet-stream' });
    await w.put('docs/new.txt', 'created after the restore point');
    const manifestKey = 'lists/keys.csv';
    const lines = [`${source},docs/a.txt,${first}`, `${source},docs/b.txt`, `${source},docs/tagged.txt`, `${source},docs/new.txt`];
    await s3.send(new PutObjectCommand({ Bucket: manifests, Key: manifestKey, Body: `${lines.join('\n')}\n` }));
    const deployment = deploymentFor([source, manifests]);
    const steps = stepClients();
    const request: RestoreRequestInput = { bucket: source, manifest: `s3://${manifests}/${manifestKey}`, at: iso(at) };

    // Act
    let summary: RestoreSummary;
    try {
      const context = await validateStep(steps.validate.client, request, {
        workBucket: fx.workBucket(),
        policy: policyFromEnv({ ALLOWED_BUCKETS: `${source},${manifests}` }),
      });
      const { chunks, totals } = await planChunkByChunk(steps.plan.client, context);
      for (const chunk of chunks) await actChunkStep(steps.act.client, context, chunk);
      summary = await reportStep(steps.report.client, context, totals);
    } finally {
      steps.destroy();
    }

    // Assess: the restore did its work, through the requests under test
    expect(summary).toMatchObject({ status: 'SUCCEEDED', counts: { restored: 3, deleted: 1, failed: 0 } });
    const manifestReads = steps.plan.sent().filter((r) => r.command === 'GetObjectCommand' && r.input.Bucket === manifests);
    expect(manifestReads.length).toBeGreaterThan(1);
    expect(manifestReads.some((r) => typeof r.input.Range === 'string')).toBe(true);
    expect(steps.plan.commands()).toEqual(expect.arrayContaining(['GetObjectTaggingCommand', 'HeadObjectCommand', 'ListObjectVersionsCommand']));
    expect(steps.act.commands()).toEqual(expect.arrayContaining(['CopyObjectCommand', 'DeleteObjectsCommand', 'GetBucketVersioningCommand']));
    // ... and each role may make every one of them
    expect(deployment.missing(deployment.fns.validateRequest, steps.validate)).toEqual([]);
    expect(deployment.missing(deployment.fns.listVersions, steps.plan)).toEqual([]);
    expect(deployment.missing(deployment.fns.copyVersion, steps.act)).toEqual([]);
    expect(deployment.missing(deployment.fns.report, steps.report)).toEqual([]);
  });

  test('a restore to another bucket with history: the destination listed, versions copied in parts with their tags, delete markers reproduced, a failed multipart copy aborted', async () => {
    // Prepare
    const source = await fx.versionedBucket('src');
    const destination = await fx.versionedBucket('dst');
    const w = new HistoryWriter(s3, source);
    await w.put('app/a.txt', 'a1', { Tagging: 'kept=yes' });
    await w.put('app/a.txt', 'a2');
    await w.del('app/a.txt');
    await w.put('app/a.txt', 'a3', { Tagging: 'kept=again' });
    await w.put('app/fails.txt', 'f1');
    await sleep(1100);
    const at = Date.now();
    await sleep(1100);
    await w.put('app/a.txt', 'after the restore point');
    const deployment = deploymentFor([source, destination]);
    const steps = stepClients();
    // The destination's part copies of one key fail (as a throttled or lost part would): its upload must be aborted.
    steps.act.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: string };
        if (context.commandName === 'UploadPartCopyCommand' && input.Key === 'restored/app/fails.txt') {
          throw Object.assign(new Error('part copy failed (provoked)'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failOnePartCopy' },
    );
    const request: RestoreRequestInput = { bucket: source, prefix: 'app/', at: iso(at), to: `s3://${destination}/restored/`, withHistory: true };

    // Act
    let summary: RestoreSummary;
    try {
      const context = await validateStep(steps.validate.client, request, {
        workBucket: fx.workBucket(),
        policy: policyFromEnv({ ALLOWED_BUCKETS: `${source},${destination}` }),
      });
      const { chunks, totals } = await planAll(steps.plan.client, context);
      // Every copy goes through the multipart path (UploadPartCopy), as one above 5 GiB does.
      for (const chunk of chunks) await actChunkStep(steps.act.client, context, chunk, { actOptions: { multipartThreshold: 1 } });
      summary = await reportStep(steps.report.client, context, totals);
    } finally {
      steps.destroy();
    }

    // Assess: a's history up to T is in the destination; the provoked failure failed that key alone
    expect(summary).toMatchObject({ status: 'PARTIAL', counts: { restored: 1, failed: 1 } });
    expect(byKeyMap(await listHistory(s3, destination)).get('restored/app/a.txt')).toHaveLength(4);
    const destinationListings = steps.plan.sent().filter((r) => r.command === 'ListObjectVersionsCommand' && r.input.Bucket === destination);
    expect(destinationListings.length).toBeGreaterThan(0);
    expect(steps.act.commands()).toEqual(
      expect.arrayContaining([
        'AbortMultipartUploadCommand',
        'CompleteMultipartUploadCommand',
        'CreateMultipartUploadCommand',
        'DeleteObjectCommand',
        'GetObjectTaggingCommand',
        'PutObjectTaggingCommand',
        'UploadPartCopyCommand',
      ]),
    );
    expect(
      steps.validate
        .sent()
        .filter((r) => r.input.Bucket === destination)
        .map((r) => r.command)
        .sort(),
    ).toEqual(['GetBucketVersioningCommand']);
    expect(deployment.missing(deployment.fns.validateRequest, steps.validate)).toEqual([]);
    expect(deployment.missing(deployment.fns.listVersions, steps.plan)).toEqual([]);
    expect(deployment.missing(deployment.fns.copyVersion, steps.act)).toEqual([]);
    expect(deployment.missing(deployment.fns.report, steps.report)).toEqual([]);
  });

  test('a manifest restore in delete mode: the delete-newer-versions role may make every request of its act steps', async () => {
    // Prepare
    const source = await fx.versionedBucket('src');
    const w = new HistoryWriter(s3, source);
    await w.put('k/one.txt', 'one');
    await sleep(1100);
    const at = Date.now();
    await sleep(1100);
    await w.put('k/one.txt', 'newer');
    const manifestKey = 'manifests/delete.jsonl';
    await s3.send(new PutObjectCommand({ Bucket: source, Key: manifestKey, Body: `${JSON.stringify({ bucket: source, key: 'k/one.txt' })}\n` }));
    const deployment = deploymentFor([source]);
    const steps = stepClients();
    const request: RestoreRequestInput = {
      bucket: source,
      manifest: `s3://${source}/${manifestKey}`,
      at: iso(at),
      mode: 'delete',
      confirmPermanentDelete: true,
    };

    // Act
    let summary: RestoreSummary;
    try {
      const context = await validateStep(steps.validate.client, request, {
        workBucket: fx.workBucket(),
        policy: policyFromEnv({ ALLOWED_BUCKETS: source, DELETE_MODE_ALLOWED: 'true' }),
      });
      const { chunks, totals } = await planAll(steps.plan.client, context);
      for (const chunk of chunks) await actChunkStep(steps.act.client, context, chunk);
      summary = await reportStep(steps.report.client, context, totals);
    } finally {
      steps.destroy();
    }

    // Assess
    expect(summary).toMatchObject({ status: 'SUCCEEDED', counts: { restored: 1, failed: 0 } });
    expect(steps.act.commands()).toEqual(expect.arrayContaining(['DeleteObjectsCommand']));
    expect(deployment.missing(deployment.fns.listVersions, steps.plan)).toEqual([]);
    expect(deployment.missing(deployment.fns.deleteNewerVersions!, steps.act)).toEqual([]);
  });
});

describe('no role reaches a bucket that is not allowed', () => {
  const { stack, template } = synth(FULL_CONTEXT);
  const naming: BucketNaming = { workBucket: 'not-the-work-bucket', workBucketArn: `<${logicalIdOf(stack.workBucket.bucket)}.Arn>` };
  const fns = stack.restores.functions;
  const role = (fn: RestoreFunction) => roleOf(template, logicalIdOf(fn.executionRole));
  const object = (bucket: string, key: string) => objectResource(naming, bucket, key);
  const bucket = (name: string) => `arn:<AWS::Partition>:s3:::${name}`;

  test('the plan role may read a manifest in each allowed bucket, and no object of a bucket outside them', () => {
    const plan = role(fns.listVersions);
    for (const allowed of ['example-bucket', 'sandbox-bucket']) {
      expect(plan.allows({ action: 's3:GetObject', resource: object(allowed, 'manifests/keys.csv') })).toBe(true);
      expect(plan.allows({ action: 's3:ListBucket', resource: bucket(allowed) })).toBe(true);
    }
    for (const action of ['s3:GetObject', 's3:GetObjectVersion']) {
      expect(plan.allows({ action, resource: object('payroll', 'manifests/keys.csv') })).toBe(false);
    }
    expect(plan.allows({ action: 's3:ListBucket', resource: bucket('payroll') })).toBe(false);
  });

  test('the copy role may write copies, parts, tags and delete markers to an allowed destination, and nothing outside the allowed buckets', () => {
    const copy = role(fns.copyVersion);
    const writes = ['s3:PutObject', 's3:PutObjectTagging', 's3:PutObjectVersionTagging', 's3:DeleteObject', 's3:AbortMultipartUpload'];
    const inspects = ['s3:ListBucketVersions', 's3:GetBucketVersioning'];
    for (const action of writes) {
      expect({ action, allowed: copy.allows({ action, resource: object('sandbox-bucket', 'restored/app/a.txt') }) }).toEqual({ action, allowed: true });
      expect({ action, allowed: copy.allows({ action, resource: object('payroll', 'restored/app/a.txt') }) }).toEqual({ action, allowed: false });
    }
    for (const action of inspects) {
      expect({ action, allowed: copy.allows({ action, resource: bucket('sandbox-bucket') }) }).toEqual({ action, allowed: true });
      expect({ action, allowed: copy.allows({ action, resource: bucket('payroll') }) }).toEqual({ action, allowed: false });
    }
  });

  test('no role of the stack may read, write, list or inspect a bucket outside the allowed buckets', () => {
    const objectActions = [
      's3:GetObject',
      's3:GetObjectVersion',
      's3:GetObjectTagging',
      's3:GetObjectVersionTagging',
      's3:PutObject',
      's3:PutObjectTagging',
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:AbortMultipartUpload',
      's3:RestoreObject',
    ];
    const bucketActions = ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketVersioning', 's3:GetBucketObjectLockConfiguration'];
    const roles = Object.keys(template.findResources('AWS::IAM::Role'));
    const reaching = roles.flatMap((id) => {
      const r = roleOf(template, id);
      return [
        ...objectActions.filter((action) => r.allows({ action, resource: object('payroll', 'manifests/keys.csv'), context: { 's3:prefix': '' } })),
        ...bucketActions.filter((action) => r.allows({ action, resource: bucket('payroll'), context: { 's3:prefix': '' } })),
      ].map((action) => `${id} ${action}`);
    });
    expect(reaching).toEqual([]);
  });
});

describe('a destination or manifest in a bucket that is not allowed is refused by policy (BucketNotAllowed)', () => {
  const policy = policyFromEnv({ ALLOWED_BUCKETS: 'photos,docs' });
  const base = { bucket: 'photos', prefix: 'albums/', at: '2026-01-10T10:00:00Z' };
  const cases: Array<[string, RestoreRequestInput, string]> = [
    ['a destination bucket', { ...base, to: 's3://payroll/restored/' }, 'destination bucket "payroll"'],
    ['a destination bucket, with history', { ...base, to: 's3://payroll/restored/', withHistory: true }, 'destination bucket "payroll"'],
    ['a manifest bucket', { bucket: 'photos', manifest: 's3://payroll/keys.csv', at: base.at }, 'manifest bucket "payroll"'],
  ];

  test.each(cases)('%s: by the validate step, before any S3 request', async (_case, request, named) => {
    const recording = recordingClient();
    try {
      await expect(validateStep(recording.client, request, { workBucket: fx.workBucket(), policy, executionName: freshExecutionName() })).rejects.toMatchObject(
        {
          name: 'RefusedError',
          code: 'BucketNotAllowed',
          message: expect.stringContaining(named),
        },
      );
      expect(recording.sent()).toEqual([]);
    } finally {
      recording.client.destroy();
    }
  });

  test.each(cases)('%s: by the API, 403 and no execution started', async (_case, request, named) => {
    await withMockedStepFunctions(async (sfn) => {
      const api = apiHandler({
        sfn: sfn.client,
        s3: new S3Client({ region: 'eu-west-1' }),
        env: apiEnv(),
        logger: new Logger({ logLevel: 'SILENT' }),
      });
      const response = await api(postRestore(request));
      expect(response.statusCode).toBe(403);
      expect(responseBody(response)).toMatchObject({ code: 'BucketNotAllowed', message: expect.stringContaining(named) });
      expect(sfn.startedNames()).toHaveLength(0);
    });
  });
});
