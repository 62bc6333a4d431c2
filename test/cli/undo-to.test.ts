/**
 * `undo <restore id>` of a restore to another place (`--to`), through the real
 * binary on the local S3: it permanently deletes exactly the versions and delete
 * markers that restore wrote at the destination, only with `--yes` (exit 2 and
 * nothing deleted without it, `--dry-run` lists and deletes nothing), leaves a
 * destination key written since alone and lists it, and a second undo deletes
 * nothing. With history, the entries of both passes go.
 */
import { HistoryWriter, historyLines, instantAtCut, listHistory, sleep, type Entry } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket } from '../support/s3.ts';
import { cliFixture, runCli, runCliOnTerminal } from './run-cli.ts';

const { s3, home, cleanUp } = cliFixture();

async function bucketOf(label: string): Promise<string> {
  const bucket = await createVersionedBucket(s3, label);
  cleanUp(() => emptyAndDeleteBucket(s3, bucket));
  return bucket;
}

/** Writes `before` (each key's writes in order: a body, or null for a delete marker), then `after` past T; returns T. */
async function sourceWith(bucket: string, before: Record<string, (string | null)[]>, after: Record<string, (string | null)[]>): Promise<string> {
  const writer = new HistoryWriter(s3, bucket);
  const write = async (key: string, body: string | null) => (body === null ? writer.del(key) : writer.put(key, body));
  for (const [key, bodies] of Object.entries(before)) for (const body of bodies) await write(key, body);
  await sleep(50);
  const cut = writer.log.length;
  for (const [key, bodies] of Object.entries(after)) for (const body of bodies) await write(key, body);
  const at = new Date(instantAtCut(writer, await listHistory(s3, bucket), cut)).toISOString();
  await sleep(50);
  return at;
}

const without = (entries: readonly Entry[], key: string) => historyLines(entries.filter((e) => e.key !== key));

test.concurrent(
  'undo of a restore --to deletes only with --yes exactly what it wrote there, leaves and lists a key rewritten since, and a second undo deletes nothing',
  async () => {
    // Prepare: the destination holds an older copy of a.txt and an unrelated key before the restore.
    const source = await bucketOf('cli-undo-to-src');
    const destination = await bucketOf('cli-undo-to-dst');
    const at = await sourceWith(
      source,
      { 'site/a.txt': ['a at T'], 'site/b.txt': ['b at T'], 'site/later.txt': ['later at T'] },
      { 'site/a.txt': ['a after T, longer'], 'site/b.txt': [null] },
    );
    const dst = new HistoryWriter(s3, destination);
    await dst.put('restored/site/a.txt', 'an older copy at the destination');
    await dst.put('restored/keep.txt', 'not the restore');
    const beforeRestore = await listHistory(s3, destination);
    const dir = await home();
    const restore = await runCli(
      ['restore', `s3://${source}/site/`, '--recursive', '--at', at, '--to', `s3://${destination}/restored/`, '--yes', '--json', '--no-progress'],
      {
        home: dir,
      },
    );
    expect(restore.code).toBe(0);
    const { restoreId } = JSON.parse(restore.stdout) as { restoreId: string };
    await dst.put('restored/site/later.txt', 'written there after the restore');
    const afterRestore = historyLines(await listHistory(s3, destination));

    // Act
    const unconfirmed = await runCli(['undo', restoreId, '--no-progress'], { home: dir });
    const afterUnconfirmed = historyLines(await listHistory(s3, destination));
    const dry = await runCli(['undo', restoreId, '--dry-run', '--no-progress'], { home: dir });
    const afterDry = historyLines(await listHistory(s3, destination));
    const undo = await runCli(['undo', restoreId, '--yes', '--no-progress'], { home: dir });
    const afterUndo = await listHistory(s3, destination);
    const again = await runCli(['undo', restoreId, '--yes', '--no-progress'], { home: dir });

    // Assess
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('permanently deletes the versions and delete markers it wrote in');
    expect(afterUnconfirmed).toEqual(afterRestore);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('restored/site/a.txt');
    expect(dry.stdout).toContain('restored/site/b.txt');
    expect(afterDry).toEqual(afterRestore);
    expect(undo.code).toBe(1);
    expect(undo.stdout).toMatch(/restored\/site\/later\.txt: ChangedSinceRestore \(409\) the key changed after the restore/);
    expect(without(afterUndo, 'restored/site/later.txt')).toEqual(without(beforeRestore, 'restored/site/later.txt'));
    expect(afterUndo.filter((e) => e.key === 'restored/site/later.txt')).toHaveLength(2);
    expect(again.stdout).toMatch(/unchanged 2, failed 1/);
    expect(historyLines(await listHistory(s3, destination))).toEqual(historyLines(afterUndo));
  },
  180_000,
);

test.concurrent(
  'undo of a restore --to --with-history deletes every entry of both passes: the destination is back to exactly its listing before',
  async () => {
    // Prepare
    const source = await bucketOf('cli-undo-hist-src');
    const destination = await bucketOf('cli-undo-hist-dst');
    const at = await sourceWith(
      source,
      { 'logs/x.txt': ['x1', 'x2, longer', null, 'x3'], 'logs/y.txt': ['y1', null] },
      { 'logs/x.txt': ['x after T'], 'logs/z.txt': ['z after T'] },
    );
    await new HistoryWriter(s3, destination).put('copy/keep.txt', 'not the restore');
    const before = historyLines(await listHistory(s3, destination));
    const dir = await home();
    const restore = await runCli(
      ['restore', `s3://${source}/logs/`, '--recursive', '--at', at, '--to', `s3://${destination}/copy/`, '--with-history', '--yes', '--json', '--no-progress'],
      { home: dir },
    );
    expect(restore.code).toBe(0);
    const { restoreId } = JSON.parse(restore.stdout) as { restoreId: string };
    const written = await listHistory(s3, destination, 'copy/logs/');

    // Act
    const undo = await runCli(['undo', restoreId, '--yes', '--json', '--no-progress'], { home: dir });

    // Assess
    expect(written).toHaveLength(6);
    expect(undo.code).toBe(0);
    expect((JSON.parse(undo.stdout) as { status: string }).status).toBe('SUCCEEDED');
    expect(historyLines(await listHistory(s3, destination))).toEqual(before);
  },
  180_000,
);

test.concurrent(
  'on a terminal, the undo of a restore --to asks first: another answer deletes nothing, the bucket name deletes what it wrote',
  async () => {
    // Prepare
    const source = await bucketOf('cli-undo-tty-src');
    const destination = await bucketOf('cli-undo-tty-dst');
    const at = await sourceWith(source, { 'k/a.txt': ['a at T'] }, { 'k/a.txt': ['a after T'] });
    const dir = await home();
    const restore = await runCli(['restore', `s3://${source}/k/`, '--recursive', '--at', at, '--to', `s3://${destination}/r/`, '--no-progress'], {
      home: dir,
    });
    const restoreId = /restore id: (\S+)/.exec(restore.stdout)?.[1] ?? '';
    const written = historyLines(await listHistory(s3, destination));

    // Act
    const refused = await runCliOnTerminal(['undo', restoreId, '--no-progress'], 'no\n', { home: dir });
    const afterRefused = historyLines(await listHistory(s3, destination));
    const confirmed = await runCliOnTerminal(['undo', restoreId, '--no-progress'], `${destination}\n`, { home: dir });

    // Assess
    expect(restore.stdout).toContain(`undo: s3-rewind undo ${restoreId} --dry-run, then --yes (permanently deletes what it wrote in s3://${destination}/r/)`);
    expect(written).toHaveLength(1);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain('not confirmed: nothing was deleted');
    expect(afterRefused).toEqual(written);
    expect(confirmed.code).toBe(0);
    expect(await listHistory(s3, destination)).toEqual([]);
  },
  180_000,
);
