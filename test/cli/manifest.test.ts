/**
 * `s3-rewind restore --manifest FILE`: the real executable over the local
 * runner (the synthesized state machine in-process), a local manifest read by
 * the local runner only (nothing uploaded), restored to another bucket with
 * its history.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RestoreSummary } from '#core/steps/contracts.ts';
import { HistoryWriter, bodyOf, byKeyMap, instantAtCut, listHistory, sleep } from '../support/history.ts';
import { iso } from '../support/drive.ts';
import { engineFixture } from '../support/engine-fixture.ts';
import { removeWarmHome, runCli, tempHome, type TempHome } from './run-cli.ts';

const fx = engineFixture('cli-manifest');
const s3 = fx.s3;
const homes: TempHome[] = [];
afterAll(async () => {
  for (const home of homes) home.remove();
  await removeWarmHome();
});

test("restore --manifest FILE --at T --to s3://dst/r/ --with-history: the listed keys' histories up to T land under the prefix, the bucket taken from the manifest", async () => {
  const bucket = await fx.versionedBucket('src');
  const destination = await fx.versionedBucket('dst');
  const w = new HistoryWriter(s3, bucket);
  await w.put('docs/a b.txt', 'a1');
  await w.put('docs/a b.txt', 'a2');
  await w.put('docs/skip', 's1');
  await sleep(25);
  const cut = w.log.length;
  await w.put('docs/a b.txt', 'a3');
  const at = instantAtCut(w, await listHistory(s3, bucket), cut);
  const home = await tempHome();
  homes.push(home);
  const manifest = join(home.dir, 'keys.csv');
  writeFileSync(manifest, `${bucket},docs/a+b.txt\n`);

  const result = await runCli(
    ['restore', '--manifest', manifest, '--at', iso(at), '--to', `s3://${destination}/r/`, '--with-history', '--json', '--no-progress'],
    { home: home.dir },
  );

  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  const summary = JSON.parse(result.stdout) as RestoreSummary;
  expect(summary).toMatchObject({ status: 'SUCCEEDED', counts: { restored: 1, failed: 0 } });
  const written = byKeyMap(await listHistory(s3, destination));
  expect([...written.keys()]).toEqual(['r/docs/a b.txt']);
  expect(written.get('r/docs/a b.txt')).toHaveLength(2);
  expect(await bodyOf(s3, destination, 'r/docs/a b.txt')).toBe('a2');
});

test('--engine batch-operations is refused before anything is written, with what to do instead', async () => {
  const bucket = await fx.versionedBucket('engine');
  const home = await tempHome();
  homes.push(home);
  const result = await runCli(['restore', `s3://${bucket}/p/`, '--recursive', '--at', '1s ago', '--engine', 'batch-operations', '--no-progress'], {
    home: home.dir,
  });
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/--engine batch-operations runs S3 Batch Operations jobs on a deployed stack: give --state-machine-arn/);
});

test('--manifest with a key in the URI is a usage error', async () => {
  const result = await runCli(['restore', 's3://some-bucket/key', '--manifest', 's3://some-bucket/m.csv', '--at', '1h ago']);
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/with --manifest give s3:\/\/some-bucket alone/);
});
