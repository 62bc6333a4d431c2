/**
 * Each command of the real binary against the local S3, from a bucket with an
 * incident in its history to the state it should end in. Every test has its own
 * bucket and S3_REWIND_HOME, so they run concurrently.
 */
import { expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPORT_COLUMNS, type KeyAction, type KeyOutcome } from '../../lambdas/core/restore/model.ts';
import type { RestoreSummary } from '../../lambdas/core/steps/contracts.ts';
import type { KeyVersionsDocument } from '../../cli/versions-command.ts';
import { bodyOf, HistoryWriter, historyLines, instantAtCut, listHistory, removeBucket, sleep, type Entry } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket } from '../support/s3.ts';
import { messageLines, runCli, runCliOnTerminal, cliFixture } from './run-cli.ts';

const { s3, home, cleanUp } = cliFixture();

interface Incident {
  readonly bucket: string;
  readonly writer: HistoryWriter;
  /** The restore point: after the first writes, before the incident. */
  readonly at: string;
  readonly before: Entry[];
}

/**
 * Under `site/`: a.txt overwritten, b.txt deleted, c.txt added after the restore
 * point, d.txt and a.txt.bak untouched; `site.bak`, outside the prefix, changed too.
 */
async function incident(label: string, options: { objectLock?: boolean } = {}): Promise<Incident> {
  const bucket = await createVersionedBucket(s3, label, { objectLock: options.objectLock === true });
  cleanUp(() => (options.objectLock ? removeBucket(s3, bucket) : emptyAndDeleteBucket(s3, bucket)));
  const writer = new HistoryWriter(s3, bucket);
  await writer.put('site/a.txt', 'a1');
  await writer.put('site/a.txt.bak', 'a-backup');
  await writer.put('site/b.txt', 'b1');
  await writer.put('site/d.txt', 'd1');
  await writer.put('site.bak', 'x1');
  const cut = writer.log.length;
  await sleep(50);
  await writer.put('site/a.txt', 'a2');
  await writer.del('site/b.txt');
  await writer.put('site/c.txt', 'c1');
  await writer.put('site.bak', 'x2');
  const before = await listHistory(s3, bucket);
  return { bucket, writer, at: new Date(instantAtCut(writer, before, cut)).toISOString(), before };
}

const bodies = async (bucket: string, keys: readonly string[]) =>
  Object.fromEntries(await Promise.all(keys.map(async (key) => [key, await bodyOf(s3, bucket, key)] as const)));

const KEYS = ['site/a.txt', 'site/a.txt.bak', 'site/b.txt', 'site/c.txt', 'site/d.txt', 'site.bak'];
const AT_THE_RESTORE_POINT = { 'site/a.txt': 'a1', 'site/a.txt.bak': 'a-backup', 'site/b.txt': 'b1', 'site/c.txt': null, 'site/d.txt': 'd1', 'site.bak': 'x2' };

describe('versions', () => {
  test.concurrent('lists exactly the key, newest first, as a table and as JSON', async () => {
    // Prepare
    const { bucket, writer } = await incident('cli-versions');
    const [a1, a2] = writer.writesOf('site/a.txt').map((w) => w.versionId);

    // Act
    const table = await runCli(['versions', `s3://${bucket}/site/a.txt`], { home: await home() });
    const json = await runCli(['versions', `s3://${bucket}/site/a.txt`, '--json'], { home: await home() });

    // Assess
    expect(table).toMatchObject({ code: 0, stderr: '' });
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toBe(`s3://${bucket}/site/a.txt: 2 entries, newest first`);
    expect(rows[1]).toMatch(/^LATEST +LAST MODIFIED +TYPE +SIZE +STORAGE CLASS +VERSION ID$/);
    expect(rows[2]).toMatch(new RegExp(`^\\* +\\S+Z +version +2 +STANDARD +${escape(a2!)}$`));
    expect(rows[3]).toMatch(new RegExp(`^ +\\S+Z +version +2 +STANDARD +${escape(a1!)}$`));
    expect(rows).toHaveLength(4);

    expect(json.code).toBe(0);
    const document = JSON.parse(json.stdout) as KeyVersionsDocument;
    expect(document).toEqual({
      bucket,
      key: 'site/a.txt',
      versions: [
        { versionId: a2, isDeleteMarker: false, isLatest: true, lastModified: expect.any(String), size: 2, etag: expect.any(String), storageClass: 'STANDARD' },
        {
          versionId: a1,
          isDeleteMarker: false,
          isLatest: false,
          lastModified: expect.any(String),
          size: 2,
          etag: expect.any(String),
          storageClass: 'STANDARD',
        },
      ],
    });
    expect(Date.parse(document.versions[0]!.lastModified)).toBeGreaterThan(Date.parse(document.versions[1]!.lastModified));
  });

  test.concurrent('shows a delete marker on top of the versions', async () => {
    // Prepare
    const { bucket } = await incident('cli-versions-marker');

    // Act
    const result = await runCli(['versions', `s3://${bucket}/site/b.txt`, '--json'], { home: await home() });

    // Assess
    const document = JSON.parse(result.stdout) as KeyVersionsDocument;
    expect(document.versions.map((v) => [v.isDeleteMarker, v.isLatest])).toEqual([
      [true, true],
      [false, false],
    ]);
  });
});

describe('plan', () => {
  test.concurrent('shows totals, then with --all per-key actions, for a prefix at a point in time, and writes nothing', async () => {
    // Prepare
    const { bucket, at, before } = await incident('cli-plan');

    // Act
    const table = await runCli(['plan', `s3://${bucket}/site/`, '--recursive', '--at', at, '--all'], { home: await home() });
    const json = await runCli(['plan', `s3://${bucket}/site/`, '--recursive', '--at', at, '--json', '--mode', 'delete'], { home: await home() });

    // Assess
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    const header = lines.findIndex((l) => /^ACTION +KEY +DETAIL$/.test(l));
    expect(header).toBeGreaterThan(0);
    expect(lines.slice(header + 1, header + 5).map((l) => l.split(/ +/).slice(0, 2))).toEqual([
      ['restore', 'site/a.txt'],
      ['unchanged', 'site/a.txt.bak'],
      ['restore', 'site/b.txt'],
      ['hide', 'site/c.txt'],
    ]);
    expect(table.stdout).toContain('totals: 5 keys: restore 2, hide 1, unchanged 2 (2 copies, 1 delete marker added)');
    expect(table.stdout).toContain('dry run: nothing was written');

    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout) as { summary: RestoreSummary; actions: KeyAction[] };
    expect(plan.summary).toMatchObject({ status: 'PLANNED', dryRun: true, mode: 'delete', report: null });
    expect(plan.summary.planned).toMatchObject({ keys: 5, restore: 2, delete: 1, undelete: 0, unchanged: 2, deletions: 3 });
    expect(plan.actions.map((a) => [a.key, a.action])).toEqual([
      ['site/a.txt', 'deleteEntries'],
      ['site/a.txt.bak', 'unchanged'],
      ['site/b.txt', 'deleteEntries'],
      ['site/c.txt', 'deleteEntries'],
      ['site/d.txt', 'unchanged'],
    ]);
    expect(historyLines(await listHistory(s3, bucket))).toEqual(historyLines(before));
  });
});

describe('restore', () => {
  test.concurrent('copy mode brings a prefix back to the point in time, keeps every version and writes the report as CSV', async () => {
    // Prepare
    const { bucket, at, before } = await incident('cli-copy');
    const dir = await home();
    const reportFile = join(dir, 'report.csv');

    // Act
    const result = await runCli(['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--report', reportFile, '--json'], { home: dir });

    // Assess
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as RestoreSummary;
    expect(summary).toMatchObject({ status: 'SUCCEEDED', mode: 'copy', dryRun: false, bucket, scope: `s3://${bucket}/site/` });
    expect(summary.counts).toEqual({ restored: 2, deleted: 1, undeleted: 0, unchanged: 2, failed: 0 });
    expect(summary.restoreId).toMatch(/^copy-[0-9a-f]{20}$/);
    expect(await bodies(bucket, KEYS)).toEqual(AT_THE_RESTORE_POINT);
    const after = historyLines(await listHistory(s3, bucket), { latest: false });
    expect(after).toEqual(expect.arrayContaining(historyLines(before, { latest: false })));

    const csv = readFileSync(reportFile, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage');
    expect(csv.slice(1).map((line) => line.split(',').slice(0, 4).concat(line.split(',')[5]!))).toEqual([
      [bucket, 'site%2Fa.txt', expect.any(String), 'restored', '200'],
      [bucket, 'site%2Fa.txt.bak', expect.any(String), 'unchanged', '200'],
      [bucket, 'site%2Fb.txt', expect.any(String), 'restored', '200'],
      [bucket, 'site%2Fc.txt', '', 'deleted', '200'],
      [bucket, 'site%2Fd.txt', expect.any(String), 'unchanged', '200'],
    ]);
  });

  test.concurrent('delete mode with --yes removes every newer entry, and writes the report as JSON lines', async () => {
    // Prepare
    const { bucket, at, before } = await incident('cli-delete');
    const dir = await home();
    const reportFile = join(dir, 'report.jsonl');

    // Act
    const result = await runCli(['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--mode', 'delete', '--yes', '--report', reportFile], {
      home: dir,
    });

    // Assess
    expect(result.code).toBe(0);
    expect(await bodies(bucket, KEYS)).toEqual(AT_THE_RESTORE_POINT);
    const kept = before.filter((e) => !e.key.startsWith('site/') || e.lastModified <= Date.parse(at));
    expect(historyLines(await listHistory(s3, bucket), { latest: false })).toEqual(historyLines(kept, { latest: false }));
    expect(result.stdout).toMatch(/^SUCCEEDED: s3:\/\/\S+\/site\/ to \S+ \(delete mode\)$/m);
    expect(result.stdout).toContain('restored 2, deleted 1, undeleted 0, unchanged 2, failed 0');
    expect(result.stdout).toMatch(/restore id: delete-[0-9a-f]{20}/);

    const rows = readFileSync(reportFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as KeyOutcome);
    expect(rows).toHaveLength(5);
    // Every Batch Operations column, plus what undo reads (the entry before, what was written or removed) and nothing else.
    const undoFields = ['Before', 'Wrote', 'Removed'];
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(expect.arrayContaining([...REPORT_COLUMNS]));
      expect(Object.keys(row).filter((k) => !(REPORT_COLUMNS as readonly string[]).includes(k) && !undoFields.includes(k))).toEqual([]);
    }
    // Delete mode names what it removed for good.
    expect(rows.find((r) => r.Key === 'site/c.txt')?.Removed?.length).toBeGreaterThan(0);
    expect(rows.find((r) => r.Key === 'site/c.txt')).toMatchObject({ TaskStatus: 'deleted', VersionId: '' });
  });

  test.concurrent('one key to a version id', async () => {
    // Prepare
    const { bucket, writer } = await incident('cli-version-id');
    const first = writer.writesOf('site/a.txt')[0]!.versionId;

    // Act
    const result = await runCli(['restore', `s3://${bucket}/site/a.txt`, '--version-id', first, '--json'], { home: await home() });

    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'SUCCEEDED', counts: { restored: 1, failed: 0 } });
    expect(await bodies(bucket, ['site/a.txt', 'site/a.txt.bak'])).toEqual({ 'site/a.txt': 'a1', 'site/a.txt.bak': 'a-backup' });
  });

  test.concurrent('exits 1 when a key fails (a newer version under legal hold), naming the report', async () => {
    // Prepare
    const { bucket, at, writer } = await incident('cli-held', { objectLock: true });
    const held = await writer.put('site/d.txt', 'd2', { ObjectLockLegalHoldStatus: 'ON' });
    const dir = await home();

    // Act
    const result = await runCli(['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--mode', 'delete', '--yes'], { home: dir });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^PARTIAL: /);
    expect(result.stdout).toContain('failed 1');
    expect(result.stdout).toContain('site/d.txt:');
    const errors = messageLines(result.stderr);
    expect(errors.at(-1)).toMatch(new RegExp(`^error: 1 key failed: see the report at ${escape(dir)}/restores/delete-[0-9a-f]{20}/runs/1/report\\.csv$`));
    const report = readFileSync(errors.at(-1)!.replace(/^.* at /, ''), 'utf8');
    expect(report).toMatch(/^\S+,site%2Fd\.txt,[^,]*,failed,/m);
    expect(await bodies(bucket, ['site/a.txt', 'site/d.txt'])).toEqual({ 'site/a.txt': 'a1', 'site/d.txt': 'd2' });
    expect((await listHistory(s3, bucket)).some((e) => e.versionId === held)).toBe(true);
  });
});

describe('undelete and status', () => {
  test.concurrent('undelete brings back the deleted keys of a prefix; status shows the local run', async () => {
    // Prepare
    const { bucket } = await incident('cli-undelete');
    const dir = await home();

    // Act
    const result = await runCli(['undelete', `s3://${bucket}/site/`, '--recursive'], { home: dir });
    const restoreId = /restore id: (\S+)/.exec(result.stdout)?.[1] ?? '';
    const status = await runCli(['status', restoreId, '--json'], { home: dir });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('restored 0, hidden 0, undeleted 1, unchanged 4, failed 0');
    expect(await bodies(bucket, ['site/b.txt', 'site/a.txt', 'site/c.txt'])).toEqual({ 'site/b.txt': 'b1', 'site/a.txt': 'a2', 'site/c.txt': 'c1' });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ restoreId, status: 'SUCCEEDED', summary: { restoreId, counts: { undeleted: 1 } } });
  });
});

describe('delete mode on a terminal', () => {
  test.concurrent(
    'typing the bucket name confirms: undelete in delete mode, which the prompt says no undo can take back, removes the delete marker',
    async () => {
      // Prepare
      const { bucket, writer } = await incident('cli-terminal');
      const marker = writer.writesOf('site/b.txt').find((w) => w.kind === 'deleteMarker')!.versionId;

      // Act
      const result = await runCliOnTerminal(['undelete', `s3://${bucket}/site/`, '--recursive', '--mode', 'delete'], `${bucket}\n`, { home: await home() });

      // Assess
      expect(result.stdout).toContain('Delete mode permanently deletes every version and delete marker newer than the restore point');
      expect(result.stdout).toContain("s3-rewind undo can't take this restore back");
      expect(result.code).toBe(0);
      expect(await bodyOf(s3, bucket, 'site/b.txt')).toBe('b1');
      expect((await listHistory(s3, bucket)).some((e) => e.versionId === marker)).toBe(false);
    },
  );
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
