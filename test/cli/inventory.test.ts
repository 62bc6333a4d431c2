/**
 * `s3-rewind plan|restore … --inventory s3://…/manifest.json`: the real
 * executable over the local runner, with an S3 Inventory the test writes in
 * S3's documented format (test/support/inventory.ts).
 */
import type { RestoreSummary } from '#core/steps/contracts.ts';
import { HistoryWriter, bodyOf, instantAtCut, listHistory, sleep } from '../support/history.ts';
import { iso } from '../support/drive.ts';
import { engineFixture } from '../support/engine-fixture.ts';
import { writeInventory } from '../support/inventory.ts';
import { removeWarmHome, runCli, tempHome, type TempHome } from './run-cli.ts';

const fx = engineFixture('cli-inventory');
const s3 = fx.s3;
const homes: TempHome[] = [];
afterAll(async () => {
  for (const home of homes) home.remove();
  await removeWarmHome();
});

test('restore s3://b/p/ --recursive --at T --inventory URI --to s3://dst/r/: the keys the inventory names, and the key created after it, land in their state at T', async () => {
  const bucket = await fx.versionedBucket('src');
  const reports = await fx.versionedBucket('inv');
  const destination = await fx.versionedBucket('dst');
  const w = new HistoryWriter(s3, bucket);
  await w.put('p/a', 'a1');
  await w.put('p/b', 'b1');
  await sleep(1100);
  const cut = w.log.length;
  await w.put('p/a', 'a2');
  await w.del('p/b');
  const listed = await listHistory(s3, bucket);
  const at = instantAtCut(w, listed, cut);
  await sleep(1100);
  const inventory = await writeInventory(s3, bucket, { destination: reports, entries: listed, createdAt: Date.now() });
  await sleep(1100);
  await w.put('p/c-after-inventory', 'c1');
  const home = await tempHome();
  homes.push(home);

  const result = await runCli(
    ['restore', `s3://${bucket}/p/`, '--recursive', '--at', iso(at), '--inventory', inventory, '--to', `s3://${destination}/r/`, '--json', '--no-progress'],
    { home: home.dir },
  );

  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  const summary = JSON.parse(result.stdout) as RestoreSummary;
  expect(summary).toMatchObject({ status: 'SUCCEEDED', planned: { keys: 3 } });
  expect(await bodyOf(s3, destination, 'r/p/a')).toBe('a1');
  expect(await bodyOf(s3, destination, 'r/p/b')).toBe('b1');
  expect(await bodyOf(s3, destination, 'r/p/c-after-inventory')).toBeNull();
});

test('--inventory that is not an S3 Inventory manifest location exits 2 naming the flag, nothing written', async () => {
  const bucket = await fx.versionedBucket('bad');
  await new HistoryWriter(s3, bucket).put('p/a', 'a1');
  const home = await tempHome();
  homes.push(home);
  const result = await runCli(['restore', `s3://${bucket}/p/`, '--recursive', '--at', '1s ago', '--inventory', 's3://reports/list.csv', '--no-progress'], {
    home: home.dir,
  });
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/--inventory.*manifest\.json/);
  expect((await listHistory(s3, bucket)).length).toBe(1);
});
