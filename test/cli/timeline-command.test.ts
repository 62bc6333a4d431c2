/**
 * `s3-rewind timeline`: the terminal chart and its words (pure), and the real
 * executable against the local S3: the chart, --json, --at, --html, and input
 * errors refused with exit code 2.
 */
import { PutObjectCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { emptyTotals } from '../../lambdas/core/restore/planner.ts';
import { buildTimeline, ChangeHistogram, formatInZone, type TimelineDocument } from '../../lambdas/core/restore/timeline.ts';
import { formatChart, resolveTimeZone, zoneLabel } from '../../cli/timeline-chart.ts';
import { sleep } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../support/s3.ts';
import { runCli } from './run-cli.ts';

const T0 = Date.parse('2026-05-04T09:00:00.000Z');

function docOf(timeZone = 'UTC', withBurst = true): TimelineDocument {
  const histogram = new ChangeHistogram('site/');
  for (let t = T0; t < T0 + 600_000; t += 10_000) histogram.add({ key: 'site/pages/a', kind: 'overwrite', at: t, bytes: 10 });
  if (withBurst) for (let i = 0; i < 40; i++) histogram.add({ key: `site/img/${i}`, kind: 'deleteMarker', at: T0 + 303_000 + i * 20, bytes: 0 });
  return buildTimeline(histogram, { bucket: 'shop', listed: { keys: 41, entries: 100 }, timeZone, columns: 60 });
}

describe('the terminal chart', () => {
  test('shows the series as bars with a time axis, then the burst with its ready command', () => {
    const text = formatChart(docOf(), { width: 80 });

    expect(text).toMatch(/^s3:\/\/shop\/site\/: 100 changes, 2026-05-04 09:00:00 to 2026-05-04 09:10:00 UTC; 100 entries of 41 keys listed\n1 column = 10s/);
    // The burst's column: delete markers (x) over the background's overwrites (=); the legend names them.
    expect(text).toMatch(/│ *=* *x/);
    expect(text).toContain('+ new keys   = overwrites   x delete markers');
    expect(text).toMatch(/09:00:00 {3,}09:0/);
    expect(text).toContain('1 burst:\nburst 1: 2026-05-04 09:05:03.000 → 2026-05-04 09:05:03.780 UTC (0.78 s)');
    expect(text).toContain('top prefixes: site/img/ (40)');
    expect(text).toContain('    s3-rewind plan s3://shop/site/ --recursive --at 2026-05-04T09:05:02.999Z\n');
  });

  test('has no colour unless asked, and colours each kind when asked', () => {
    expect(formatChart(docOf(), { width: 80 })).not.toContain('\x1b[');
    const coloured = formatChart(docOf(), { width: 80, color: true });
    expect(coloured).toContain('\x1b[31m█\x1b[0m');
    expect(coloured).toContain('\x1b[33m█\x1b[0m');
  });

  test('shows times in the zone asked for, and the command still in UTC', () => {
    const text = formatChart(docOf('Europe/Paris'), { width: 80 });

    expect(text).toContain('2026-05-04 11:00:00 to 2026-05-04 11:10:00 Europe/Paris (GMT+2)');
    expect(text).toContain('burst 1: 2026-05-04 11:05:03.000 → 2026-05-04 11:05:03.780 Europe/Paris (GMT+2)');
    expect(text).toContain('--at 2026-05-04T09:05:02.999Z');
  });

  test('says there is no burst, and suggests nothing, when there is none', () => {
    const text = formatChart(docOf('UTC', false), { width: 80 });

    expect(text).toContain('no burst: no interval rose above 5 times its background rate, so there is no restore point to suggest.');
    expect(text).not.toContain('s3-rewind plan');
  });

  test('an empty prefix says nothing was written', () => {
    const empty = buildTimeline(new ChangeHistogram('site/'), { bucket: 'shop', listed: { keys: 0, entries: 0 } });

    expect(formatChart(empty)).toBe('s3://shop/site/: nothing was written (0 entries of 0 keys listed)\nno burst: nothing to suggest\n');
  });

  test('a restore previewed with --at is shown as plan totals', () => {
    const doc = {
      ...docOf(),
      restores: [
        { at: '2026-05-04T09:05:02.999Z', label: '--at', command: 'cmd', totals: { ...emptyTotals(), keys: 41, restore: 40, unchanged: 1, copies: 40 } },
      ],
    };

    expect(formatChart(doc)).toContain(
      'a restore to 2026-05-04T09:05:02.999Z (--at) would change: 41 keys: restore 40, unchanged 1 (40 copies, 0 delete markers added)',
    );
  });

  test.each([
    ['UTC', 'UTC'],
    ['Europe/Paris', 'Europe/Paris'],
    ['america/new_york', 'America/New_York'],
  ])('zone %s resolves to %s', (name, zone) => {
    expect(resolveTimeZone(name)).toBe(zone);
  });

  test('an unknown zone is refused', () => {
    expect(() => resolveTimeZone('Mars/Olympus')).toThrow(RangeError);
  });

  test('a zone across a daylight-saving change shows the offset of the instant', () => {
    expect(zoneLabel('Europe/Paris', Date.parse('2026-01-15T12:00:00Z'))).toBe('Europe/Paris (GMT+1)');
    expect(zoneLabel('Europe/Paris', Date.parse('2026-07-15T12:00:00Z'))).toBe('Europe/Paris (GMT+2)');
    expect(formatInZone(Date.parse('2026-07-15T23:30:00.250Z'), 'Asia/Tokyo')).toBe('2026-07-16 08:30:00.250');
  });
});

describe('the executable', () => {
  let s3: S3Client;
  let bucket: string;
  let dir: string;

  beforeAll(async () => {
    s3 = testS3Client();
    bucket = await createVersionedBucket(s3, 'cli-timeline');
    dir = mkdtempSync(join(tmpdir(), 's3-rewind-timeline-'));
    const limit = pLimit(8);
    await Promise.all(Array.from({ length: 20 }, (_, i) => limit(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `site/img/${i}`, Body: 'x' })))));
    await sleep(1_500);
    for (let i = 0; i < 3; i++) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'site/index.html', Body: `v${i}` }));
      await sleep(500);
    }
    await sleep(1_000);
    await Promise.all(Array.from({ length: 20 }, (_, i) => limit(() => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `site/img/${i}` })))));
  });

  afterAll(async () => {
    await emptyAndDeleteBucket(s3, bucket);
    s3.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('prints the chart and the bursts, the latest being the mass delete, with its command', async () => {
    const run = await runCli(['timeline', `s3://${bucket}/site/`, '--recursive', '--interval', '500ms', '--no-progress']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`s3://${bucket}/site/: 43 changes`);
    expect(run.stdout).toMatch(/burst 2: .*\n {2}20 changes: 0 new keys, 0 overwrites, 20 delete markers/);
    expect(run.stdout).toMatch(new RegExp(`s3-rewind plan s3://${bucket}/site/ --recursive --at \\d{4}-`));
    expect(run.stderr).toBe('');
  });

  test('--json prints one document; --at adds the plan totals of a restore to it; --html writes a self-contained page', async () => {
    const page = join(dir, 'timeline.html');
    const first = JSON.parse((await runCli(['timeline', `s3://${bucket}/site/`, '--recursive', '--interval', '500ms', '--json'])).stdout) as TimelineDocument;
    const at = first.bursts.at(-1)!.restorePoint;

    const run = await runCli(['timeline', `s3://${bucket}/site/`, '--recursive', '--interval', '500ms', '--json', '--at', at, '--html', page, '--no-progress']);

    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as TimelineDocument;
    expect(doc.restores[0]).toMatchObject({ at, label: '--at', totals: { keys: 21, restore: 20, unchanged: 1 } });
    expect(run.stderr).toContain(`wrote ${page}`);
    const html = readFileSync(page, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(html).toContain('"label":"before burst 2"');
  });

  test.each([
    ['without --recursive', ['timeline', 's3://shop/site/'], /add --recursive/],
    ['a bad interval', ['timeline', 's3://shop/site/', '--recursive', '--interval', 'often'], /--interval "often" is not an interval/],
    ['an unknown zone', ['timeline', 's3://shop/site/', '--recursive', '--tz', 'Mars/Olympus'], /--tz "Mars\/Olympus" is not a time zone/],
    ['since after until', ['timeline', 's3://shop/site/', '--recursive', '--since', '1h ago', '--until', '2h ago'], /--since .* is after --until/],
    ['a time without a zone', ['timeline', 's3://shop/site/', '--recursive', '--since', '2026-05-04T10:00:00'], /--since/],
  ])('%s is refused with exit code 2', async (_case, args, message) => {
    const run = await runCli(args);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  test('a bucket that does not exist is refused with exit code 2', async () => {
    const run = await runCli(['timeline', 's3://s3-rewind-no-such-bucket/site/', '--recursive', '--no-progress']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('bucket "s3-rewind-no-such-bucket" does not exist');
  });
});
