/**
 * The S3 Batch Operations engine: a restore's plan becomes Batch Operations CSV
 * manifests in the work bucket and S3 Control `CreateJob` requests for
 * PutObjectCopy jobs with completion reports.
 *
 * - Batch Operations copies a manifest's objects in no particular order. When
 *   order matters (with history), a key's non-current entries go in a first job
 *   and its current entry in a second, created only once the first is Complete
 *   (the S3 guide's advice), so each key's latest version is the state at T.
 *   Within the first job the order of one key's non-current versions is not
 *   guaranteed: where it matters, use the Lambda engine.
 * - What a PutObjectCopy job can't do stays on the Lambda path (act steps):
 *   versions above 5 GiB (COPY's limit), archived versions (GLACIER,
 *   DEEP_ARCHIVE: they need RestoreObject first, which the Lambda path reports),
 *   delete markers (a marker is not an object to copy: a key whose history to
 *   reproduce holds one goes to Lambda whole, to keep its order), and anything
 *   but copies (delete markers added, versions deleted).
 * - One job copies in one storage class: a phase has a job per storage class,
 *   so a copy keeps its version's class as the Lambda path does.
 * - `CreateJob` is idempotent per phase and storage class through a
 *   `ClientRequestToken` derived from the restore id and the manifest's ETag.
 * - Completion reports: S3 writes `<report prefix>/job-<id>/manifest.json`,
 *   whose `Results[]` name the CSV files (bucket and whole key) of the tasks that
 *   ran; they fold into one s3-rewind report row per key.
 *
 * The steps the state machine runs (prepare, advance) are in steps.ts.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateJobCommand, DescribeJobCommand, S3StorageClass, type CreateJobCommandInput, type S3ControlClient } from '@aws-sdk/client-s3-control';
import { createHash } from 'node:crypto';
import type { PlannedAction } from '../restore/destination-plan.ts';
import { SINGLE_COPY_LIMIT } from '../s3/copy-version.ts';
import { compareKeys } from '../s3/listing.ts';
import { decodeManifestKey, csvFields, manifestCsvLine } from '../sources/manifest.ts';
import type { CopiedEntry, EntryRef, KeyOutcome } from '../restore/model.ts';
import type { Destination } from '../restore/request.ts';
import { workKeys } from '../steps/contracts.ts';
import { S3WorkStore, writeLineStreams } from '../work-store/work-store.ts';

/** The two jobs of an ordered restore: every non-current entry, then every current one. */
export type BatchPhase = 'noncurrent' | 'current';
export const PHASES: readonly BatchPhase[] = ['noncurrent', 'current'];

/** One object version Batch Operations copies. */
export interface BatchCopy {
  readonly key: string;
  readonly versionId: string;
  readonly storageClass: string;
}

/** A plan split between Batch Operations and the Lambda path. */
export interface BatchWork {
  readonly copies: Record<BatchPhase, BatchCopy[]>;
  /** Actions Batch Operations can't carry out: acted on by the Lambda path, with why. */
  readonly lambda: Array<{ readonly action: PlannedAction; readonly reason: string }>;
}

const ARCHIVED = new Set(['GLACIER', 'DEEP_ARCHIVE']);

/**
 * The storage classes a PutObjectCopy job may write (S3 Control's `S3StorageClass`:
 * STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, and the
 * archived ones, excluded above). `CreateJob` refuses the others (REDUCED_REDUNDANCY,
 * OUTPOSTS, EXPRESS_ONEZONE...) for the whole job: their versions go to Lambda,
 * whose CopyObject keeps any class S3 has.
 */
export const JOB_STORAGE_CLASSES: ReadonlySet<string> = new Set<string>(Object.values(S3StorageClass));

/** Why Batch Operations can't copy this entry, or undefined when it can. */
function notCopyable(entry: EntryRef): string | undefined {
  if (entry.isDeleteMarker) return 'a delete marker is reproduced with DeleteObject';
  if ((entry.size ?? 0) > SINGLE_COPY_LIMIT) return 'larger than 5 GiB: copied in parts';
  if (entry.storageClass && ARCHIVED.has(entry.storageClass)) return `in ${entry.storageClass}: needs RestoreObject first`;
  if (entry.storageClass && !JOB_STORAGE_CLASSES.has(entry.storageClass)) return `in ${entry.storageClass}: a storage class Batch Operations jobs can't write`;
  return undefined;
}

const copyOf = (key: string, entry: EntryRef): BatchCopy => ({ key, versionId: entry.versionId, storageClass: entry.storageClass ?? 'STANDARD' });

/** Splits a plan's actions into the two phases' copies and the rest (Lambda). */
export function batchWorkOf(actions: Iterable<PlannedAction>): BatchWork {
  const work: BatchWork = { copies: { noncurrent: [], current: [] }, lambda: [] };
  for (const action of actions) {
    switch (action.action) {
      case 'unchanged':
        break;
      case 'copy': {
        const reason = notCopyable(action.source);
        if (reason) work.lambda.push({ action, reason });
        else work.copies.current.push(copyOf(action.key, action.source));
        break;
      }
      case 'copyTo': {
        const reason = action.writes.map(notCopyable).find((r) => r !== undefined);
        if (reason) {
          work.lambda.push({ action, reason });
          break;
        }
        for (const entry of action.writes.slice(0, -1)) work.copies.noncurrent.push(copyOf(action.key, entry));
        work.copies.current.push(copyOf(action.key, action.writes.at(-1)!));
        break;
      }
      default:
        work.lambda.push({ action, reason: 'not a copy' });
    }
  }
  for (const phase of PHASES) work.copies[phase].sort((a, b) => compareKeys(a.key, b.key));
  return work;
}

/** One job to create: its manifest in the work bucket, and once created its id and status. */
export interface BatchJob {
  readonly phase: BatchPhase;
  readonly storageClass: string;
  readonly manifestKey: string;
  readonly manifestEtag: string;
  readonly tasks: number;
  readonly jobId?: string;
  /** S3 Control's `JobStatus`, kept as the string it answered. */
  readonly status?: string;
}

/** Where an engine run stands; small, so it can travel in the state machine's state. */
export interface BatchJobsState {
  readonly restoreId: string;
  readonly workBucket: string;
  readonly jobs: readonly BatchJob[];
}

export const batchKeys = (restoreId: string) => {
  const root = `${workKeys(restoreId).root}batch-operations/`;
  const reportPrefix = `${root}reports`;
  // Outcomes files of this engine sit beside the act steps' (`outcomes/000042.jsonl`) under names those never take.
  const outcomes = `${workKeys(restoreId).outcomesPrefix}batch-operations-`;
  return {
    manifest: (phase: BatchPhase, storageClass: string) => `${root}manifests/${phase}-${storageClass}.csv`,
    reportPrefix,
    /** Where S3 writes a job's completion report manifest (the report prefix gets `/job-<id>/` after it). */
    reportManifest: (jobId: string) => `${reportPrefix}/job-${jobId}/manifest.json`,
    /** Rows of plan chunk `index`'s keys that neither path writes (unchanged, will fail). */
    plannedOutcomes: (index: number) => `${outcomes}planned-${String(index).padStart(6, '0')}.jsonl`,
    /** Rows folded from the jobs' completion reports, partition `partition` (keys by hash, key order within). */
    jobOutcomes: (partition: number) => `${outcomes}jobs-${String(partition).padStart(4, '0')}.jsonl`,
    /** Prefix of the report rows of partition `partition`, one part per completion report file. */
    foldParts: (partition: number) => `${root}fold/p${String(partition).padStart(4, '0')}/`,
    /** The rows of report file `report` (in `completionReportFiles` order) whose keys fall in `partition`. */
    foldPart: (partition: number, report: number) => `${root}fold/p${String(partition).padStart(4, '0')}/r${String(report).padStart(8, '0')}.jsonl`,
    /** In place, the plan's copies of plan chunk `index` whose keys fall in `partition` (after the reports' parts in name order). */
    foldPlanned: (partition: number, index: number) => `${root}fold/p${String(partition).padStart(4, '0')}/s${String(index).padStart(10, '0')}.jsonl`,
  };
};

/** The CSV manifest of some copies, exactly as Batch Operations reads it: `Bucket,Key,VersionId`, keys URL-encoded. */
export const manifestCsv = (sourceBucket: string, copies: readonly BatchCopy[]): string =>
  copies.map((c) => manifestCsvLine(sourceBucket, c.key, c.versionId) + '\n').join('');

/** Hands one copy to its phase's manifest of its storage class, waiting while that upload is behind. */
export type AddCopy = (phase: BatchPhase, copy: BatchCopy) => Promise<void>;

/**
 * Writes the manifests of the copies `feed` adds, one per phase and storage
 * class, into the work bucket as the lines come: each is streamed (a multipart
 * upload above one part), so nothing holds a manifest whole. CreateJob needs each
 * manifest's ETag: the upload's result. The parts have a fixed size, so the same
 * lines give the same ETag again (a retried step, the same jobs). Returns the
 * jobs to create, phases in order, storage classes in order; a phase without
 * copies has no job. If `feed` throws, no manifest is completed.
 */
export async function writeManifests(
  s3: S3Client,
  workBucket: string,
  restoreId: string,
  sourceBucket: string,
  feed: (add: AddCopy) => Promise<void>,
): Promise<BatchJobsState> {
  const manifests = new Map<string, { phase: BatchPhase; storageClass: string }>();
  const written = await writeLineStreams(new S3WorkStore(s3, workBucket), async (streams) => {
    await feed(async (phase, copy) => {
      const key = batchKeys(restoreId).manifest(phase, copy.storageClass);
      if (!streams.has(key)) {
        streams.open(key, 'text/csv');
        manifests.set(key, { phase, storageClass: copy.storageClass });
      }
      await streams.write(key, manifestCsvLine(sourceBucket, copy.key, copy.versionId));
    });
  });
  const jobs = written.map(({ key, etag, lines }): BatchJob => {
    if (!etag) throw new Error(`the upload of s3://${workBucket}/${key} returned no ETag`);
    const { phase, storageClass } = manifests.get(key)!;
    return { phase, storageClass, manifestKey: key, manifestEtag: etag, tasks: lines };
  });
  jobs.sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase) || (a.storageClass < b.storageClass ? -1 : a.storageClass > b.storageClass ? 1 : 0));
  return { restoreId, workBucket, jobs };
}

/** `writeManifests` of a split plan held in memory (`batchWorkOf`): each manifest's lines in key order. */
export function writeBatchManifests(s3: S3Client, workBucket: string, restoreId: string, sourceBucket: string, work: BatchWork): Promise<BatchJobsState> {
  return writeManifests(s3, workBucket, restoreId, sourceBucket, async (add) => {
    for (const phase of PHASES) for (const copy of work.copies[phase]) await add(phase, copy);
  });
}

export interface BatchJobOptions {
  readonly accountId: string;
  /** The role Batch Operations assumes: reads the source and the manifest, writes the destination and the reports. */
  readonly roleArn: string;
  /** @default 10 */
  readonly priority?: number;
  /** ARN partition. @default 'aws' */
  readonly partition?: string;
}

/** The `CreateJob` request of one job: PutObjectCopy of its manifest's versions to the destination, a report of all tasks. */
export function createJobInput(
  state: Pick<BatchJobsState, 'restoreId' | 'workBucket'>,
  job: BatchJob,
  destination: Destination,
  options: BatchJobOptions,
): CreateJobCommandInput {
  const arn = (resource: string) => `arn:${options.partition ?? 'aws'}:s3:::${resource}`;
  // TargetKeyPrefix "p" gives "p/<key>": our prefix "p/" without its slash.
  const targetKeyPrefix = destination.prefix.replace(/\/$/, '');
  const token = createHash('sha256')
    .update(JSON.stringify([state.restoreId, job.phase, job.storageClass, job.manifestEtag]))
    .digest('hex');
  return {
    AccountId: options.accountId,
    ConfirmationRequired: false,
    Operation: {
      S3PutObjectCopy: {
        TargetResource: arn(destination.bucket),
        ...(targetKeyPrefix ? { TargetKeyPrefix: targetKeyPrefix } : {}),
        MetadataDirective: 'COPY',
        ...(job.storageClass !== 'STANDARD' ? { StorageClass: job.storageClass as S3StorageClass } : {}),
      },
    },
    Manifest: {
      Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key', 'VersionId'] },
      Location: { ObjectArn: arn(`${state.workBucket}/${job.manifestKey}`), ETag: job.manifestEtag },
    },
    Report: {
      Bucket: arn(state.workBucket),
      Prefix: batchKeys(state.restoreId).reportPrefix,
      Format: 'Report_CSV_20180820',
      Enabled: true,
      ReportScope: 'AllTasks',
    },
    Priority: options.priority ?? 10,
    RoleArn: options.roleArn,
    ClientRequestToken: token.slice(0, 64),
    Description: `s3-rewind ${state.restoreId}: ${job.phase} versions (${job.storageClass})`,
  };
}

export interface BatchProgress {
  readonly state: BatchJobsState;
  /** Every job Complete. */
  readonly done: boolean;
  /** A job that Failed or was Cancelled: the restore's failure. */
  readonly failure?: string;
}

const FINISHED_BADLY = new Set(['Failed', 'Cancelled']);

/**
 * One step of the engine: creates a phase's jobs if they aren't yet, else asks
 * each its status; a phase's jobs are created only once every job of the phase
 * before is Complete (never before). `through` stops at that phase: `done` then
 * means every job up to it is Complete. Call it again until `done` or `failure`.
 */
export async function advanceBatchJobs(
  control: S3ControlClient,
  state: BatchJobsState,
  destination: Destination,
  options: BatchJobOptions,
  through: BatchPhase = 'current',
): Promise<BatchProgress> {
  const jobs = [...state.jobs];
  for (const phase of PHASES.slice(0, PHASES.indexOf(through) + 1)) {
    const indexes = jobs.flatMap((job, i) => (job.phase === phase ? [i] : []));
    if (indexes.length === 0) continue;
    for (const i of indexes) {
      const job = jobs[i]!;
      if (job.jobId === undefined) {
        const created = await control.send(new CreateJobCommand(createJobInput(state, job, destination, options)));
        if (!created.JobId) throw new Error(`CreateJob for ${job.manifestKey} returned no JobId`);
        jobs[i] = { ...job, jobId: created.JobId, status: 'New' };
      } else if (job.status !== 'Complete') {
        const described = await control.send(new DescribeJobCommand({ AccountId: options.accountId, JobId: job.jobId }));
        const status = described.Job?.Status ?? 'Unknown';
        jobs[i] = { ...job, status };
        if (FINISHED_BADLY.has(status)) {
          const reasons = (described.Job?.FailureReasons ?? []).map((r) => `${r.FailureCode}: ${r.FailureReason}`).join('; ');
          return { state: { ...state, jobs }, done: false, failure: `Batch Operations job ${job.jobId} (${phase}) ${status}${reasons ? `: ${reasons}` : ''}` };
        }
      }
    }
    // This phase still runs: the next one waits.
    if (indexes.some((i) => jobs[i]!.status !== 'Complete')) return { state: { ...state, jobs }, done: false };
  }
  return { state: { ...state, jobs }, done: true };
}

/** One CSV file of a job's completion report, with the job's phase. */
export interface CompletionReport {
  readonly phase: BatchPhase;
  readonly csv: string;
}

interface ReportManifest {
  readonly Results?: ReadonlyArray<{ readonly Bucket?: string; readonly Key?: string; readonly TaskExecutionStatus?: string }>;
}

const isNoSuchKey = (error: unknown): boolean => (error as { name?: string })?.name === 'NoSuchKey';

async function textOf(s3: S3Client, bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToString('utf8')) ?? '';
}

/** Where one completion report file lies, with its job's phase. */
export interface CompletionReportFile {
  readonly phase: BatchPhase;
  readonly bucket: string;
  readonly key: string;
}

/**
 * The completion report files of the jobs created so far, non-current jobs'
 * first (read from the jobs' report manifests: small). With `required`, a job
 * that has tasks and no report is an error (a Complete job has one); without,
 * such a job is skipped (a job that Failed before any task ran has none).
 */
export async function completionReportFiles(s3: S3Client, state: BatchJobsState, options: { readonly required: boolean }): Promise<CompletionReportFile[]> {
  const files: CompletionReportFile[] = [];
  const jobs = [...state.jobs].sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase));
  for (const job of jobs) {
    if (job.jobId === undefined) continue;
    const manifestKey = batchKeys(state.restoreId).reportManifest(job.jobId);
    let manifest: ReportManifest;
    try {
      manifest = JSON.parse(await textOf(s3, state.workBucket, manifestKey)) as ReportManifest;
    } catch (error) {
      if (!isNoSuchKey(error)) throw error;
      if (options.required && job.tasks > 0) {
        throw new Error(`Batch Operations job ${job.jobId} (${job.phase}) has no completion report at s3://${state.workBucket}/${manifestKey}`, {
          cause: error,
        });
      }
      continue;
    }
    for (const result of manifest.Results ?? []) {
      if (result.Key) files.push({ phase: job.phase, bucket: result.Bucket ?? state.workBucket, key: result.Key });
    }
  }
  return files;
}

/** One completion report file's text. */
export const readCompletionReport = async (s3: S3Client, file: CompletionReportFile): Promise<CompletionReport> => ({
  phase: file.phase,
  csv: await textOf(s3, file.bucket, file.key),
});

/** The key of a completion report line (URL-decoded), or undefined for a blank line. */
export function completionReportKey(text: string, line: number): string | undefined {
  if (text.trim() === '') return undefined;
  const [, encodedKey = ''] = csvFields(text.replace(/\r$/, ''), line);
  return decodeManifestKey(encodedKey, line);
}

/** The HTTP status and error code of a report line: real reports put the status first, though their schema names the code first. */
function statusAndCode(a: string, b: string): { status: number; code: string } {
  if (/^\d+$/.test(a)) return { status: Number(a), code: b };
  if (/^\d+$/.test(b)) return { status: Number(b), code: a };
  return { status: 0, code: a || b };
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * Folds Batch Operations completion reports (CSV: Bucket, Key, VersionId,
 * TaskStatus, then the HTTP status and the error code, then ResultMessage; keys
 * URL-encoded) into s3-rewind report rows, one per key: failed if any of its
 * tasks failed, else restored with the version its current-phase task copied;
 * a key whose non-current versions were copied but whose current one was not
 * (its job never ran that task) fails: its latest version is not the state at T.
 * Non-current reports must come before current ones (`completionReportFiles` order).
 * It holds a row per key, not the reports.
 *
 * The ReportSchema says `ErrorCode, HTTPStatusCode`, but the lines S3 writes
 * (the guide's own examples, and reports seen in the wild) read
 * `succeeded,200,,Successful` and `failed,404,NoSuchKey,...`: the numeric
 * field of the two is taken as the status, whichever comes first.
 */
export class CompletionReportFold {
  private readonly rowsByKey = new Map<string, KeyOutcome>();
  private readonly earlier = new Map<string, number>();
  private readonly failed = new Set<string>();

  constructor(private readonly destination?: Destination) {}

  add({ phase, csv }: CompletionReport): void {
    let line = 0;
    for (const text of csv.split('\n')) {
      line += 1;
      if (text.trim() === '') continue;
      const [bucket = '', encodedKey = '', versionId = '', status = '', a = '', b = '', ...message] = csvFields(text.replace(/\r$/, ''), line);
      const key = decodeManifestKey(encodedKey, line);
      if (this.failed.has(key)) continue;
      if (status !== 'succeeded') {
        this.failed.add(key);
        const { status: http, code } = statusAndCode(a, b);
        this.rowsByKey.set(key, {
          Bucket: bucket,
          Key: key,
          VersionId: versionId,
          TaskStatus: 'failed',
          ErrorCode: code,
          HTTPStatusCode: http,
          ResultMessage: message.join(','),
        });
        continue;
      }
      if (phase === 'noncurrent') {
        const copied = (this.earlier.get(key) ?? 0) + 1;
        this.earlier.set(key, copied);
        this.rowsByKey.set(key, {
          Bucket: bucket,
          Key: key,
          VersionId: '',
          TaskStatus: 'failed',
          ErrorCode: 'CurrentVersionNotCopied',
          HTTPStatusCode: 0,
          ResultMessage: `${plural(copied, 'earlier version')} copied by S3 Batch Operations, but not the current one: the job of current versions did not run it`,
        });
        continue;
      }
      const before = this.earlier.get(key) ?? 0;
      const where = this.destination ? ` to s3://${this.destination.bucket}/${this.destination.prefix}${key}` : ' over the current version';
      this.rowsByKey.set(key, {
        Bucket: bucket,
        Key: key,
        VersionId: versionId,
        TaskStatus: 'restored',
        ErrorCode: '',
        HTTPStatusCode: 200,
        ResultMessage: `copied version ${versionId}${before ? ` after ${plural(before, 'earlier version')}` : ''}${where} by S3 Batch Operations`,
      });
    }
  }

  /**
   * Keeps, for an undo, what the plan knew of a key Batch Operations copied (a
   * completion report names no new version id, so the undo finds the copies by
   * content): the entry current before, there or in place (`Before`), and
   * - in place (`copy`): the version copied, with its ETag and size (`Copied`);
   * - to another place (`copyTo`): every version the jobs copied to the
   *   destination key, newest first (`CopiedAll`; with history, both jobs').
   * Only on a key restored with the version the plan copied last; other actions and keys are ignored.
   */
  addPlanned(action: PlannedAction): void {
    if (action.action !== 'copy' && action.action !== 'copyTo') return;
    const sources = action.action === 'copy' ? [action.source] : action.writes;
    const copies = sources.flatMap((s): CopiedEntry[] =>
      s.isDeleteMarker || s.etag === undefined || s.size === undefined ? [] : [{ versionId: s.versionId, etag: s.etag, size: s.size }],
    );
    const row = this.rowsByKey.get(action.key);
    if (copies.length === 0 || copies.length !== sources.length || row?.TaskStatus !== 'restored' || row.VersionId !== copies.at(-1)!.versionId) return;
    this.rowsByKey.set(action.key, {
      ...row,
      Before: action.current,
      ...(action.action === 'copy' ? { Copied: copies[0]! } : { CopiedAll: copies.reverse() }),
    });
  }

  /** One row per key, in key order. */
  rows(): KeyOutcome[] {
    return [...this.rowsByKey.values()].sort((x, y) => compareKeys(x.Key, y.Key));
  }
}

/** `CompletionReportFold` over reports in any order, then the plan's actions (`addPlanned`: in place or to another place). */
export function foldCompletionReports(reports: readonly CompletionReport[], destination?: Destination, planned: readonly PlannedAction[] = []): KeyOutcome[] {
  const fold = new CompletionReportFold(destination);
  for (const report of [...reports].sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase))) fold.add(report);
  for (const action of planned) fold.addPlanned(action);
  return fold.rows();
}
