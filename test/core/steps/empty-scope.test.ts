/**
 * A key or prefix with nothing in it (a typo: `sites/` for `site/`) is refused
 * by the plan, from the first page it lists anyway, with the RequestError
 * validation gave before (naming the nearest names that exist): run through the
 * state machine's definition (the local runner, aws-local-stepfunctions) on the
 * local S3, the execution fails RequestError, nothing is written to the bucket,
 * no plan chunk is made, a destination lease validation took is given back, and
 * the run is never accepted (the CLI keeps no folder for it). Planned in key
 * ranges, it is refused once, by the one chain a partition that found nothing
 * leaves. Verify, which lists the same way, refuses nothing.
 */
import { expect } from '@jest/globals';
import { parseRestoreRequest, type RestoreRequestInput } from '#core/restore/request.ts';
import { workKeys } from '#core/steps/contracts.ts';
import { verifyRequest } from '#core/steps/verify.ts';
import { leaseKeyOf, S3LeaseStore } from '#core/targets/destination-lease.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { LocalExecutionError, runRestoreLocally, type RestoreEvent } from '../../../cli/local-runner.ts';
import { freshExecutionName, iso } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';
import { countRequests, historyLines, HistoryWriter, listHistory, sleep } from '../../support/history.ts';
import { testS3Client } from '../../support/s3.ts';

const fx = engineFixture('empty-scope');
const s3 = fx.s3;
const WRITES = ['CopyObjectCommand', 'DeleteObjectsCommand', 'DeleteObjectCommand', 'PutObjectCommand'];

let bucket: string;
let at: string;

beforeAll(async () => {
  bucket = await fx.versionedBucket('src');
  const w = new HistoryWriter(s3, bucket);
  await w.put('site/a.txt', 'a1');
  await w.put('site/b.txt', 'b1');
  await sleep(1100);
  at = iso(Date.now());
  await sleep(1100);
  await w.put('site/a.txt', 'a2');
});

interface Refusal {
  readonly error: unknown;
  /** Lambda tasks the execution ran, by state name, in order. */
  readonly tasks: string[];
  readonly events: Array<[string, string | undefined]>;
  /** Write commands sent to the source bucket. */
  readonly writes: number;
  /** Times the run was told it was accepted. */
  readonly accepted: number;
  readonly restoreId: string;
  /** The inputs of the commands of a kind the run sent (`PutObjectCommand`...). */
  readonly inputsOf: (command: string) => Array<Record<string, unknown>>;
}

/** Runs `request` through the definition locally, expecting it to fail. */
async function refused(request: RestoreRequestInput, options: { planRanges?: number } = {}): Promise<Refusal> {
  const client = testS3Client();
  const sent = countRequests(client);
  const tasks: string[] = [];
  const announced: RestoreEvent[] = [];
  let accepted = 0;
  const restoreId = freshExecutionName();
  const error = await runRestoreLocally(
    { request, restoreId },
    {
      s3: client,
      store: new S3WorkStore(s3, fx.workBucket()),
      ...(options.planRanges ? { planRanges: options.planRanges } : {}),
      onEvent: (e) => announced.push(e),
      onAccepted: () => void (accepted += 1),
      onPayload: (p) => void (p.what === 'task payload' && tasks.push(p.state)),
    },
  )
    .then(() => undefined)
    .catch((e: unknown) => e)
    .finally(() => client.destroy());
  const writes = WRITES.flatMap((command) => sent.inputs(command)).filter((input) => input.Bucket === bucket).length;
  const events = announced.map((e): [string, string | undefined] => [e.detailType, (e.detail as { status?: string }).status]);
  return { error, tasks, events, writes, accepted, restoreId, inputsOf: (command) => sent.inputs(command) };
}

const planChunks = async (restoreId: string) => {
  const keys: string[] = [];
  for await (const key of new S3WorkStore(s3, fx.workBucket()).keys(`${workKeys(restoreId).root}plan/`)) keys.push(key);
  return keys;
};

describe.each(['copy', 'delete'] as const)('%s mode, through the definition run locally', (mode) => {
  const modeFields = mode === 'delete' ? { mode, confirmPermanentDelete: true } : {};

  test('a prefix nothing has fails RequestError naming the nearest prefix, refused by the plan, with nothing written and the run never accepted', async () => {
    const before = historyLines(await listHistory(s3, bucket));

    const run = await refused({ bucket, prefix: 'sites/', at, ...modeFields });

    expect(run.error).toBeInstanceOf(LocalExecutionError);
    expect(run.error).toMatchObject({
      error: 'RequestError',
      message: expect.stringContaining(
        `nothing is under s3://${bucket}/sites/: no key, version or delete marker has that prefix, so there is nothing to restore; the nearest that exist: s3://${bucket}/site/`,
      ),
    });
    expect(run.tasks).toEqual(['Validate Request', 'Partition Scope', 'Plan Chunks', 'Report Failure']);
    expect(run.events).toEqual([['Restore Failed', 'FAILED']]);
    expect(run.writes).toBe(0);
    expect(await planChunks(run.restoreId)).toEqual([]);
    expect(run.accepted).toBe(0);
    expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
  });

  test('a prefix given as a key (site, keys under site/) fails RequestError saying to add --recursive, with nothing written', async () => {
    const run = await refused({ bucket, key: 'site', at, ...modeFields });

    expect(run.error).toMatchObject({
      error: 'RequestError',
      message: expect.stringContaining(
        `s3://${bucket}/site is not a key, but keys start with it (site/a.txt): add --recursive to restore every key under s3://${bucket}/site/`,
      ),
    });
    expect(run.writes).toBe(0);
    expect(run.accepted).toBe(0);
  });
});

test('planned in 4 key ranges, a prefix nothing has is refused once, by the one chain the empty partition leaves, and no range is planned', async () => {
  const run = await refused({ bucket, prefix: 'sites/', at }, { planRanges: 4 });

  expect(run.error).toMatchObject({ error: 'RequestError', message: expect.stringContaining(`nothing is under s3://${bucket}/sites/`) });
  expect(run.tasks).toEqual(['Validate Request', 'Partition Scope', 'Plan Chunks', 'Report Failure']);
  expect(run.writes).toBe(0);
  expect(run.accepted).toBe(0);
});

test('a restore of a prefix nothing has to another bucket gives back the destination lease validation took, and writes nothing there', async () => {
  const destination = await fx.versionedBucket('dst');

  const run = await refused({ bucket, prefix: 'sites/', at, to: `s3://${destination}/restored/` });

  expect(run.error).toMatchObject({ error: 'RequestError', message: expect.stringContaining(`nothing is under s3://${bucket}/sites/`) });
  // Taken by validation (PutObject If-None-Match), deleted by Report Failure.
  const onLease = (command: string) => run.inputsOf(command).filter((input) => input.Key === leaseKeyOf(destination)).length;
  expect([onLease('PutObjectCommand'), onLease('DeleteObjectCommand')]).toEqual([1, 1]);
  expect(await new S3LeaseStore(s3, fx.workBucket()).read(leaseKeyOf(destination))).toBeUndefined();
  expect(await listHistory(s3, destination)).toEqual([]);
});

test('a prefix with keys is accepted before anything of it is written, and lists its first page once', async () => {
  const client = testS3Client();
  const sent = countRequests(client);
  const store = new S3WorkStore(s3, fx.workBucket());
  const restoreId = freshExecutionName();
  const writtenWhenAccepted: string[][] = [];

  const summary = await runRestoreLocally(
    { request: { bucket, prefix: 'site/', at, dryRun: true }, restoreId },
    {
      s3: client,
      store,
      onAccepted: async () => {
        const keys: string[] = [];
        for await (const key of store.keys(workKeys(restoreId).root)) keys.push(key);
        writtenWhenAccepted.push(keys);
      },
    },
  ).finally(() => client.destroy());

  expect(summary.status).toBe('PLANNED');
  expect(summary.planned).toMatchObject({ keys: 2, copies: 1, unchanged: 1 });
  expect(writtenWhenAccepted).toEqual([[]]);
  expect(sent.inputs('ListObjectVersionsCommand').filter((input) => input.Bucket === bucket)).toHaveLength(1);
});

test('verify of a prefix nothing has finds no key to differ: it refuses nothing, as a scope emptied by a delete-mode restore is as it should be', async () => {
  const verdicts = [];
  for await (const verdict of verifyRequest(s3, new S3WorkStore(s3, fx.workBucket()), parseRestoreRequest({ bucket, prefix: 'sites/', at })))
    verdicts.push(verdict);

  expect(verdicts).toEqual([]);
});
