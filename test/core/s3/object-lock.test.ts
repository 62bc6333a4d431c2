/**
 * Object Lock: a version under retention (GOVERNANCE or COMPLIANCE) or legal
 * hold can't be deleted. Delete mode refuses a key with any locked newer version
 * whole (never half-restored, never bypassing governance) and restores the
 * others; copy mode only adds versions, which Object Lock allows. Validation
 * reads whether the bucket has Object Lock once, for every act step: a lock
 * turned on after it is met by S3's own refusal (the key fails, its locked
 * versions stay; entries of it that are not locked may go, as planned).
 */
import { expect } from '@jest/globals';
import { PutObjectLegalHoldCommand, PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { HistoryWriter, bodyOf, countRequests, historyLines, instantAtCut, listHistory, sleep, stateAt } from '../../support/history.ts';
import { iso, rowOf, runRestore } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';
import { keyHistories } from '#core/s3/listing.ts';
import { planKey } from '#core/restore/planner.ts';
import { actOnChunk } from '#core/targets/in-place.ts';

const fx = engineFixture('lock');
const s3 = fx.s3;

const LOCKED = ['locked/compliance', 'locked/governance', 'locked/legal-hold'];
const FREE = ['free/overwritten', 'free/deleted', 'free/locked-before-t'];

/**
 * A lock-enabled bucket: three keys whose newer version is locked (one way each,
 * the governance one with a delete marker on top), and free keys restored
 * beside them, one of which has a locked version older than T.
 */
async function lockedHistory(label: string) {
  const bucket = await fx.versionedBucket(label, { objectLock: true });
  const w = new HistoryWriter(s3, bucket);
  const retain = (key: string, versionId: string, mode: 'GOVERNANCE' | 'COMPLIANCE', ms: number) =>
    s3.send(
      new PutObjectRetentionCommand({ Bucket: bucket, Key: key, VersionId: versionId, Retention: { Mode: mode, RetainUntilDate: new Date(Date.now() + ms) } }),
    );
  for (const key of [...LOCKED, ...FREE]) await w.put(key, `${key} at T`);
  await retain('free/locked-before-t', w.writesOf('free/locked-before-t')[0]!.versionId, 'GOVERNANCE', 3_600_000);
  await sleep(25);
  const cut = w.log.length;
  // COMPLIANCE can't be lifted: short, so the bucket can be removed after the test.
  await retain('locked/compliance', await w.put('locked/compliance', 'newer'), 'COMPLIANCE', 12_000);
  await retain('locked/governance', await w.put('locked/governance', 'newer'), 'GOVERNANCE', 3_600_000);
  await w.del('locked/governance');
  const held = await w.put('locked/legal-hold', 'newer');
  await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'locked/legal-hold', VersionId: held, LegalHold: { Status: 'ON' } }));
  await w.put('free/overwritten', 'newer');
  await w.del('free/deleted');
  await w.put('free/locked-before-t', 'newer');
  const before = await listHistory(s3, bucket);
  return { bucket, w, before, at: instantAtCut(w, before, cut) };
}

const REASONS: Record<string, RegExp> = {
  'locked/compliance': /COMPLIANCE retention/,
  'locked/governance': /GOVERNANCE retention/,
  'locked/legal-hold': /legal hold/,
};

// Both ways an act step carries out a delete-mode chunk: as planned (listed moments ago), or listed again.
test.each([
  { path: 'its chunk deleted as planned', label: 'delete-planned', actOptions: {} },
  { path: 'its chunk listed again', label: 'delete-relisted', actOptions: { freshPlanMs: 0 } },
])(
  'delete mode ($path) refuses each key with a locked newer version (ObjectLocked, naming the lock), leaves all its entries as they were, and restores the other keys',
  async ({ label, actOptions }) => {
    const { bucket, w, before, at } = await lockedHistory(label);
    const sent = countRequests(s3);

    const run = await runRestore(
      s3,
      { bucket, prefix: '', at: iso(at), mode: 'delete', confirmPermanentDelete: true },
      { workBucket: fx.workBucket(), actOptions },
    );
    sent.stop();

    const after = await listHistory(s3, bucket);
    for (const key of LOCKED) {
      expect(rowOf(run, key)).toMatchObject({ Key: key, TaskStatus: 'failed', ErrorCode: 'ObjectLocked' });
      expect({ key, message: rowOf(run, key).ResultMessage }).toEqual({ key, message: expect.stringMatching(REASONS[key]!) });
      expect({ key, history: historyLines(after.filter((e) => e.key === key)) }).toEqual({ key, history: historyLines(before.filter((e) => e.key === key)) });
    }
    for (const key of FREE) {
      expect({ key, status: rowOf(run, key).TaskStatus }).toEqual({ key, status: 'restored' });
      expect({ key, body: await bodyOf(s3, bucket, key) }).toEqual({ key, body: stateAt(w, before, key, at) });
      expect({
        key,
        history: historyLines(
          after.filter((e) => e.key === key),
          { latest: false },
        ),
      }).toEqual({
        key,
        history: historyLines(
          before.filter((e) => e.key === key && e.lastModified <= at),
          { latest: false },
        ),
      });
    }
    expect(run.summary.status).toBe('PARTIAL');
    expect(run.summary.counts).toMatchObject({ failed: 3, restored: 3 });
    // Governance is never bypassed.
    const deletes = [...sent.inputs('DeleteObjectsCommand'), ...sent.inputs('DeleteObjectCommand')];
    expect(deletes.length).toBeGreaterThan(0);
    expect(deletes.filter((input) => input.BypassGovernanceRetention)).toEqual([]);
  },
);

test('copy mode restores every key, locked ones included: a new version on a locked key is allowed and nothing locked is deleted', async () => {
  const { bucket, w, before, at } = await lockedHistory('copy');

  const run = await runRestore(s3, { bucket, prefix: '', at: iso(at), mode: 'copy' }, { workBucket: fx.workBucket() });

  const after = await listHistory(s3, bucket);
  for (const key of [...LOCKED, ...FREE]) {
    expect({ key, status: rowOf(run, key).TaskStatus }).toEqual({ key, status: 'restored' });
    expect({ key, body: await bodyOf(s3, bucket, key) }).toEqual({ key, body: stateAt(w, before, key, at) });
  }
  expect(after.map((e) => e.versionId)).toEqual(expect.arrayContaining(before.map((e) => e.versionId)));
  expect(run.summary.status).toBe('SUCCEEDED');
});

test('Object Lock the act step was not told of (turned on after validation): S3 refuses each locked deletion, the key fails with its error and its locked versions stay; the other keys are restored', async () => {
  const { bucket, before, at } = await lockedHistory('stale');
  const spec = { bucket, scope: { kind: 'prefix', prefix: '' }, point: { kind: 'pointInTime', at }, mode: 'delete' } as const;
  const chunkKeys = async function* () {
    for await (const history of keyHistories(s3, bucket, spec.scope)) yield { ...history, point: spec.point };
  };
  const planned = [];
  for await (const source of chunkKeys()) planned.push(planKey(source.key, source.entries, source.point, 'delete'));

  // Validation read no Object Lock: the act step deletes without looking at retention or legal holds.
  const outcomes = await actOnChunk(s3, spec, planned, chunkKeys(), { objectLock: false });

  const after = await listHistory(s3, bucket);
  const byKey = new Map(outcomes.map((o) => [o.Key, o]));
  for (const key of LOCKED) {
    expect({ key, status: byKey.get(key)?.TaskStatus, code: byKey.get(key)?.ErrorCode }).toEqual({ key, status: 'failed', code: 'AccessDenied' });
    const locked = before.filter((e) => e.key === key && !e.isDeleteMarker && e.lastModified > at).map((e) => e.versionId);
    expect({ key, kept: locked.filter((id) => after.some((e) => e.versionId === id)) }).toEqual({ key, kept: locked });
  }
  for (const key of FREE) expect({ key, status: byKey.get(key)?.TaskStatus }).toEqual({ key, status: 'restored' });
});
