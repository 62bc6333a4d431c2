/**
 * The record of local runs, through the real binary against the local S3: each
 * run of a restore id keeps its own folder (`restores/<id>/runs/<n>/`), a refused
 * re-run hides nothing, `status` lists and reads every run, the restore point's
 * time shows wherever the restore is described, and Ctrl-C settles what is in
 * flight before it writes the run's report.
 */
import { expect } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyOutcome } from '../../lambdas/core/restore/model.ts';
import type { RestoreSummary } from '../../lambdas/core/steps/contracts.ts';
import type { StatusDocument } from '../../cli/status-command.ts';
import { bodyOf, HistoryWriter, instantAtCut, listHistory, sleep } from '../support/history.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { createVersionedBucket, emptyAndDeleteBucket } from '../support/s3.ts';
import { messageLines, runCli, cliFixture } from './run-cli.ts';

const { s3, home, cleanUp } = cliFixture();

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await FaultProxy.start();
});
afterEach(() => proxy.clearRules());
afterAll(() => proxy.stop());

/** `count` keys under `site/`, each written twice; the restore point is between the two writes. */
async function overwritten(label: string, count: number): Promise<{ bucket: string; at: string; keys: string[] }> {
  const bucket = await createVersionedBucket(s3, label);
  cleanUp(() => emptyAndDeleteBucket(s3, bucket));
  const writer = new HistoryWriter(s3, bucket);
  const keys = Array.from({ length: count }, (_, i) => `site/k${String(i).padStart(3, '0')}.txt`);
  for (const key of keys) await writer.put(key, `${key} v1`);
  const cut = writer.log.length;
  await sleep(50);
  for (const key of keys) await writer.put(key, `${key} v2`);
  return { bucket, at: new Date(instantAtCut(writer, await listHistory(s3, bucket), cut)).toISOString(), keys };
}

const reportLine = (stdout: string) => /^ {2}report: (.+)$/m.exec(stdout)?.[1];
const csvRows = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));
const jsonRows = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as KeyOutcome);

describe('runs of one restore id', () => {
  test('a re-run refused for a wrong secret leaves the earlier run where its report was printed, and status still reads it', async () => {
    // Prepare
    const { bucket, at } = await overwritten('cli-runs-refused', 3);
    const dir = await home();
    const args = ['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--yes', '--no-progress'];
    const first = await runCli(args, { home: dir });
    expect(first.code).toBe(0);
    const report = reportLine(first.stdout)!;
    const restoreId = /restore id: (\S+)/.exec(first.stdout)![1]!;

    // Act
    const refused = await runCli(args, { home: dir, env: { AWS_SECRET_ACCESS_KEY: 'not-the-secret' } });
    const status = await runCli(['status', restoreId], { home: dir });

    // Assess
    expect(refused.code).toBe(2);
    expect(existsSync(report)).toBe(true);
    expect(report).toBe(join(dir, 'restores', restoreId, 'runs', '1', 'report.csv'));
    expect(readdirSync(join(dir, 'restores', restoreId, 'runs'))).toEqual(['1']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^restore ${restoreId} \\(local run 1 of 1\\)\\nSUCCEEDED: `));
    expect(status.stdout).toContain(`report: ${report}`);
  });

  test('status lists both runs of a restore run twice, reads the latest, and --run 1 the first', async () => {
    // Prepare
    const { bucket, at } = await overwritten('cli-runs-two', 2);
    const dir = await home();
    const args = ['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--yes', '--no-progress'];
    const first = await runCli(args, { home: dir });
    const second = await runCli(args, { home: dir });
    const restoreId = /restore id: (\S+)/.exec(first.stdout)![1]!;

    // Act
    const latest = await runCli(['status', restoreId], { home: dir });
    const json = await runCli(['status', restoreId, '--json'], { home: dir });
    const earlier = await runCli(['status', restoreId, '--run', '1', '--json'], { home: dir });
    const missing = await runCli(['status', restoreId, '--run', '3'], { home: dir });

    // Assess
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(reportLine(second.stdout)).toBe(join(dir, 'restores', restoreId, 'runs', '2', 'report.csv'));
    expect(latest.code).toBe(0);
    expect(latest.stdout).toMatch(new RegExp(`^restore ${restoreId} \\(local run 2 of 2\\)`));
    expect(latest.stdout).toMatch(/^ {4}run 1: SUCCEEDED \S+Z {2}\S+\/runs\/1\/report\.csv$/m);
    expect(latest.stdout).toMatch(/^ {2}\* run 2: SUCCEEDED \S+Z {2}\S+\/runs\/2\/report\.csv$/m);
    const document = JSON.parse(json.stdout) as StatusDocument;
    expect(document).toMatchObject({ restoreId, status: 'SUCCEEDED', run: 2 });
    expect(document.runs?.map((r) => [r.run, r.status])).toEqual([
      [1, 'SUCCEEDED'],
      [2, 'SUCCEEDED'],
    ]);
    expect(document.summary?.counts).toMatchObject({ restored: 0, unchanged: 2 });
    const one = JSON.parse(earlier.stdout) as StatusDocument;
    expect(one).toMatchObject({ run: 1, summary: { counts: { restored: 2 } } });
    expect(missing.code).toBe(2);
    expect(messageLines(missing.stderr)[0]).toBe(`error: restore ${restoreId} has no local run 3 (its runs: 1, 2)`);
  });

  test('runs of the single-folder layout (restores/<id>/ and a set-aside restores/<id>.<time>/) are still read by status, as the first runs', async () => {
    // Prepare: a restore whose run is moved back to the old layout, restores/<id>/ itself, and a copy set aside as an earlier run.
    const { bucket, at } = await overwritten('cli-runs-legacy', 1);
    const dir = await home();
    const args = ['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--yes', '--no-progress'];
    const first = await runCli(args, { home: dir });
    const restoreId = /restore id: (\S+)/.exec(first.stdout)![1]!;
    const root = join(dir, 'restores', restoreId);
    renameSync(join(root, 'runs', '1'), `${root}.old`);
    rmSync(root, { recursive: true });
    renameSync(`${root}.old`, root);
    cpSync(root, `${root}.20260101T000000Z`, { recursive: true });

    // Act
    const status = await runCli(['status', restoreId], { home: dir });
    const again = await runCli(args, { home: dir });
    const all = await runCli(['status', restoreId, '--json'], { home: dir });

    // Assess
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^restore ${restoreId} \\(local run 2 of 2\\)\\nSUCCEEDED: `));
    expect(again.code).toBe(0);
    expect(reportLine(again.stdout)).toBe(join(root, 'runs', '3', 'report.csv'));
    expect((JSON.parse(all.stdout) as StatusDocument).runs?.map((r) => [r.run, r.dir])).toEqual([
      [1, `${root}.20260101T000000Z`],
      [2, root],
      [3, join(root, 'runs', '3')],
    ]);
  });
});

describe('the restore point in time', () => {
  test('a relative --at shows as the UTC instant and as typed in the plan, its JSON, the summary, its file and status', async () => {
    // Prepare: the restore point after every write, so nothing changes.
    const { bucket } = await overwritten('cli-runs-time', 2);
    await sleep(1_100);
    const dir = await home();
    const instant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

    // Act
    const plan = await runCli(['plan', `s3://${bucket}/site/`, '--recursive', '--at', '1s ago'], { home: dir });
    const planJson = await runCli(['plan', `s3://${bucket}/site/`, '--recursive', '--at', '1s ago', '--json'], { home: dir });
    const restore = await runCli(['restore', `s3://${bucket}/site/`, '--recursive', '--at', '1s  ago', '--yes', '--no-progress', '--json'], { home: dir });
    const summary = JSON.parse(restore.stdout) as RestoreSummary;
    const status = await runCli(['status', summary.restoreId], { home: dir });
    const statusJson = await runCli(['status', summary.restoreId, '--json'], { home: dir });

    // Assess
    expect(plan.code).toBe(0);
    expect(plan.stdout.split('\n')[0]).toMatch(
      new RegExp(`^s3://${bucket}/site/ to \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z \\(1s ago\\) \\(copy mode\\)$`),
    );
    expect((JSON.parse(planJson.stdout) as { summary: RestoreSummary }).summary).toMatchObject({ at: expect.stringMatching(instant), atInput: '1s ago' });
    expect(restore.code).toBe(0);
    expect(summary).toMatchObject({ at: expect.stringMatching(instant), atInput: '1s ago' });
    const file = JSON.parse(readFileSync(join(dir, 'restores', summary.restoreId, 'runs', '1', 'summary.json'), 'utf8')) as RestoreSummary;
    expect(file).toMatchObject({ at: summary.at, atInput: '1s ago' });
    expect(status.stdout).toContain(`SUCCEEDED: s3://${bucket}/site/ to ${summary.at} (1s ago) (copy mode)`);
    expect(JSON.parse(statusJson.stdout) as StatusDocument).toMatchObject({ at: summary.at, atInput: '1s ago' });
  });
});

/** Runs the binary through the proxy and sends it Ctrl-C (SIGINT) when `interruptWhen` says so. */
async function interrupted(args: readonly string[], dir: string, arm: (interrupt: () => void) => void) {
  let child: ChildProcess | undefined;
  let sent = false;
  const interrupt = () => {
    if (sent) return;
    sent = true;
    child?.kill('SIGINT');
  };
  arm(interrupt);
  let inFlightWhenPrinted: number | undefined;
  const result = await runCli(args, {
    home: dir,
    env: { AWS_ENDPOINT_URL_S3: proxy.endpoint },
    started: (c) => {
      child = c;
      c.stderr!.on('data', (chunk: Buffer | string) => {
        if (inFlightWhenPrinted === undefined && /^interrupted:/m.test(String(chunk))) inFlightWhenPrinted = proxy.stats.inFlight;
      });
    },
  });
  return { ...result, sent, inFlightWhenPrinted };
}

describe('Ctrl-C', () => {
  test('copy mode: the interrupted run reports exactly the keys it restored, and the report of the run after it credits them to it', async () => {
    // Prepare: copies answered slowly, two at a time; Ctrl-C when the fifth copy is asked for.
    const { bucket, at, keys } = await overwritten('cli-runs-sigint', 24);
    const dir = await home();
    let copies = 0;
    const args = ['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--yes', '--no-progress', '--concurrency', '2'];

    // Act
    const run = await interrupted(args, dir, (interrupt) =>
      proxy.addRule({
        name: 'slow copies',
        when: (r) => {
          if (r.bucket !== bucket || r.operation !== 'CopyObject') return false;
          if (++copies === 5) interrupt();
          return true;
        },
        action: { kind: 'delay', ms: 300 },
      }),
    );

    // Assess
    expect(run.sent).toBe(true);
    expect(run.code).toBe(130);
    const notice = messageLines(run.stderr).find((line) => line.startsWith('interrupted:'));
    const report = /in the report (\S+\.csv);/.exec(notice ?? '')?.[1];
    expect(report).toBeDefined();
    const restoredNow = [];
    for (const key of keys) if ((await bodyOf(s3, bucket, key)) === `${key} v1`) restoredNow.push(key);
    const listed = csvRows(report!)
      .filter((row) => row[3] === 'restored')
      .map((row) => decodeURIComponent(row[1]!));
    expect(restoredNow.length).toBeGreaterThanOrEqual(4);
    expect(restoredNow.length).toBeLessThan(keys.length);
    expect(listed).toEqual(restoredNow);
    const summary = JSON.parse(readFileSync(join(report!, '..', 'summary.json'), 'utf8')) as RestoreSummary;
    expect(summary).toMatchObject({ status: 'INTERRUPTED', counts: { restored: restoredNow.length, failed: 0 } });
    expect(existsSync(join(report!, '..', 'interrupted'))).toBe(true);

    const status = await runCli(['status', summary.restoreId], { home: dir });
    expect(status.stdout).toMatch(/\(local run 1 of 1, interrupted\)/);
    proxy.clearRules();
    const rerun = await runCli(args, { home: dir });
    expect(rerun.code).toBe(0);
    const rows = jsonRows(reportLine(rerun.stdout)!.replace(/\.csv$/, '.jsonl'));
    expect(rows.map((r) => [r.Key, r.TaskStatus])).toEqual(keys.map((k) => [k, 'restored']));
    expect(rows.filter((r) => /^written by the interrupted run 1: /.test(r.ResultMessage)).map((r) => r.Key)).toEqual(restoredNow);
    expect(rerun.stdout).toMatch(/^ {2}restored 24, /m);
    expect(csvRows(reportLine(rerun.stdout)!).filter((row) => row[3] === 'restored')).toHaveLength(24);
  });

  test('delete mode: a DeleteObjects in flight at Ctrl-C is answered before "interrupted" is printed, and its keys are in the report', async () => {
    // Prepare: the first DeleteObjects answered a second late; Ctrl-C as it arrives.
    const { bucket, at, keys } = await overwritten('cli-runs-sigint-delete', 6);
    const dir = await home();
    let batchKeys: string[] = [];

    // Act
    const run = await interrupted(
      ['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--mode', 'delete', '--yes', '--no-progress'],
      dir,
      (interrupt) =>
        proxy.addRule({
          name: 'slow first delete batch',
          times: 1,
          when: (r) => {
            if (r.bucket !== bucket || r.operation !== 'DeleteObjects') return false;
            batchKeys = [...new Set(r.deleteEntries!.map((e) => e.key))].sort();
            interrupt();
            return true;
          },
          action: { kind: 'delay', ms: 1_000 },
        }),
    );

    // Assess
    expect(run.sent).toBe(true);
    expect(run.code).toBe(130);
    expect(run.inFlightWhenPrinted).toBe(0);
    expect(batchKeys.length).toBeGreaterThan(0);
    const notice = messageLines(run.stderr).find((line) => line.startsWith('interrupted:'));
    const report = /in the report (\S+\.csv);/.exec(notice ?? '')?.[1];
    expect(report).toBeDefined();
    const history = await listHistory(s3, bucket);
    const deletedNow = keys.filter((key) => history.filter((e) => e.key === key).length === 1);
    expect(deletedNow).toEqual(batchKeys);
    const listed = jsonRows(report!.replace(/\.csv$/, '.jsonl'))
      .filter((r) => r.TaskStatus === 'restored')
      .map((r) => r.Key);
    expect(listed).toEqual(batchKeys);
  });
});
