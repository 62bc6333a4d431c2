/**
 * Manifest restores end to end on the local S3, through the step handlers:
 * each line restores its key to its own version, or without one to `at`;
 * keys are URL-decoded as Batch Operations writes them; a bad line fails the
 * restore with its line number before anything is written.
 */
import { expect } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { HistoryWriter, bodyOf, instantAtCut, listHistory, historyLines, sleep } from '../../support/history.ts';
import { iso, rowOf, runRestore, RestoreStepError, statuses } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('manifest');
const s3 = fx.s3;

async function putManifest(bucket: string, key: string, body: string): Promise<string> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return `s3://${bucket}/${key}`;
}

/** Keys with two versions before T and one after; returns the versions and T. */
async function seed(label: string, keys: readonly string[]) {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  const v1: Record<string, string> = {};
  for (const key of keys) v1[key] = await w.put(key, `${key} v1`);
  for (const key of keys) await w.put(key, `${key} v2`);
  await sleep(25);
  const cut = w.log.length;
  for (const key of keys) await w.put(key, `${key} v3`);
  const at = instantAtCut(w, await listHistory(s3, bucket), cut);
  return { bucket, w, v1, at };
}

const KEYS = ['a b.txt', 'c+d.txt', 'doc', 'doc.bak', 'e%.txt', 'ünï/ç.txt'];

test('a CSV manifest restores each line: its version when it has one, else the state at `at`; keys decode as Batch Operations encodes them', async () => {
  const { bucket, v1, at } = await seed('csv', KEYS);
  const manifest = await putManifest(
    bucket,
    'manifests/restore.csv',
    [
      `${bucket},a+b.txt`, // `+` is a space
      `${bucket},c%2Bd.txt,${v1['c+d.txt']}`, // a literal plus is %2B
      '',
      `${bucket},doc,${v1.doc}`, // exactly `doc`: never doc.bak
      `"${bucket}","e%25.txt",""`, // quoted, as S3 Inventory writes; empty version id: at
      `${bucket},${encodeURIComponent('ünï/ç.txt')}\r`,
    ].join('\n'),
  );
  const before = await listHistory(s3, bucket, 'doc.bak');

  const run = await runRestore(s3, { bucket, manifest, at: iso(at) }, { workBucket: fx.workBucket() });

  expect(statuses(run)).toEqual({ 'a b.txt': 'restored', 'c+d.txt': 'restored', doc: 'restored', 'e%.txt': 'restored', 'ünï/ç.txt': 'restored' });
  expect(await bodyOf(s3, bucket, 'a b.txt')).toBe('a b.txt v2');
  expect(await bodyOf(s3, bucket, 'c+d.txt')).toBe('c+d.txt v1');
  expect(await bodyOf(s3, bucket, 'doc')).toBe('doc v1');
  expect(await bodyOf(s3, bucket, 'e%.txt')).toBe('e%.txt v2');
  expect(await bodyOf(s3, bucket, 'ünï/ç.txt')).toBe('ünï/ç.txt v2');
  expect(rowOf(run, 'doc').VersionId).toBe(v1.doc);
  expect(historyLines(await listHistory(s3, bucket, 'doc.bak'))).toEqual(historyLines(before));
  expect(run.summary.scope).toContain('manifest');
});

test('a JSON-lines manifest with versions needs no `at`; a re-run is all unchanged; chunks of manifest lines resume where they stopped', async () => {
  const { bucket, v1 } = await seed('jsonl', ['k1', 'k2', 'k3']);
  const lines = ['k1', 'k2', 'k3'].map((key) => JSON.stringify({ bucket, key, versionId: v1[key] }));
  const manifest = await putManifest(bucket, 'm.jsonl', lines.join('\n') + '\n');

  const run = await runRestore(s3, { bucket, manifest }, { workBucket: fx.workBucket(), chunkWrites: 2 });
  expect(run.chunks.map((c) => c.actions)).toEqual([2, 1]);
  expect(statuses(run)).toEqual({ k1: 'restored', k2: 'restored', k3: 'restored' });
  for (const key of ['k1', 'k2', 'k3']) expect(await bodyOf(s3, bucket, key)).toBe(`${key} v1`);

  const again = await runRestore(s3, { bucket, manifest }, { workBucket: fx.workBucket() });
  expect(statuses(again)).toEqual({ k1: 'unchanged', k2: 'unchanged', k3: 'unchanged' });
});

test('a JSON-lines manifest of beforeVersionId lines rolls each key back to the entry before its own version (the gathered malware rollback)', async () => {
  const bucket = await fx.versionedBucket('before');
  const w = new HistoryWriter(s3, bucket);
  const clean: Record<string, string> = {};
  const infected: Record<string, string> = {};
  for (const key of ['k1', 'k2']) clean[key] = await w.put(key, `${key} clean`);
  infected.k1 = await w.put('k1', 'k1 infected');
  // k2 is infected twice later: the line names the first infected version, so k2 returns to before it.
  infected.k2 = await w.put('k2', 'k2 infected');
  await w.put('k2', 'k2 infected again');
  await w.put('k3', 'k3 untouched');
  const lines = ['k1', 'k2'].map((key) => JSON.stringify({ bucket, key, beforeVersionId: infected[key] }));
  const manifest = await putManifest(fx.workBucket(), `recovery/${bucket}.jsonl`, lines.join('\n') + '\n');

  const run = await runRestore(s3, { bucket, manifest }, { workBucket: fx.workBucket() });

  expect(statuses(run)).toEqual({ k1: 'restored', k2: 'restored' });
  expect(await bodyOf(s3, bucket, 'k1')).toBe('k1 clean');
  expect(await bodyOf(s3, bucket, 'k2')).toBe('k2 clean');
  expect(rowOf(run, 'k1').VersionId).toBe(clean.k1);
  expect(rowOf(run, 'k2').VersionId).toBe(clean.k2);
  expect(await bodyOf(s3, bucket, 'k3')).toBe('k3 untouched');
});

test('a line naming a version the key does not have fails that key only; the others are restored', async () => {
  const { bucket, v1 } = await seed('stale', ['x', 'y']);
  const manifest = await putManifest(bucket, 'm.csv', `${bucket},x,${v1.x}\n${bucket},y,no-such-version\n`);

  const run = await runRestore(s3, { bucket, manifest }, { workBucket: fx.workBucket() });

  expect(statuses(run)).toEqual({ x: 'restored', y: 'failed' });
  expect(rowOf(run, 'y').ResultMessage).toContain('no-such-version');
  expect(run.summary.status).toBe('PARTIAL');
});

test.each([
  ['a line of another bucket', (b: string) => `${b},x\nother-bucket,y\n`, /line 2: bucket "other-bucket"/, true],
  ['a line with four fields', (b: string) => `${b},x\n${b},y,v,extra\n`, /line 2: has 4 fields/, true],
  ['bad URL encoding', (b: string) => `${b},x\n\n${b},50%off\n`, /line 3: key "50%off" is not valid URL encoding/, true],
  ['a line without a version and no at', (b: string) => `${b},x,v\n${b},y\n`, /line 2 has no version id/, false],
])('%s fails the restore with the line number before anything is written', async (_label, body, message, withAt) => {
  const { bucket, at } = await seed('bad', ['x', 'y']);
  const manifest = await putManifest(bucket, 'm.csv', body(bucket));
  const before = await listHistory(s3, bucket);

  const request = { bucket, manifest, ...(withAt ? { at: iso(at) } : {}) };
  const failure = await runRestore(s3, request, { workBucket: fx.workBucket() }).catch((e: unknown) => e);

  expect(failure).toBeInstanceOf(RestoreStepError);
  expect(String((failure as RestoreStepError).error)).toMatch(message);
  expect(historyLines(await listHistory(s3, bucket))).toEqual(historyLines(before));
});

test('a manifest that does not exist is a request error', async () => {
  const bucket = await fx.versionedBucket('missing');
  const failure = await runRestore(s3, { bucket, manifest: `s3://${bucket}/nope.csv`, at: iso(Date.now()) }, { workBucket: fx.workBucket() }).catch(
    (e: unknown) => e,
  );
  expect((failure as RestoreStepError).error).toMatchObject({ name: 'RequestError', message: expect.stringContaining('does not exist') });
});
