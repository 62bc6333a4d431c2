/**
 * The words of the real binary for mistakes an operator makes in an incident:
 * a URI with one slash, --with-history alone, a --to without a trailing slash,
 * a --to bucket that can't take the restore; and a plan that says "hide" and
 * "1 key" where it means them.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { HistoryWriter, historyLines, listHistory } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../support/s3.ts';
import { messageLines, removeWarmHome, runCli, tempHome, type TempHome } from './run-cli.ts';

let s3: S3Client;
let bucket: string;
let destination: string;
let unversioned: string;
let home: TempHome;
/** A second before the first write. */
let beforeEverything: string;

beforeAll(async () => {
  home = await tempHome();
  s3 = testS3Client();
  bucket = await createVersionedBucket(s3, 'cli-wording');
  destination = await createVersionedBucket(s3, 'cli-wording-dst');
  unversioned = await createVersionedBucket(s3, 'cli-wording-unv', { versioning: 'none' });
  await new HistoryWriter(s3, bucket).put('site/page.html', 'p1');
  const listed = await listHistory(s3, bucket);
  beforeEverything = new Date(Math.min(...listed.map((e) => e.lastModified)) - 1000).toISOString();
});

afterAll(async () => {
  home.remove();
  await removeWarmHome();
  for (const b of [bucket, destination, unversioned]) await emptyAndDeleteBucket(s3, b);
});

const run = (args: string[]) => runCli([...args, '--no-progress'], { home: home.dir });

test.concurrent('s3:/bucket/key (one slash) suggests s3://bucket/key', async () => {
  const result = await run(['plan', `s3:/${bucket}/site/`, '--recursive', '--at', '1s ago']);
  expect(result.code).toBe(2);
  expect(messageLines(result.stderr)).toEqual([`error: "s3:/${bucket}/site/" is not an S3 URI: s3:// takes two slashes`, `hint: write s3://${bucket}/site/`]);
});

test.concurrent('--with-history without --to says to give --to, in flag names', async () => {
  const result = await run(['plan', `s3://${bucket}/site/`, '--recursive', '--at', '1s ago', '--with-history']);
  expect(result.code).toBe(2);
  expect(messageLines(result.stderr)[0]).toBe("error: --with-history reproduces each key's history in another place: give --to s3://bucket/prefix/ as well");
});

test.concurrent('--to without a trailing slash warns how the keys will be named', async () => {
  const result = await run(['plan', `s3://${bucket}/site/`, '--recursive', '--at', '1s ago', '--to', `s3://${destination}/one`]);
  expect(result.code).toBe(0);
  expect(messageLines(result.stderr)).toContain(
    `warning: --to s3://${destination}/one has no trailing slash: keys are written as "one" + key (e.g. onesite/…); write s3://${destination}/one/ to put them in a folder`,
  );
});

test.concurrent('--to a bucket that does not exist says it is the destination, and nothing is written', async () => {
  const before = historyLines(await listHistory(s3, bucket));
  const result = await run(['restore', `s3://${bucket}/site/`, '--recursive', '--at', '1s ago', '--yes', '--to', 's3://s3-rewind-no-such-destination/x/']);
  expect(result.code).toBe(2);
  expect(messageLines(result.stderr)[0]).toBe(
    'error: the destination bucket "s3-rewind-no-such-destination" (to) does not exist: create it, with versioning enabled, first',
  );
  expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
});

test.concurrent('--to an unversioned bucket gives the reason that fits a destination', async () => {
  const result = await run(['restore', `s3://${bucket}/site/`, '--recursive', '--at', '1s ago', '--yes', '--to', `s3://${unversioned}/x/`]);
  expect(result.code).toBe(2);
  expect(messageLines(result.stderr)[0]).toBe(
    `error: the destination bucket "${unversioned}" (to) is not versioned: a restore writes versions there, which would overwrite its null version; enable versioning on it first`,
  );
});

test.concurrent('a copy-mode plan that adds a delete marker says "hide" and "1 key"', async () => {
  const result = await run(['plan', `s3://${bucket}/site/`, '--recursive', '--at', beforeEverything, '--all']);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^hide +site\/page\.html +add a delete marker over/m);
  expect(result.stdout).toContain('totals: 1 key: hide 1 (0 copies, 1 delete marker added)');
});
