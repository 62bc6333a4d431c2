/**
 * Manifests as operators write them: a CSV with a header row (a spreadsheet
 * export) is read from its first key, and a line without a version, with no
 * --at, says to add --at. The real binary against the local S3.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyAction } from '../../lambdas/core/restore/model.ts';
import { HistoryWriter, historyLines, listHistory } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket } from '../support/s3.ts';
import { cliFixture, messageLines, runCli } from './run-cli.ts';

const { s3, home, cleanUp } = cliFixture();

async function bucketWithKeys(label: string): Promise<{ bucket: string; first: string }> {
  const bucket = await createVersionedBucket(s3, label);
  cleanUp(() => emptyAndDeleteBucket(s3, bucket));
  const writer = new HistoryWriter(s3, bucket);
  const first = await writer.put('docs/a b.txt', 'a1');
  await writer.put('docs/a b.txt', 'a2');
  await writer.put('docs/c.txt', 'c1');
  return { bucket, first };
}

test.concurrent('a CSV manifest whose first line is a Bucket,Key,VersionId header is read from the next line', async () => {
  const { bucket, first } = await bucketWithKeys('cli-manifest-header');
  const dir = await home();
  const manifest = join(dir, 'keys.csv');
  writeFileSync(manifest, `Bucket,Key,VersionId\n${bucket},docs/a+b.txt,${first}\n`);

  const result = await runCli(['plan', '--manifest', manifest, '--json', '--no-progress'], { home: dir });

  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  const { actions } = JSON.parse(result.stdout) as { actions: KeyAction[] };
  expect(actions.map((a) => [a.key, a.action])).toEqual([['docs/a b.txt', 'copy']]);
});

test.concurrent('a manifest line without a version and no --at says to add --at, and nothing is written', async () => {
  const { bucket } = await bucketWithKeys('cli-manifest-no-at');
  const before = historyLines(await listHistory(s3, bucket));
  const dir = await home();
  const manifest = join(dir, 'keys.csv');
  writeFileSync(manifest, `${bucket},docs/c.txt\n`);

  const result = await runCli(['restore', '--manifest', manifest, '--no-progress'], { home: dir });

  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
  expect(messageLines(result.stderr)[0]).toBe(
    'error: manifest line 1 has no version id: add --at TIME (API: "at") to restore such lines to a point in time, or give the line its version id',
  );
  expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
});
