/**
 * `verify` after each kind of restore, through the real binary on the local S3:
 * it passes right after a delete-mode restore, an undelete, and a restore to
 * another place with history, and afterwards names exactly the key changed since.
 * (Copy mode in place and `--to` without history: test/cli/loop.test.ts.)
 */
import type { RestoreSummary } from '../../lambdas/core/steps/contracts.ts';
import { HistoryWriter, instantAtCut, listHistory, sleep } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket } from '../support/s3.ts';
import { cliFixture, runCli } from './run-cli.ts';

const { s3, home, cleanUp } = cliFixture();

interface VerifyDoc {
  readonly checked: number;
  readonly differing: readonly { key: string; why: string }[];
}

async function bucketOf(label: string): Promise<string> {
  const bucket = await createVersionedBucket(s3, label);
  cleanUp(() => emptyAndDeleteBucket(s3, bucket));
  return bucket;
}

/** Before T: every key written twice (x also deleted and written again); after T: a overwritten, b deleted, new written. */
async function incident(bucket: string) {
  const writer = new HistoryWriter(s3, bucket);
  for (const key of ['site/a.txt', 'site/b.txt', 'site/x.txt']) {
    await writer.put(key, `${key} one`);
    await writer.put(key, `${key} two, longer`);
  }
  await writer.del('site/x.txt');
  await writer.put('site/x.txt', 'site/x.txt three');
  await sleep(50);
  const cut = writer.log.length;
  await writer.put('site/a.txt', 'site/a.txt after T');
  await writer.del('site/b.txt');
  await writer.put('site/new.txt', 'new after T');
  const at = new Date(instantAtCut(writer, await listHistory(s3, bucket), cut)).toISOString();
  await sleep(50);
  return { writer, at };
}

const differingKeys = (stdout: string) => (JSON.parse(stdout) as VerifyDoc).differing.map((d) => d.key);

test.concurrent(
  'verify passes after a delete-mode restore (by URI --at and by restore id), then names exactly the key changed afterwards',
  async () => {
    // Prepare
    const bucket = await bucketOf('cli-verify-delete');
    const { writer, at } = await incident(bucket);
    const dir = await home();
    const uri = `s3://${bucket}/site/`;
    const restore = await runCli(['restore', uri, '--recursive', '--at', at, '--mode', 'delete', '--yes', '--json', '--no-progress'], { home: dir });
    const { restoreId } = JSON.parse(restore.stdout) as RestoreSummary;

    // Act
    const byUri = await runCli(['verify', uri, '--recursive', '--at', at], { home: dir });
    const byId = await runCli(['verify', restoreId], { home: dir });
    await writer.put('site/b.txt', 'changed after the restore');
    const changed = await runCli(['verify', restoreId, '--json'], { home: dir });

    // Assess
    expect(restore.code).toBe(0);
    expect(byUri.code).toBe(0);
    // new.txt had no entry at T: delete mode removed every entry of it, so three keys are left.
    expect(byUri.stdout).toContain('verified: all 3 keys');
    expect(byId.code).toBe(0);
    expect(changed.code).toBe(1);
    expect(differingKeys(changed.stdout)).toEqual(['site/b.txt']);
  },
  180_000,
);

test.concurrent(
  'verify passes after an undelete --since (by restore id, and --at just before the deletes), then names exactly the key deleted again afterwards',
  async () => {
    // Prepare: after T only deletes, so the undelete gives back the state at T.
    const bucket = await bucketOf('cli-verify-undelete');
    const writer = new HistoryWriter(s3, bucket);
    for (const key of ['docs/a.txt', 'docs/b.txt', 'docs/c.txt']) await writer.put(key, `${key} kept`);
    await writer.put('docs/old.txt', 'deleted long ago');
    await writer.del('docs/old.txt');
    await sleep(50);
    const since = new Date(Math.max(...(await listHistory(s3, bucket)).map((e) => e.lastModified)) + 1).toISOString();
    await sleep(50);
    await writer.del('docs/a.txt');
    await writer.del('docs/b.txt');
    await sleep(50);
    const dir = await home();
    const uri = `s3://${bucket}/docs/`;
    const undelete = await runCli(['undelete', uri, '--recursive', '--since', since, '--yes', '--json', '--no-progress'], { home: dir });
    const { restoreId } = JSON.parse(undelete.stdout) as RestoreSummary;

    // Act
    const byId = await runCli(['verify', restoreId], { home: dir });
    const atSince = await runCli(['verify', uri, '--recursive', '--at', since], { home: dir });
    const now = await runCli(['verify', uri, '--recursive', '--at', new Date().toISOString()], { home: dir });
    await writer.del('docs/b.txt');
    const changedById = await runCli(['verify', restoreId, '--json'], { home: dir });
    const changedAtSince = await runCli(['verify', uri, '--recursive', '--at', since, '--json'], { home: dir });

    // Assess
    expect(undelete.code).toBe(0);
    expect(byId.code).toBe(0);
    expect(atSince.code).toBe(0);
    expect(now.code).toBe(0);
    expect(changedById.code).toBe(1);
    expect(differingKeys(changedById.stdout)).toEqual(['docs/b.txt']);
    expect(changedAtSince.code).toBe(1);
    expect(differingKeys(changedAtSince.stdout)).toEqual(['docs/b.txt']);
  },
  180_000,
);

test.concurrent(
  'verify --to --with-history passes after a restore to another place with history (and by restore id), then names exactly the destination key changed afterwards',
  async () => {
    // Prepare
    const bucket = await bucketOf('cli-verify-hist-src');
    const destination = await bucketOf('cli-verify-hist-dst');
    const { at } = await incident(bucket);
    const dir = await home();
    const uri = `s3://${bucket}/site/`;
    const to = `s3://${destination}/copy/`;
    const restore = await runCli(['restore', uri, '--recursive', '--at', at, '--to', to, '--with-history', '--yes', '--json', '--no-progress'], {
      home: dir,
    });
    const { restoreId } = JSON.parse(restore.stdout) as RestoreSummary;

    // Act
    const byUri = await runCli(['verify', uri, '--recursive', '--at', at, '--to', to, '--with-history'], { home: dir });
    const byId = await runCli(['verify', restoreId], { home: dir });
    await new HistoryWriter(s3, destination).put('copy/site/x.txt', 'changed there after the restore');
    const changed = await runCli(['verify', restoreId, '--json'], { home: dir });

    // Assess
    expect(restore.code).toBe(0);
    expect(byUri.code).toBe(0);
    expect(byId.code).toBe(0);
    expect(changed.code).toBe(1);
    const doc = JSON.parse(changed.stdout) as VerifyDoc;
    expect(doc.differing.map((d) => d.key)).toEqual(['site/x.txt']);
    expect(doc.differing[0]!.why).toBe(
      `differs: the destination key "copy/site/x.txt" has 5 entries that are not the first of the source's 4 up to the restore point`,
    );
  },
  180_000,
);
