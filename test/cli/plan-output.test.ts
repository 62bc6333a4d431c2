/**
 * A plan of many keys as the real binary prints it: the summary first (scope,
 * restore point, totals, estimate), then a listing grouped by action and
 * sub-prefix that stays short however many keys change; every key with --all
 * (on plan and restore --dry-run) or in a --report file; --json times as ISO
 * strings, as versions --json gives them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyAction } from '../../lambdas/core/restore/model.ts';
import { HistoryWriter, historyLines, instantAtCut, listHistory, sleep } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket } from '../support/s3.ts';
import { cliFixture, messageLines, runCli } from './run-cli.ts';

const { s3, home, cleanUp } = cliFixture();

const IMAGES = Array.from({ length: 40 }, (_, i) => `site/img/p${String(i).padStart(2, '0')}.png`);
const STYLES = Array.from({ length: 5 }, (_, i) => `site/css/s${i}.css`);
const PAGES = ['site/about.html', 'site/index.html'];

/** 47 keys overwritten after the restore point, one added (site/js/new.js): 48 keys change. */
async function manyKeys(label: string): Promise<{ bucket: string; at: string }> {
  const bucket = await createVersionedBucket(s3, label);
  cleanUp(() => emptyAndDeleteBucket(s3, bucket));
  const writer = new HistoryWriter(s3, bucket);
  const changed = [...IMAGES, ...STYLES, ...PAGES];
  await Promise.all(changed.map((key) => writer.put(key, 'before')));
  const cut = writer.log.length;
  await sleep(50);
  await Promise.all(changed.map((key) => writer.put(key, 'after')));
  await writer.put('site/js/new.js', 'new');
  return { bucket, at: new Date(instantAtCut(writer, await listHistory(s3, bucket), cut)).toISOString() };
}

let made: { bucket: string; at: string };
beforeAll(async () => {
  made = await manyKeys('cli-plan-output');
}, 60_000);

test('plan leads with the summary, then lists keys grouped by action and sub-prefix, a few keys each', async () => {
  const { bucket, at } = made;

  const result = await runCli(['plan', `s3://${bucket}/site/`, '--recursive', '--at', at, '--no-progress'], { home: await home() });

  expect(result.code).toBe(0);
  const lines = result.stdout.trimEnd().split('\n');
  expect(lines[0]).toBe(`s3://${bucket}/site/ to ${at} (copy mode)`);
  expect(lines[1]).toBe('totals: 48 keys: restore 47, hide 1 (47 copies, 1 delete marker added)');
  expect(lines[2]).toMatch(/^estimate \(/);
  const listing = lines.slice(lines.indexOf('') + 1);
  expect(listing).toEqual([
    'restore 47 keys:',
    `  s3://${bucket}/site/       2 keys: about.html, index.html`,
    `  s3://${bucket}/site/css/   5 keys: s0.css, s1.css, s2.css, …`,
    `  s3://${bucket}/site/img/  40 keys: p00.png, p01.png, p02.png, …`,
    'hide 1 key:',
    `  s3://${bucket}/site/js/  1 key: new.js`,
    'every key with its action: add --all, or --report FILE (.csv or JSON lines)',
  ]);
  expect(lines.length).toBeLessThan(20);
});

test('plan --all lists every key with its action and detail', async () => {
  const { bucket, at } = made;

  const result = await runCli(['plan', `s3://${bucket}/site/`, '--recursive', '--at', at, '--all', '--no-progress'], { home: await home() });

  expect(result.code).toBe(0);
  const table = result.stdout.split('\n').slice(result.stdout.split('\n').findIndex((l) => /^ACTION +KEY +DETAIL$/.test(l)) + 1);
  const rows = table.filter((l) => l !== '').map((l) => l.split(/ +/).slice(0, 2));
  expect(rows).toHaveLength(48);
  expect(rows).toContainEqual(['restore', 'site/img/p39.png']);
  expect(rows).toContainEqual(['hide', 'site/js/new.js']);
});

test('restore --dry-run --all lists every key too, and --dryrun is the same flag; nothing is written', async () => {
  const { bucket, at } = made;
  const before = historyLines(await listHistory(s3, bucket));

  const dashed = await runCli(['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--dry-run', '--all', '--no-progress'], { home: await home() });
  const aws = await runCli(['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--dryrun', '--all', '--no-progress'], { home: await home() });

  expect(dashed.code).toBe(0);
  expect(dashed.stdout).toMatch(/^restore +site\/img\/p39\.png +copy version/m);
  expect(aws.code).toBe(0);
  const withoutPlanPath = (stdout: string) => stdout.replace(/^plan: .*$/m, 'plan: …');
  expect(withoutPlanPath(aws.stdout)).toBe(withoutPlanPath(dashed.stdout));
  expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
});

test('restore --all without a dry run is refused before anything is read', async () => {
  const { bucket, at } = made;

  const result = await runCli(['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--all', '--yes', '--no-progress'], { home: await home() });

  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
  expect(messageLines(result.stderr)[0]).toBe('error: --all lists a plan: it goes with --dry-run (or the plan command)');
});

test('plan --report FILE writes every key: CSV for .csv, JSON lines with ISO times otherwise', async () => {
  const { bucket, at } = made;
  const dir = await home();
  const csvFile = join(dir, 'plan.csv');
  const jsonlFile = join(dir, 'plan.jsonl');

  const csv = await runCli(['plan', `s3://${bucket}/site/`, '--recursive', '--at', at, '--report', csvFile, '--no-progress'], { home: dir });
  const jsonl = await runCli(['plan', `s3://${bucket}/site/`, '--recursive', '--at', at, '--report', jsonlFile, '--no-progress'], { home: dir });

  expect(csv.code).toBe(0);
  expect(csv.stdout).toContain(`every key's action written to: ${csvFile}`);
  const rows = readFileSync(csvFile, 'utf8').trimEnd().split('\n');
  expect(rows[0]).toBe('Action,Key,Detail');
  expect(rows.slice(1).map((r) => r.split(',').slice(0, 2))).toHaveLength(48);
  expect(rows).toContainEqual(expect.stringMatching(/^hide,site\/js\/new\.js,"add a delete marker over/));
  expect(jsonl.code).toBe(0);
  const actions = readFileSync(jsonlFile, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { key: string; source?: { lastModified: unknown } });
  expect(actions).toHaveLength(48);
  expect(actions[0]!.source!.lastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('plan --json gives lastModified as ISO strings, as versions --json does', async () => {
  const { bucket, at } = made;

  const plan = await runCli(['plan', `s3://${bucket}/site/`, '--recursive', '--at', at, '--json', '--no-progress'], { home: await home() });
  const versions = await runCli(['versions', `s3://${bucket}/site/index.html`, '--json'], { home: await home() });

  const { actions } = JSON.parse(plan.stdout) as { actions: Array<Extract<KeyAction, { action: 'copy' }> & { source: { lastModified: unknown } }> };
  const copy = actions.find((a) => a.key === 'site/index.html')!;
  const listed = (JSON.parse(versions.stdout) as { versions: Array<{ versionId: string; lastModified: unknown }> }).versions;
  expect(copy.source.lastModified).toBe(listed.find((v) => v.versionId === copy.source.versionId)!.lastModified);
  expect(typeof copy.source.lastModified).toBe('string');
});
