/**
 * Errors that do not heal: S3 refuses one key's write with AccessDenied, a
 * source version is gone (NoSuchVersion), a version is archived
 * (InvalidObjectState: S3 says so on the copy, or the listing shows it in
 * GLACIER and the engine knows before copying). Each fails its key only, with
 * S3's error code and status in the report; the other keys are restored; the
 * restore ends PARTIAL; the CLI exits 1 and names the failed keys. The fault
 * proxy gives the answers S3 would; the failed keys' histories stay as they were.
 */
import { expect } from '@jest/globals';
import { runRestoreLocally } from '../../cli/local-runner.ts';
import type { KeyOutcome, RestoreMode } from '#core/restore/model.ts';
import { workKeys } from '#core/steps/contracts.ts';
import type { FaultRule } from '../support/fault-proxy.ts';
import { faultProxyFixture } from '../support/fault-proxy-fixture.ts';
import { HistoryWriter, historyLines, instantAtCut, listHistory, sleep, type Entry } from '../support/history.ts';
import { messageLines, removeWarmHome, runCli, tempHome } from '../cli/run-cli.ts';
import { restoreClientThrough } from './faulty-s3.ts';

const DENIED = 'lasting/denied.txt';
const GONE = 'lasting/gone.txt';
const ARCHIVED = 'lasting/archived.txt';
const GLACIER = 'lasting/glacier.txt';
const FINE = ['lasting/fine-1.txt', 'lasting/fine-2.txt'];
const CREATED = 'lasting/created-after-t.txt';

const fx = faultProxyFixture('lasting', { seed: 6 });
const plain = fx.s3;

afterAll(async () => {
  await removeWarmHome();
});

interface Seeded {
  readonly bucket: string;
  readonly at: string;
  readonly before: Entry[];
}

/** Every key overwritten after T, one created after T. */
async function seeded(label: string): Promise<Seeded> {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(plain, bucket);
  const keys = [DENIED, GONE, ARCHIVED, GLACIER, ...FINE];
  for (const key of keys) await w.put(key, `${key} at T`);
  await sleep(25);
  const cut = w.log.length;
  for (const key of keys) await w.put(key, `${key} after T`);
  await w.put(CREATED, 'created after T');
  const before = await listHistory(plain, bucket);
  return { bucket, before, at: new Date(instantAtCut(w, before, cut)).toISOString() };
}

/** The answers S3 gives for writes that can't succeed, for this bucket's keys. */
function copyModeRefusals(bucket: string): FaultRule[] {
  return [
    {
      name: 'AccessDenied on the copy over denied.txt',
      when: (r) => r.bucket === bucket && r.operation === 'CopyObject' && r.key === DENIED,
      action: { kind: 'error', status: 403, code: 'AccessDenied', message: 'Access Denied' },
    },
    {
      name: 'NoSuchVersion for the source of gone.txt',
      when: (r) => r.bucket === bucket && r.operation === 'CopyObject' && r.copySource?.key === GONE,
      action: { kind: 'error', status: 404, code: 'NoSuchVersion', message: 'The specified version does not exist.' },
    },
    {
      name: 'InvalidObjectState on the copy of archived.txt',
      when: (r) => r.bucket === bucket && r.operation === 'CopyObject' && r.key === ARCHIVED,
      action: { kind: 'error', status: 403, code: 'InvalidObjectState', message: "The operation is not valid for the object's storage class" },
    },
    {
      name: 'every listing shows the versions of glacier.txt in GLACIER',
      when: (r) => r.bucket === bucket && r.operation === 'ListObjectVersions',
      action: {
        kind: 'rewrite',
        body: (xml) =>
          xml.replace(/<Version>([\s\S]*?)<\/Version>/g, (version) =>
            version.includes(`<Key>${GLACIER}</Key>`)
              ? version.replace(/<StorageClass>[^<]*<\/StorageClass>/, '<StorageClass>GLACIER</StorageClass>')
              : version,
          ),
      },
    },
  ];
}

const historyOf = (entries: readonly Entry[], key: string) => historyLines(entries.filter((e) => e.key === key));

async function restoreLocally(bucket: string, at: string, mode: RestoreMode) {
  const s3 = restoreClientThrough(fx.proxy, 3);
  const store = fx.workStore();
  const summary = await runRestoreLocally(
    { request: { bucket, prefix: 'lasting/', at, mode, ...(mode === 'delete' ? { confirmPermanentDelete: true } : {}) } },
    { s3, store },
  ).finally(() => s3.destroy());
  const rows = await store.getLines<KeyOutcome>(workKeys(summary.restoreId).reportJsonl);
  return { summary, row: (key: string) => rows.find((r) => r.Key === key) };
}

test('copy mode: AccessDenied, NoSuchVersion and InvalidObjectState (from S3, or a GLACIER version) each fail their own key with that code; the other keys are restored; PARTIAL', async () => {
  const { bucket, at, before } = await seeded('copy');
  for (const rule of copyModeRefusals(bucket)) fx.proxy.addRule(rule);

  const { summary, row } = await restoreLocally(bucket, at, 'copy');

  expect(row(DENIED)).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'AccessDenied', HTTPStatusCode: 403 });
  expect(row(GONE)).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'NoSuchVersion', HTTPStatusCode: 404 });
  expect(row(ARCHIVED)).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'InvalidObjectState', HTTPStatusCode: 403 });
  expect(row(GLACIER)).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'InvalidObjectState', HTTPStatusCode: 403 });
  expect(row(GLACIER)?.ResultMessage).toMatch(/GLACIER: restore it with RestoreObject first/);
  for (const key of FINE) expect(row(key)).toMatchObject({ TaskStatus: 'restored', ErrorCode: '' });
  expect(row(CREATED)).toMatchObject({ TaskStatus: 'deleted' });
  expect(summary).toMatchObject({ status: 'PARTIAL', counts: { failed: 4, restored: 2, deleted: 1 } });
  const after = await listHistory(plain, bucket);
  for (const key of [DENIED, GONE, ARCHIVED, GLACIER]) expect({ key, history: historyOf(after, key) }).toEqual({ key, history: historyOf(before, key) });
  // The archived version was never asked for: the engine knew from the listing.
  expect(fx.proxy.stats.rules['every listing shows the versions of glacier.txt in GLACIER']).toBeGreaterThan(0);
});

test('delete mode: a per-entry AccessDenied fails that key only and leaves its entries; the other keys are restored; PARTIAL', async () => {
  const { bucket, at, before } = await seeded('delete');
  fx.proxy.addRule({
    name: 'AccessDenied for the entries of denied.txt, SlowDown for the rest of the batch',
    when: (r) => r.bucket === bucket && (r.deleteEntries ?? []).some((e) => e.key === DENIED),
    action: { kind: 'deleteEntryErrors', codeOf: (entry) => (entry.key === DENIED ? 'AccessDenied' : undefined), otherwise: 'SlowDown' },
  });

  const { summary, row } = await restoreLocally(bucket, at, 'delete');

  expect(row(DENIED)).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'AccessDenied', HTTPStatusCode: 403 });
  for (const key of [GONE, ARCHIVED, GLACIER, ...FINE]) expect({ key, status: row(key)?.TaskStatus }).toEqual({ key, status: 'restored' });
  expect(row(CREATED)).toMatchObject({ TaskStatus: 'deleted' });
  expect(summary).toMatchObject({ status: 'PARTIAL', counts: { failed: 1 } });
  const after = await listHistory(plain, bucket);
  expect(historyOf(after, DENIED)).toEqual(historyOf(before, DENIED));
  expect(after.filter((e) => e.key === CREATED)).toEqual([]);
});

test('the CLI exits 1 when keys fail for good, names them with their error codes, and says where the report is', async () => {
  const { bucket, at, before } = await seeded('cli');
  for (const rule of copyModeRefusals(bucket)) fx.proxy.addRule(rule);
  const home = await tempHome();

  const result = await runCli(['restore', `s3://${bucket}/lasting/`, '--recursive', '--at', at, '--endpoint-url', fx.proxy.endpoint, '--no-progress'], {
    home: home.dir,
  }).finally(() => home.remove());

  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(/^PARTIAL: /);
  expect(result.stdout).toMatch(/failed 4/);
  expect(result.stdout).toContain(`${DENIED}: AccessDenied (403)`);
  expect(result.stdout).toContain(`${GONE}: NoSuchVersion (404)`);
  expect(result.stdout).toContain(`${ARCHIVED}: InvalidObjectState (403)`);
  expect(result.stdout).toContain(`${GLACIER}: InvalidObjectState (403)`);
  expect(messageLines(result.stderr)).toEqual([expect.stringMatching(/^error: 4 keys failed: see the report at .*report\.csv$/)]);
  const after = await listHistory(plain, bucket);
  for (const key of [DENIED, GONE, ARCHIVED, GLACIER]) expect(historyOf(after, key)).toEqual(historyOf(before, key));
});
