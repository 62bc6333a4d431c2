/**
 * `--restore-archived [--tier T] [--days N] [--wait [--poll-seconds N]]`, run as
 * the real binary against the local RGW through the fault proxy, which gives
 * only the archive-specific answers (test/support/archive-simulation.ts):
 * without --wait the run requests RestoreObject, restores everything else and
 * exits 75 saying when to run again; with --wait it waits and copies the
 * archived version in the same run; bad tiers and days are refused with exit 2
 * before anything is written.
 */
import { archiveRules, seedColdAndPlain, type ArchiveSimulation } from '../support/archive-simulation.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { bodyOf, historyLines, listHistory } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket } from '../support/s3.ts';
import { cliFixture, messageLines, runCli } from './run-cli.ts';

const fx = cliFixture();
const s3 = fx.s3;
let proxy: FaultProxy;

beforeAll(async () => {
  proxy = await FaultProxy.start();
});

afterAll(async () => {
  await proxy?.stop();
});

afterEach(() => proxy.clearRules());

/** `arch/cold.txt` (archived in GLACIER at T) and `arch/plain.txt`, both overwritten after T. */
async function seeded(label: string): Promise<{ bucket: string; at: string; archive: ArchiveSimulation }> {
  const bucket = await createVersionedBucket(s3, `cli-archived-${label}`);
  fx.cleanUp(() => emptyAndDeleteBucket(s3, bucket));
  const { at, coldVersion } = await seedColdAndPlain(s3, bucket);
  const archive: ArchiveSimulation = {
    bucket,
    key: 'arch/cold.txt',
    versionId: coldVersion,
    storageClass: 'GLACIER',
    state: 'archived',
    restoreRequests: [],
  };
  for (const rule of archiveRules(archive)) proxy.addRule(rule);
  return { bucket, at, archive };
}

const restoreArgs = (bucket: string, at: string, ...more: string[]) => [
  'restore',
  `s3://${bucket}/arch/`,
  '--recursive',
  '--at',
  at,
  '--endpoint-url',
  proxy.endpoint,
  '--no-progress',
  '--yes',
  ...more,
];

test('the plan (--all) names the archived version', async () => {
  const { bucket, at } = await seeded('plan');
  const result = await runCli(['plan', `s3://${bucket}/arch/`, '--recursive', '--at', at, '--all', '--endpoint-url', proxy.endpoint, '--no-progress'], {
    home: await fx.home(),
  });
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/arch\/cold\.txt\s+copy version \S+ \([^)]*archived in GLACIER\)/);
});

test('without --wait: RestoreObject is requested, the rest is restored, exit 75 with "run the same command again after" the tier\'s time', async () => {
  const { bucket, at, archive } = await seeded('nowait');
  const result = await runCli(restoreArgs(bucket, at, '--restore-archived', '--tier', 'Expedited', '--days', '2'), { home: await fx.home() });

  expect(result.code).toBe(75);
  expect(messageLines(result.stderr).join('\n')).toMatch(
    /restore requested: 1 archived version is being restored by S3 \(Expedited: typically 1-5 minutes.*\); everything else is done\. Run the same command again after that/,
  );
  expect(archive.restoreRequests).toEqual([{ versionId: archive.versionId, days: 2, tier: 'Expedited' }]);
  expect(await bodyOf(s3, bucket, 'arch/plain.txt')).toBe('plain at T');
  expect(await bodyOf(s3, bucket, 'arch/cold.txt')).toBe('cold overwritten');
});

test('with --wait: the run waits for S3 to restore the version, copies it, and exits 0', async () => {
  const { bucket, at, archive } = await seeded('wait');
  // S3 restores it once asked: the next check finds it readable.
  proxy.addRule({
    name: 'S3 finishes the restore once asked',
    when: (r) => {
      if (r.operation === 'HeadObject' && archive.restoreRequests.length > 0) archive.state = 'restored';
      return false;
    },
    action: { kind: 'delay', ms: 0 },
  });
  const result = await runCli(restoreArgs(bucket, at, '--restore-archived', '--wait', '--poll-seconds', '1'), { home: await fx.home() });

  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/1 archived version is being restored by S3 \(Standard: .*\); checking again in 1 s/);
  expect(archive.restoreRequests).toHaveLength(1);
  expect(await bodyOf(s3, bucket, 'arch/cold.txt')).toBe('cold at T');
  expect(await bodyOf(s3, bucket, 'arch/plain.txt')).toBe('plain at T');
});

describe('bad archive flags: exit 2, a reason and a hint, nothing written', () => {
  test.each([
    [['--restore-archived', '--tier', 'Glacial'], /--tier.*Glacial/],
    [['--restore-archived', '--days', '0'], /--days.*1 to 365/],
    [['--restore-archived', '--days', '366'], /--days.*1 to 365/],
    [['--tier', 'Bulk'], /--tier goes with --restore-archived/],
    [['--wait'], /--wait goes with --restore-archived/],
  ])('%j', async (flags, reason) => {
    const { bucket, at, archive } = await seeded('bad');
    const before = historyLines(await listHistory(s3, bucket));
    const result = await runCli(restoreArgs(bucket, at, ...flags), { home: await fx.home() });
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
    expect(messageLines(result.stderr)[0]).toMatch(reason);
    expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
    expect(archive.restoreRequests).toEqual([]);
  });
});
