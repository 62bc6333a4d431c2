/**
 * The report step (`writeReport`) streams the outcome files into the CSV and
 * JSON-lines reports: rows in the order of the outcome files' keys (act steps'
 * chunks, then the Batch Operations engine's files), each file's rows as it
 * holds them, counted into the summary. Against the file work store, in a
 * temporary directory.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchKeys } from '#core/batch-operations/jobs.ts';
import type { KeyOutcome, TaskStatus } from '#core/restore/model.ts';
import { CSV_HEADER, csvLine, writeReport } from '#core/steps/report.ts';
import { parseRestoreRequest } from '#core/restore/request.ts';
import { workKeys } from '#core/steps/contracts.ts';
import { FileWorkStore } from '../../../cli/file-work-store.ts';

const restoreId = 'copy-0123456789abcdef0123';
const keys = workKeys(restoreId);
const request = parseRestoreRequest({ bucket: 'src', prefix: 'app/', at: '2026-01-01T00:00:00Z' });
const input = { restoreId, workBucket: 'work-bucket', request };

const row = (Key: string, TaskStatus: TaskStatus, ResultMessage = `${TaskStatus} "as planned", with a comma`): KeyOutcome => ({
  Bucket: 'src',
  Key,
  VersionId: TaskStatus === 'failed' ? '' : `v-${Key}`,
  TaskStatus,
  ErrorCode: TaskStatus === 'failed' ? 'AccessDenied' : '',
  HTTPStatusCode: TaskStatus === 'failed' ? 403 : 200,
  ResultMessage,
});

let dir: string;
let store: FileWorkStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3rw-report-'));
  store = new FileWorkStore(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

test('the report has every outcome file in key order (chunks, then the Batch Operations engine files), rows as each file holds them; the summary counts them', async () => {
  // Prepare: files written out of order, rows within a file not sorted.
  const chunk1 = [row('app/d', 'restored'), row('app/c', 'failed')];
  const chunk0 = [row('app/b', 'deleted'), row('app/a', 'undeleted')];
  const jobs = [row('app/f', 'restored'), row('app/g/x,y.txt', 'restored')];
  const planned = [row('app/e', 'unchanged')];
  await store.putLines(batchKeys(restoreId).plannedOutcomes(0), planned);
  await store.putLines(keys.outcomes(1), chunk1);
  await store.putLines(batchKeys(restoreId).jobOutcomes(0), jobs);
  await store.putLines(keys.outcomes(0), chunk0);

  // Act
  const summary = await writeReport(store, input);

  // Assess
  const expected = [...chunk0, ...chunk1, ...jobs, ...planned];
  expect(await store.getLines<KeyOutcome>(keys.reportJsonl)).toEqual(expected);
  expect(await readFile(store.locationOf(keys.reportCsv), 'utf8')).toBe([CSV_HEADER, ...expected.map(csvLine)].join('\n') + '\n');
  expect(summary.counts).toEqual({ restored: 3, deleted: 1, undeleted: 1, unchanged: 1, failed: 1 });
  expect(summary.status).toBe('PARTIAL');
  expect(summary.report).toEqual({ csv: store.locationOf(keys.reportCsv), jsonl: store.locationOf(keys.reportJsonl) });
  expect(JSON.parse(await store.getText(keys.summary))).toEqual(summary);
});

test('with no outcome files the CSV is its header alone and the JSON lines are empty', async () => {
  const summary = await writeReport(store, input);

  expect(await readFile(store.locationOf(keys.reportCsv), 'utf8')).toBe(`${CSV_HEADER}\n`);
  expect(await readFile(store.locationOf(keys.reportJsonl), 'utf8')).toBe('');
  expect(summary.status).toBe('SUCCEEDED');
});

test('a dry run counts what outcome files there are and writes no report', async () => {
  await store.putLines(keys.outcomes(0), [row('app/a', 'unchanged')]);

  const summary = await writeReport(store, { ...input, request: { ...request, dryRun: true } });

  expect(summary).toMatchObject({ status: 'PLANNED', report: null, counts: { unchanged: 1 } });
  await expect(stat(store.locationOf(keys.reportCsv))).rejects.toMatchObject({ code: 'ENOENT' });
  await expect(stat(store.locationOf(keys.reportJsonl))).rejects.toMatchObject({ code: 'ENOENT' });
});

test('an outcome file that can not be read fails the step and leaves no report behind', async () => {
  await store.putLines(keys.outcomes(0), [row('app/a', 'restored')]);
  await store.putText(keys.outcomes(1), '{"Bucket":"src","Key":');

  await expect(writeReport(store, input)).rejects.toThrow(SyntaxError);

  await expect(stat(store.locationOf(keys.reportCsv))).rejects.toMatchObject({ code: 'ENOENT' });
  await expect(stat(store.locationOf(keys.reportJsonl))).rejects.toMatchObject({ code: 'ENOENT' });
  await expect(stat(store.locationOf(keys.summary))).rejects.toMatchObject({ code: 'ENOENT' });
  expect(await readdir(store.locationOf(keys.root))).toEqual(['outcomes']);
});

test("a dry run's summary carries the estimate of its plan totals, in the step's region and at its concurrency (the API's dry run shows it)", async () => {
  const totals = { keys: 3, restore: 2, delete: 0, undelete: 0, unchanged: 1, deletions: 0, copies: 2, copyBytes: 2048, listed: 5, checks: 0 };

  const planned = await writeReport(store, { ...input, request: { ...request, dryRun: true }, totals }, { region: 'us-east-1', concurrency: 8 });
  const acted = await writeReport(store, { ...input, totals });

  expect(planned.estimate).toMatchObject({ requests: { LIST: 2, COPY: 2, GET: 0, DELETE: 0 }, copyBytes: 2048, concurrency: 8 });
  expect(acted.estimate).toBeUndefined();
});

test('the summary (and so the Restore Completed event) carries the restore point as a UTC instant and as the caller typed it', async () => {
  const typed = parseRestoreRequest({ bucket: 'src', prefix: 'app/', at: '2026-01-01T01:00:00+01:00', atInput: '3d ago' });
  const summary = await writeReport(store, { ...input, request: typed });
  expect(summary).toMatchObject({ at: '2026-01-01T00:00:00.000Z', atInput: '3d ago' });
  const byVersion = await writeReport(store, { ...input, request: parseRestoreRequest({ bucket: 'src', key: 'app/a', versionId: 'v1' }) });
  expect(byVersion).not.toHaveProperty('at');
});
