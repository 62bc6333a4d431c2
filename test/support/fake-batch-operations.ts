/**
 * S3 Batch Operations, faked for tests: an `S3ControlClient` (aws-sdk-client-mock
 * on one instance) whose CreateJob and DescribeJob behave like Batch Operations'
 * PutObjectCopy jobs, copying on the real local S3 (RGW has no S3 Control API).
 *
 * What it models, as the S3 guide describes it:
 * - CreateJob checks its input (account id, one S3PutObjectCopy operation with a
 *   bucket ARN as TargetResource and MetadataDirective COPY, a CSV manifest of
 *   `Bucket,Key[,VersionId]` by object ARN and ETag, a CSV report, a role ARN, a
 *   priority, a ClientRequestToken) and throws `InvalidRequest` (400) otherwise.
 *   The same token with the same input is the same job (its JobId again); the
 *   same token with another input throws `IdempotencyException`.
 * - The manifest is read from the local S3 when the job is created. A manifest
 *   that is missing, or whose ETag is not the one given, fails the job
 *   (`ManifestNotFound`, `ManifestETagMismatch`) at its first DescribeJob, with
 *   no report (no task ran).
 * - Status moves on only when asked: New, then Active (half the tasks run) at
 *   the first DescribeJob, then Complete (the rest run, the report is written)
 *   at the second. A job told to fail stops after its first half: Failed, with
 *   a report of the tasks that ran.
 * - A task is CopyObject of the manifest line's key and version into
 *   TargetResource at `TargetKeyPrefix + '/' + key` (just `key` without a
 *   prefix), MetadataDirective COPY, the job's StorageClass if any. Tasks run in
 *   a shuffled order (Batch Operations promises none; seeded, so a failing order
 *   can be replayed). A task fails on S3's error (its code and HTTP status), or
 *   when the test says so (`failTasks`).
 * - The completion report: CSV files under `<Prefix>/job-<id>/results/` (one of
 *   succeeded tasks, one of failed ones), lines `Bucket,Key,VersionId,TaskStatus,
 *   <HTTP status>,<error code>,ResultMessage` with the key as the manifest wrote
 *   it (the order S3's own lines have, though its ReportSchema names the code
 *   first), and `<Prefix>/job-<id>/manifest.json` naming them (`Results[]` with
 *   the bucket name and whole key), as S3 writes them. `FailedTasksOnly` reports
 *   failed tasks only.
 *
 * What it does not model: Preparing/Ready/Suspended states (ConfirmationRequired
 * must be false), priorities and concurrency between jobs, the failure
 * threshold that fails a job whose tasks mostly fail, retries of tasks, manifests
 * in S3 Inventory format or from a generator, other operations, object tagging
 * and ACL options of PutObjectCopy, checksums and MD5s of report files (a
 * SHA-1 names them), SSE-S3 of the reports, job tags, UpdateJobStatus and
 * ListJobs, the account's job quota.
 */
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateJobCommand,
  DescribeJobCommand,
  S3ControlClient,
  type CreateJobCommandInput,
  type JobDescriptor,
  type JobFailure,
} from '@aws-sdk/client-s3-control';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash, randomUUID } from 'node:crypto';
import { copySource } from '#core/s3/copy-version.ts';
import { s3ErrorOf } from '#core/restore/errors.ts';
import { csvFields, decodeManifestKey } from '#core/sources/manifest.ts';

/** One line of a job's manifest, as a task. */
export interface FakeTask {
  readonly jobId: string;
  readonly bucket: string;
  /** The key as the manifest wrote it (URL-encoded), and decoded. */
  readonly encodedKey: string;
  readonly key: string;
  readonly versionId: string;
}

/** A task's error, when the test makes it fail. */
export interface TaskError {
  readonly code: string;
  readonly status: number;
  readonly message: string;
}

/** A task carried out: what was copied where, in the order the fake ran them. */
export interface FakeCopy extends FakeTask {
  readonly targetBucket: string;
  readonly targetKey: string;
  readonly storageClass?: string;
  readonly error?: TaskError;
}

export interface FakeJob {
  readonly jobId: string;
  readonly input: CreateJobCommandInput;
  status: 'New' | 'Active' | 'Complete' | 'Failed';
  readonly tasks: FakeTask[];
  /** Tasks not run yet, in the order they will run. */
  readonly queue: FakeTask[];
  readonly results: Array<{ task: FakeTask; error?: TaskError }>;
  failure?: JobFailure;
  /** Set when the manifest can't be read: the job fails when first described. */
  manifestFailure?: JobFailure;
  readonly creationTime: Date;
  terminationDate?: Date;
}

export interface FakeBatchOperationsOptions {
  /** Seed of the task order. @default random */
  readonly seed?: number;
}

const invalid = (message: string): Error => Object.assign(new Error(message), { name: 'InvalidRequest', $metadata: { httpStatusCode: 400 } });

/** `arn:<partition>:s3:::<rest>` → `<rest>`. */
const s3ArnResource = (arn: string | undefined, what: string): string => {
  const match = /^arn:[a-z-]+:s3:::(.+)$/.exec(arn ?? '');
  if (!match) throw invalid(`${what} is not an S3 ARN: ${String(arn)}`);
  return match[1]!;
};

/** mulberry32: a small seeded PRNG, enough to shuffle. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const csvField = (text: string): string => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
const sameEtag = (a: string, b: string): boolean => a.replace(/"/g, '') === b.replace(/"/g, '');

export class FakeBatchOperations {
  /** The S3 Control client to hand to the engine. */
  readonly client = new S3ControlClient({ region: 'us-east-1', credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' } });
  /** The mock behind it: its `commandCalls` tell which calls were made, in order. */
  readonly mock = mockClient(this.client);
  readonly jobs = new Map<string, FakeJob>();
  /** Every task run, in the order run. */
  readonly copies: FakeCopy[] = [];
  /** The seed of the task order (to replay a run). */
  readonly seed: number;
  private readonly random: () => number;
  private readonly tokens = new Map<string, { jobId: string; input: string }>();
  private jobFailures: Array<{ match: (job: FakeJob) => boolean; failure: JobFailure }> = [];
  private taskFailures: Array<(task: FakeTask) => TaskError | undefined> = [];

  constructor(
    private readonly s3: S3Client,
    options: FakeBatchOperationsOptions = {},
  ) {
    this.seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
    this.random = prng(this.seed);
    this.mock.on(CreateJobCommand).callsFake((input: CreateJobCommandInput) => this.createJob(input));
    this.mock.on(DescribeJobCommand).callsFake((input: { AccountId?: string; JobId?: string }) => this.describeJob(input));
  }

  /** Jobs for which `match` holds fail after their first half of tasks (Failed, with `failure` as reason). */
  failJobs(
    match: (job: FakeJob) => boolean,
    failure: JobFailure = { FailureCode: 'InternalError', FailureReason: 'the job failed (as the test asked)' },
  ): this {
    this.jobFailures.push({ match, failure });
    return this;
  }

  /** Tasks for which `fail` returns an error fail with it, without copying. */
  failTasks(fail: (task: FakeTask) => TaskError | undefined): this {
    this.taskFailures.push(fail);
    return this;
  }

  /** The jobs in the order they were created. */
  get created(): FakeJob[] {
    return [...this.jobs.values()];
  }

  private async createJob(input: CreateJobCommandInput): Promise<{ JobId: string }> {
    if (!/^\d{12}$/.test(input.AccountId ?? '')) throw invalid(`AccountId must be 12 digits: ${String(input.AccountId)}`);
    const token = input.ClientRequestToken ?? '';
    if (token.length < 1 || token.length > 64) throw invalid('ClientRequestToken must be 1 to 64 characters');
    const earlier = this.tokens.get(token);
    if (earlier) {
      if (earlier.input !== JSON.stringify(input)) {
        throw Object.assign(new Error(`ClientRequestToken ${token} was used for another job`), {
          name: 'IdempotencyException',
          $metadata: { httpStatusCode: 409 },
        });
      }
      return { JobId: earlier.jobId };
    }
    this.validate(input);
    const jobId = randomUUID();
    this.tokens.set(token, { jobId, input: JSON.stringify(input) });
    const job: FakeJob = { jobId, input, status: 'New', tasks: [], queue: [], results: [], creationTime: new Date() };
    this.jobs.set(jobId, job);
    await this.readManifest(job);
    return { JobId: jobId };
  }

  private validate(input: CreateJobCommandInput): void {
    if (input.ConfirmationRequired !== false) throw invalid('the fake runs jobs without confirmation only: ConfirmationRequired must be false');
    const operations = Object.entries(input.Operation ?? {}).filter(([, value]) => value !== undefined);
    if (operations.length !== 1 || operations[0]![0] !== 'S3PutObjectCopy') throw invalid('the fake runs one operation: S3PutObjectCopy');
    const copy = input.Operation!.S3PutObjectCopy!;
    s3ArnResource(copy.TargetResource, 'TargetResource');
    if (copy.TargetResource!.includes('/')) throw invalid('TargetResource is a bucket ARN');
    if (copy.MetadataDirective !== 'COPY') throw invalid('the fake copies with MetadataDirective COPY only');
    const spec = input.Manifest?.Spec;
    if (spec?.Format !== 'S3BatchOperations_CSV_20180820') throw invalid('Manifest.Spec.Format must be S3BatchOperations_CSV_20180820');
    const fields = (spec.Fields ?? []).join(',');
    if (fields !== 'Bucket,Key' && fields !== 'Bucket,Key,VersionId') throw invalid(`Manifest.Spec.Fields must be Bucket,Key[,VersionId]: ${fields}`);
    s3ArnResource(input.Manifest?.Location?.ObjectArn, 'Manifest.Location.ObjectArn');
    if (!input.Manifest?.Location?.ETag) throw invalid('Manifest.Location.ETag is required');
    const report = input.Report;
    if (!report) throw invalid('Report is required');
    if (report.Enabled) {
      s3ArnResource(report.Bucket, 'Report.Bucket');
      if (report.Format !== 'Report_CSV_20180820') throw invalid('Report.Format must be Report_CSV_20180820');
      if (report.ReportScope !== 'AllTasks' && report.ReportScope !== 'FailedTasksOnly')
        throw invalid('Report.ReportScope must be AllTasks or FailedTasksOnly');
    }
    if (!Number.isInteger(input.Priority) || input.Priority! < 0) throw invalid('Priority must be a non-negative integer');
    if (!/^arn:[a-z-]+:iam::\d{12}:role\/.+$/.test(input.RoleArn ?? '')) throw invalid(`RoleArn is not a role ARN: ${String(input.RoleArn)}`);
  }

  private async readManifest(job: FakeJob): Promise<void> {
    const location = job.input.Manifest!.Location!;
    const resource = s3ArnResource(location.ObjectArn, 'Manifest.Location.ObjectArn');
    const slash = resource.indexOf('/');
    const [bucket, key] = [resource.slice(0, slash), resource.slice(slash + 1)];
    let text: string;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!sameEtag(object.ETag ?? '', location.ETag!)) {
        job.manifestFailure = { FailureCode: 'ManifestETagMismatch', FailureReason: `the manifest's ETag is ${object.ETag}, not ${location.ETag}` };
        return;
      }
      text = (await object.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      job.manifestFailure = { FailureCode: 'ManifestNotFound', FailureReason: s3ErrorOf(error).message };
      return;
    }
    let line = 0;
    for (const raw of text.split('\n')) {
      line += 1;
      if (raw.trim() === '') continue;
      const [bucketField = '', encodedKey = '', versionId = ''] = csvFields(raw.replace(/\r$/, ''), line);
      job.tasks.push({ jobId: job.jobId, bucket: bucketField, encodedKey, key: decodeManifestKey(encodedKey, line), versionId });
    }
    // Batch Operations runs a manifest's tasks in no particular order.
    const order = [...job.tasks];
    for (let i = order.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    job.queue.push(...order);
  }

  private async describeJob(input: { AccountId?: string; JobId?: string }): Promise<{ Job: JobDescriptor }> {
    const job = this.jobs.get(input.JobId ?? '');
    if (!job || !/^\d{12}$/.test(input.AccountId ?? '') || input.AccountId !== job.input.AccountId) {
      throw Object.assign(new Error(`no job ${String(input.JobId)} in account ${String(input.AccountId)}`), {
        name: 'NotFoundException',
        $metadata: { httpStatusCode: 404 },
      });
    }
    if (job.status === 'New') {
      if (job.manifestFailure) {
        this.finish(job, 'Failed', job.manifestFailure);
      } else {
        job.status = 'Active';
        await this.runTasks(job, Math.ceil(job.queue.length / 2));
      }
    } else if (job.status === 'Active') {
      const failure = this.jobFailures.find((f) => f.match(job))?.failure;
      if (failure) {
        await this.writeReport(job);
        this.finish(job, 'Failed', failure);
      } else {
        await this.runTasks(job, job.queue.length);
        await this.writeReport(job);
        this.finish(job, 'Complete');
      }
    }
    return { Job: this.descriptor(job) };
  }

  private finish(job: FakeJob, status: 'Complete' | 'Failed', failure?: JobFailure): void {
    job.status = status;
    if (failure) job.failure = failure;
    job.terminationDate = new Date();
  }

  private async runTasks(job: FakeJob, count: number): Promise<void> {
    const copy = job.input.Operation!.S3PutObjectCopy!;
    const targetBucket = s3ArnResource(copy.TargetResource, 'TargetResource');
    for (const task of job.queue.splice(0, count)) {
      const targetKey = copy.TargetKeyPrefix ? `${copy.TargetKeyPrefix}/${task.key}` : task.key;
      let error = this.taskFailures.map((fail) => fail(task)).find((e) => e !== undefined);
      if (!error) {
        try {
          await this.s3.send(
            new CopyObjectCommand({
              Bucket: targetBucket,
              Key: targetKey,
              CopySource: task.versionId
                ? copySource(task.bucket, task.key, task.versionId)
                : `${task.bucket}/${encodeURIComponent(task.key).replace(/%2F/g, '/')}`,
              MetadataDirective: 'COPY',
              ...(copy.StorageClass ? { StorageClass: copy.StorageClass } : {}),
            }),
          );
        } catch (caught) {
          const e = s3ErrorOf(caught);
          error = { code: e.code, status: e.status, message: e.message };
        }
      }
      job.results.push({ task, ...(error ? { error } : {}) });
      this.copies.push({ ...task, targetBucket, targetKey, ...(copy.StorageClass ? { storageClass: copy.StorageClass } : {}), ...(error ? { error } : {}) });
    }
  }

  /** The completion report, as S3 writes it: result CSVs and the manifest.json naming them. */
  private async writeReport(job: FakeJob): Promise<void> {
    const report = job.input.Report!;
    if (!report.Enabled || job.results.length === 0) return;
    const bucket = s3ArnResource(report.Bucket, 'Report.Bucket');
    const root = `${report.Prefix ? `${report.Prefix}/` : ''}job-${job.jobId}`;
    const line = ({ task, error }: FakeJob['results'][number]) =>
      [
        task.bucket,
        task.encodedKey,
        task.versionId,
        error ? 'failed' : 'succeeded',
        String(error ? error.status : 200),
        error ? error.code : '',
        csvField(error ? error.message : 'Successful'),
      ].join(',');
    const files: Array<{ status: string; rows: FakeJob['results'] }> = [
      { status: 'succeeded', rows: report.ReportScope === 'AllTasks' ? job.results.filter((r) => !r.error) : [] },
      { status: 'failed', rows: job.results.filter((r) => r.error) },
    ];
    const results: Array<{ TaskExecutionStatus: string; Bucket: string; MD5Checksum: string; Key: string }> = [];
    for (const { status, rows } of files) {
      if (rows.length === 0) continue;
      const body = rows.map((r) => `${line(r)}\n`).join('');
      const key = `${root}/results/${createHash('sha1').update(`${job.jobId} ${status}`).digest('hex')}.csv`;
      await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/csv' }));
      results.push({ TaskExecutionStatus: status, Bucket: bucket, MD5Checksum: createHash('md5').update(body).digest('hex'), Key: key });
    }
    const manifest = {
      Format: 'Report_CSV_20180820',
      ReportCreationDate: new Date().toISOString(),
      Results: results,
      ReportSchema: 'Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage',
    };
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${root}/manifest.json`, Body: JSON.stringify(manifest), ContentType: 'application/json' }));
  }

  private descriptor(job: FakeJob): JobDescriptor {
    const failed = job.results.filter((r) => r.error).length;
    return {
      JobId: job.jobId,
      Status: job.status,
      ConfirmationRequired: false,
      ...(job.input.Description !== undefined ? { Description: job.input.Description } : {}),
      Operation: job.input.Operation,
      Manifest: job.input.Manifest,
      Report: job.input.Report,
      Priority: job.input.Priority,
      RoleArn: job.input.RoleArn,
      CreationTime: job.creationTime,
      ...(job.terminationDate ? { TerminationDate: job.terminationDate } : {}),
      ProgressSummary: { TotalNumberOfTasks: job.tasks.length, NumberOfTasksSucceeded: job.results.length - failed, NumberOfTasksFailed: failed },
      ...(job.failure ? { FailureReasons: [job.failure] } : {}),
    };
  }
}
