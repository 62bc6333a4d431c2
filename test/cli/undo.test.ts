/**
 * `undo <restore id>` and `verify <restore id>` through the real binary on the
 * local S3: an undo returns a prefix to its state just before the restore
 * (checked with `verify --at`), leaves keys written since alone and lists them,
 * writes nothing as a dry run or a second time, and refuses a delete-mode
 * restore; verify by id checks a restore against its own request.
 */
import type { RestoreSummary } from '../../lambdas/core/steps/contracts.ts';
import { bodyOf, HistoryWriter, historyLines, instantAtCut, listHistory, sleep } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket } from '../support/s3.ts';
import { cliFixture, runCli } from './run-cli.ts';

const { s3, home, cleanUp } = cliFixture();

/**
 * Before T: a, del, later; after T: a and later overwritten, del deleted, new
 * written. The restore to T then copies a, del and later back and hides new.
 * Returns the instant just before the restore (after every write of the setup).
 */
async function incident(label: string) {
  const bucket = await createVersionedBucket(s3, label);
  cleanUp(() => emptyAndDeleteBucket(s3, bucket));
  const writer = new HistoryWriter(s3, bucket);
  for (const key of ['site/a.txt', 'site/del.txt', 'site/later.txt']) await writer.put(key, `${key} at T`);
  await sleep(50);
  const cut = writer.log.length;
  await writer.put('site/a.txt', 'a after T, longer');
  await writer.put('site/later.txt', 'later after T, longer');
  await writer.del('site/del.txt');
  await writer.put('site/new.txt', 'new after T');
  const listed = await listHistory(s3, bucket);
  const at = new Date(instantAtCut(writer, listed, cut)).toISOString();
  const justBefore = new Date(Math.max(...listed.map((e) => e.lastModified))).toISOString();
  await sleep(50);
  return { bucket, writer, at, justBefore, uri: `s3://${bucket}/site/` };
}

async function restored(uri: string, at: string, dir: string, extra: string[] = []): Promise<RestoreSummary> {
  const run = await runCli(['restore', uri, '--recursive', '--at', at, '--yes', '--json', '--no-progress', ...extra], { home: dir });
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as RestoreSummary;
}

test.concurrent(
  'undo returns the prefix to its state just before the restore, leaves and lists a key written since, and a second undo writes nothing',
  async () => {
    // Prepare
    const { bucket, writer, at, justBefore, uri } = await incident('cli-undo');
    const dir = await home();
    const { restoreId } = await restored(uri, at, dir);
    await writer.put('site/later.txt', 'written after the restore');
    const beforeUndo = historyLines(await listHistory(s3, bucket));

    // Act
    const dry = await runCli(['undo', restoreId, '--dry-run', '--no-progress'], { home: dir });
    const afterDry = historyLines(await listHistory(s3, bucket));
    const undo = await runCli(['undo', restoreId, '--no-progress'], { home: dir });
    const check = await runCli(['verify', uri, '--recursive', '--at', justBefore], { home: dir });
    const afterUndo = historyLines(await listHistory(s3, bucket));
    const again = await runCli(['undo', restoreId, '--no-progress'], { home: dir });

    // Assess
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`plan: undo of ${restoreId}`);
    expect(afterDry).toEqual(beforeUndo);
    expect(undo.code).toBe(1);
    expect(undo.stdout).toMatch(/site\/later\.txt: ChangedSinceRestore \(409\) the key changed after the restore/);
    expect(undo.stdout).toContain('restored 1, hidden 1, undeleted 1, unchanged 0, failed 1');
    expect(await bodyOf(s3, bucket, 'site/a.txt')).toBe('a after T, longer');
    expect(await bodyOf(s3, bucket, 'site/new.txt')).toBe('new after T');
    expect(await bodyOf(s3, bucket, 'site/del.txt')).toBeNull();
    expect(await bodyOf(s3, bucket, 'site/later.txt')).toBe('written after the restore');
    expect(check.code).toBe(1);
    expect(check.stdout.split('\n').filter((l) => l.startsWith('differs'))).toEqual([expect.stringMatching(/^differs {2}site\/later\.txt: /)]);
    expect(again.stdout).toContain('restored 0, hidden 0, undeleted 0, unchanged 3, failed 1');
    expect(historyLines(await listHistory(s3, bucket))).toEqual(afterUndo);
  },
  180_000,
);

test.concurrent(
  'with nothing changed since, undo leaves every key as it was just before the restore (verify --at passes)',
  async () => {
    // Prepare
    const { bucket, at, justBefore, uri } = await incident('cli-undo-clean');
    const dir = await home();
    const { restoreId } = await restored(uri, at, dir);

    // Act
    const undo = await runCli(['undo', restoreId, '--json', '--no-progress'], { home: dir });
    const check = await runCli(['verify', uri, '--recursive', '--at', justBefore], { home: dir });

    // Assess
    expect(undo.code).toBe(0);
    expect((JSON.parse(undo.stdout) as RestoreSummary).status).toBe('SUCCEEDED');
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('verified: all 4 keys');
    expect(await bodyOf(s3, bucket, 'site/later.txt')).toBe('later after T, longer');
  },
  180_000,
);

test.concurrent(
  'verify <restore id> passes after a copy-mode restore and then names exactly the key changed afterwards',
  async () => {
    // Prepare
    const { writer, at, uri } = await incident('cli-verify-id');
    const dir = await home();
    const summary = await restored(uri, at, dir);

    // Act
    const right = await runCli(['verify', summary.restoreId], { home: dir });
    await writer.put('site/a.txt', 'changed after the restore');
    const changed = await runCli(['verify', summary.restoreId, '--json'], { home: dir });

    // Assess
    expect(right.code).toBe(0);
    expect(right.stdout).toContain(`verified: all 4 keys of ${summary.restoreId}`);
    expect(changed.code).toBe(1);
    expect((JSON.parse(changed.stdout) as { differing: Array<{ key: string }> }).differing.map((d) => d.key)).toEqual(['site/a.txt']);
  },
  180_000,
);

test.concurrent(
  "a restore's summary prints its verify and undo commands",
  async () => {
    const { at, uri } = await incident('cli-undo-hints');
    const dir = await home();

    const run = await runCli(['restore', uri, '--recursive', '--at', at, '--yes', '--no-progress'], { home: dir });

    const id = /restore id: (\S+)/.exec(run.stdout)?.[1];
    expect(run.stdout).toContain(`verify: s3-rewind verify ${id}`);
    expect(run.stdout).toContain(`undo: s3-rewind undo ${id}`);
  },
  180_000,
);

test.concurrent(
  'undo refuses a delete-mode restore, saying its versions are gone, with exit 2 and nothing written',
  async () => {
    // Prepare
    const { bucket, at, uri } = await incident('cli-undo-delete');
    const dir = await home();
    const summary = await restored(uri, at, dir, ['--mode', 'delete']);
    const before = historyLines(await listHistory(s3, bucket));

    // Act
    const undo = await runCli(['undo', summary.restoreId, '--no-progress'], { home: dir });

    // Assess
    expect(undo.code).toBe(2);
    expect(undo.stderr).toContain("ran in delete mode: the versions and delete markers it deleted are gone permanently, so it can't be undone");
    expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
  },
  180_000,
);

test.concurrent('undo of a restore id never run here is refused with exit 2', async () => {
  const dir = await home();

  const undo = await runCli(['undo', 'copy-00000000000000000000'], { home: dir });

  expect(undo.code).toBe(2);
  expect(undo.stderr).toContain('no restore copy-00000000000000000000 here');
});
