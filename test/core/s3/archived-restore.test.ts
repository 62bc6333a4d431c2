/**
 * Archived versions with `restoreArchived`: the local RGW can't archive, so the
 * fault proxy gives only the archive-specific answers (the storage class in
 * listings, HEAD's `x-amz-restore`, RestoreObject's 202, the InvalidObjectState
 * of a copy from Intelligent-Tiering's archive tiers); every other request,
 * and every copy once "restored", is real RGW.
 */
import type { RestoreRequestInput } from '#core/restore/request.ts';
import { faultProxyFixture } from '../../support/fault-proxy-fixture.ts';
import { bodyOf, listHistory } from '../../support/history.ts';
import { runRestore } from '../../support/drive.ts';
import { restoreClientThrough } from '../../reliability/faulty-s3.ts';
import { archiveRules, seedColdAndPlain, type ArchiveSimulation } from '../../support/archive-simulation.ts';

const fx = faultProxyFixture('archived');
const s3 = fx.s3;

/** `arch/cold.txt` and `arch/plain.txt` at T, both overwritten after T. */
async function seeded(label: string): Promise<{ bucket: string; at: string; coldVersion: string }> {
  const bucket = await fx.versionedBucket(label);
  return { bucket, ...(await seedColdAndPlain(s3, bucket)) };
}

async function restore(request: RestoreRequestInput) {
  const client = restoreClientThrough(fx.proxy, 3);
  const run = await runRestore(client, request, { workBucket: fx.workBucket() }).finally(() => client.destroy());
  return { summary: run.summary, row: (key: string) => run.rows.find((r) => r.Key === key) };
}

function simulate(bucket: string, versionId: string, storageClass: ArchiveSimulation['storageClass']): ArchiveSimulation {
  const archive: ArchiveSimulation = { bucket, key: 'arch/cold.txt', versionId, storageClass, state: 'archived', restoreRequests: [] };
  for (const rule of archiveRules(archive)) fx.proxy.addRule(rule);
  return archive;
}

test('a GLACIER version: the first run requests RestoreObject (tier, days) and the key waits (RestoreRequested); a run while S3 restores asks nothing more (RestoreInProgress); once restored, it is copied back', async () => {
  const { bucket, at, coldVersion } = await seeded('glacier');
  const archive = simulate(bucket, coldVersion, 'GLACIER');
  const request: RestoreRequestInput = { bucket, prefix: 'arch/', at, restoreArchived: true, archiveTier: 'Bulk', archiveDays: 3 };

  const first = await restore(request);
  expect(first.row('arch/cold.txt')).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'RestoreRequested', HTTPStatusCode: 202 });
  expect(first.row('arch/cold.txt')?.ResultMessage).toMatch(/GLACIER.*RestoreObject requested \(Bulk, typically 5-12 hours\)/);
  expect(first.row('arch/plain.txt')).toMatchObject({ TaskStatus: 'restored' });
  expect(first.summary).toMatchObject({ status: 'PARTIAL', archiveRestoresPending: 1 });
  expect(archive.restoreRequests).toEqual([{ versionId: coldVersion, days: 3, tier: 'Bulk' }]);
  expect(await bodyOf(s3, bucket, 'arch/cold.txt')).toBe('cold overwritten');

  archive.state = 'in-progress';
  const second = await restore(request);
  expect(second.row('arch/cold.txt')).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'RestoreInProgress' });
  expect(archive.restoreRequests).toHaveLength(1);

  archive.state = 'restored';
  const third = await restore(request);
  expect(third.row('arch/cold.txt')).toMatchObject({ TaskStatus: 'restored', ErrorCode: '' });
  expect(third.row('arch/plain.txt')).toMatchObject({ TaskStatus: 'unchanged' });
  expect(third.summary.status).toBe('SUCCEEDED');
  expect(third.summary.archiveRestoresPending).toBeUndefined();
  expect(await bodyOf(s3, bucket, 'arch/cold.txt')).toBe('cold at T');
  // Written readable: the restored copy is STANDARD, not archived again.
  expect((await listHistory(s3, bucket)).find((e) => e.key === 'arch/cold.txt' && e.isLatest)?.storageClass ?? 'STANDARD').toBe('STANDARD');
});

test('without restoreArchived a GLACIER version fails its key InvalidObjectState and nothing asks S3 to restore it', async () => {
  const { bucket, at, coldVersion } = await seeded('optin');
  const archive = simulate(bucket, coldVersion, 'GLACIER');
  const { row, summary } = await restore({ bucket, prefix: 'arch/', at });
  expect(row('arch/cold.txt')).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'InvalidObjectState' });
  expect(summary.archiveRestoresPending).toBeUndefined();
  expect(archive.restoreRequests).toEqual([]);
});

test('an Intelligent-Tiering archive-tier version (listed INTELLIGENT_TIERING, InvalidObjectState on the copy) is restored without Days, then copied keeping its class', async () => {
  const { bucket, at, coldVersion } = await seeded('tiering');
  const archive = simulate(bucket, coldVersion, 'INTELLIGENT_TIERING');
  const request: RestoreRequestInput = { bucket, prefix: 'arch/', at, restoreArchived: true };

  const first = await restore(request);
  expect(first.row('arch/cold.txt')).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'RestoreRequested' });
  expect(archive.restoreRequests).toEqual([{ versionId: coldVersion, tier: 'Standard' }]);

  archive.state = 'restored';
  const copy = fx.proxy.waitForRequest((r) => r.operation === 'CopyObject' && r.copySource?.versionId === coldVersion);
  const second = await restore(request);
  // The copy goes ahead, keeping the class (RGW has no INTELLIGENT_TIERING class and refuses it: the one answer not simulated).
  expect((await copy).headers['x-amz-storage-class']).toBe('INTELLIGENT_TIERING');
  expect(second.row('arch/cold.txt')).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'InvalidArgument' });
  expect(archive.restoreRequests).toHaveLength(1);
});
