/**
 * The loop an operator runs, through the real binary on the local S3: a plan
 * with its filters and its estimate, then the restore it priced.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RestoreEstimate } from '../../lambdas/core/restore/estimate.ts';
import type { KeyAction } from '../../lambdas/core/restore/model.ts';
import type { RestoreSummary } from '../../lambdas/core/steps/contracts.ts';
import { bodyOf, HistoryWriter, instantAtCut, listHistory, sleep } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket } from '../support/s3.ts';
import { runCli, cliFixture } from './run-cli.ts';

const { s3, home, cleanUp } = cliFixture();

const KEYS = ['site/a.txt', 'site/b.log', 'site/logs/c.txt', 'site/d.txt'];

/** Each key written before T, overwritten after it; site/new.txt only after it. */
async function incident(label: string) {
  const bucket = await createVersionedBucket(s3, label);
  cleanUp(() => emptyAndDeleteBucket(s3, bucket));
  const writer = new HistoryWriter(s3, bucket);
  for (const key of KEYS) await writer.put(key, `${key} before`);
  await sleep(50);
  const cut = writer.log.length;
  for (const key of KEYS) await writer.put(key, `${key} after, longer`);
  await writer.put('site/new.txt', 'new');
  const at = new Date(instantAtCut(writer, await listHistory(s3, bucket), cut)).toISOString();
  return { bucket, writer, at };
}

const FILTERS = ['--exclude', '*', '--include', '*.txt', '--exclude', 'logs/*'];

test.concurrent('plan shows its filters and an estimate that matches its own counts; restore with the same filters changes exactly those keys', async () => {
  const { bucket, at } = await incident('cli-loop-filters');
  const dir = await home();
  const uri = `s3://${bucket}/site/`;

  const table = await runCli(['plan', uri, '--recursive', '--at', at, ...FILTERS, '--no-progress'], { home: dir });
  const json = await runCli(['plan', uri, '--recursive', '--at', at, ...FILTERS, '--json', '--no-progress'], { home: dir });

  expect(table.code).toBe(0);
  expect(table.stdout).toContain(`filters: --exclude '*' --include '*.txt' --exclude 'logs/*' (keys relative to s3://${bucket}/site/)`);
  expect(table.stdout).toMatch(/^estimate \(estimate: list prices/m);
  expect(table.stdout).toContain('requests: LIST 2, COPY 2, GET/HEAD 0, DELETE 1');
  const plan = JSON.parse(json.stdout) as { summary: RestoreSummary & { estimate: RestoreEstimate }; actions: KeyAction[] };
  expect(plan.actions.map((a) => [a.key, a.action])).toEqual([
    ['site/a.txt', 'copy'],
    ['site/d.txt', 'copy'],
    ['site/new.txt', 'addDeleteMarker'],
  ]);
  const copies = plan.actions.filter((a) => a.action === 'copy');
  expect(plan.summary.estimate.requests).toMatchObject({ COPY: copies.length, DELETE: plan.summary.planned.deletions });
  expect(plan.summary.estimate.copyBytes).toBe(copies.reduce((n, a) => n + (a.action === 'copy' ? (a.source.size ?? 0) : 0), 0));
  expect(plan.summary.estimate.copyBytes).toBe('site/a.txt before'.length + 'site/d.txt before'.length);

  const restore = await runCli(['restore', uri, '--recursive', '--at', at, ...FILTERS, '--no-progress'], { home: dir });

  expect(restore.code).toBe(0);
  expect(await bodyOf(s3, bucket, 'site/a.txt')).toBe('site/a.txt before');
  expect(await bodyOf(s3, bucket, 'site/d.txt')).toBe('site/d.txt before');
  expect(await bodyOf(s3, bucket, 'site/new.txt')).toBeNull();
  expect(await bodyOf(s3, bucket, 'site/b.log')).toBe('site/b.log after, longer');
  expect(await bodyOf(s3, bucket, 'site/logs/c.txt')).toBe('site/logs/c.txt after, longer');
});

test.concurrent('--price-table replaces the prices; a malformed one is refused with exit 2', async () => {
  const { bucket, at } = await incident('cli-loop-prices');
  const dir = await home();
  const table = join(dir, 'prices.json');
  writeFileSync(
    table,
    JSON.stringify({
      source: 'test',
      taken: '2026-01-01',
      currency: 'USD',
      regions: { 'us-east-1': { writePer1000: 1000, readPer1000: 0, deletePer1000: 0, storagePerGbMonth: 0 } },
    }),
  );
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ regions: {} }));

  const priced = await runCli(['plan', `s3://${bucket}/site/`, '--recursive', '--at', at, '--price-table', table, '--json', '--no-progress'], {
    home: dir,
    env: { AWS_REGION: 'us-east-1' },
  });
  const refused = await runCli(['plan', `s3://${bucket}/site/`, '--recursive', '--at', at, '--price-table', bad, '--no-progress'], { home: dir });

  const estimate = (JSON.parse(priced.stdout) as { summary: { estimate: RestoreEstimate } }).summary.estimate;
  // $1 per request: every LIST and COPY costs a dollar.
  expect(estimate.costUsd.requests).toBe(estimate.requests.LIST + estimate.requests.COPY);
  expect(estimate.prices.taken).toBe('2026-01-01');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('--price-table');
});

test.concurrent(
  'verify passes after a restore (in place and --to), then names exactly the key changed afterwards, with why; the summary says how to verify',
  async () => {
    const { bucket, at } = await incident('cli-loop-verify');
    const dir = await home();
    const uri = `s3://${bucket}/site/`;
    const dest = await createVersionedBucket(s3, 'cli-loop-verify-to');
    cleanUp(() => emptyAndDeleteBucket(s3, dest));

    const before = await runCli(['verify', uri, '--recursive', '--at', at], { home: dir });
    const restore = await runCli(['restore', uri, '--recursive', '--at', at, '--no-progress'], { home: dir });
    const after = await runCli(['verify', uri, '--recursive', '--at', at], { home: dir });
    const toRestore = await runCli(['restore', uri, '--recursive', '--at', at, '--to', `s3://${dest}/copy/`, '--no-progress'], { home: dir });
    const toVerify = await runCli(['verify', uri, '--recursive', '--at', at, '--to', `s3://${dest}/copy/`], { home: dir });
    await new HistoryWriter(s3, bucket).put('site/d.txt', 'changed since');
    const changed = await runCli(['verify', uri, '--recursive', '--at', at, '--json'], { home: dir });
    const bad = await runCli(['verify', uri, '--recursive'], { home: dir });

    expect(before.code).toBe(1);
    expect(before.stdout).toContain('5 of 5 keys');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain(`verify: s3-rewind verify ${uri} --recursive --at ${at}`);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('verified: all 5 keys');
    expect(toRestore.code).toBe(0);
    expect(toVerify.code).toBe(0);
    expect(changed.code).toBe(1);
    const doc = JSON.parse(changed.stdout) as { checked: number; differing: { key: string; why: string }[] };
    expect(doc.checked).toBe(5);
    expect(doc.differing.map((d) => d.key)).toEqual(['site/d.txt']);
    expect(doc.differing[0]!.why).toMatch(/^now version .* at the restore point version /);
    expect(bad.code).toBe(2);
  },
);
