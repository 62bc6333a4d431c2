/**
 * The undo planner, case by case: what a key returns to, a key already undone,
 * a key changed since the restore, and the undo request's checks.
 */
import { RequestError } from '#core/restore/errors.ts';
import type { EntryRef, HistoryEntry, WrittenEntry } from '#core/restore/model.ts';
import { planKey } from '#core/restore/planner.ts';
import { parseRestoreRequest, restoreIdOf } from '#core/restore/request.ts';
import { ChangedSinceRestoreError, planUndo, planUndoCopies, planUndoWrites } from '#core/restore/undo-plan.ts';
import { undoBucketOf, undoMismatch, undoModeOf, undoRequestOf } from '#core/sources/undo-source.ts';

const KEY = 'docs/a.txt';
const ver = (versionId: string, t: number, etag = `"e-${versionId}"`): Omit<HistoryEntry, 'isLatest'> => ({
  key: KEY,
  versionId,
  isDeleteMarker: false,
  lastModified: t,
  etag,
  size: 5,
});
const marker = (versionId: string, t: number): Omit<HistoryEntry, 'isLatest'> => ({ key: KEY, versionId, isDeleteMarker: true, lastModified: t });
const history = (...entries: Omit<HistoryEntry, 'isLatest'>[]): HistoryEntry[] => entries.map((e, i) => ({ ...e, isLatest: i === 0 }));
const ref = (e: Omit<HistoryEntry, 'isLatest'>): EntryRef => ({
  versionId: e.versionId,
  isDeleteMarker: e.isDeleteMarker,
  lastModified: e.lastModified,
  ...(e.isDeleteMarker ? {} : { etag: e.etag, size: e.size }),
});
const wrote = (e: Omit<HistoryEntry, 'isLatest'>): WrittenEntry => ({ versionId: e.versionId, isDeleteMarker: e.isDeleteMarker });

// v1 at T; v2 after T (current before the restore); c1 the restore's copy of v1.
const v1 = ver('v1', 1);
const v2 = ver('v2', 2);
const c1 = ver('c1', 3, v1.etag);

test('a copy the restore wrote, still current, is undone by copying the version current before it', () => {
  const action = planUndo(KEY, history(c1, v2, v1), ref(v2), wrote(c1));
  expect(action).toMatchObject({ action: 'copy', outcome: 'restored', source: { versionId: 'v2' }, current: { versionId: 'c1' } });
});

test('a delete marker the restore added is undone by copying the version it hid', () => {
  const m = marker('m1', 3);
  const action = planUndo(KEY, history(m, v2, v1), ref(v2), wrote(m));
  expect(action).toMatchObject({ action: 'copy', outcome: 'undeleted', source: { versionId: 'v2' } });
});

test('a key that was deleted before the restore (a marker current) gets a delete marker back', () => {
  const m0 = marker('m0', 2);
  const action = planUndo(KEY, history(c1, m0, v1), ref(m0), wrote(c1));
  expect(action).toMatchObject({ action: 'addDeleteMarker', outcome: 'deleted' });
});

test('a key already undone is unchanged: a copy of the version before on top of what the restore wrote, or a delete marker there', () => {
  const undoCopy = ver('u1', 4, v2.etag);
  expect(planUndo(KEY, history(undoCopy, c1, v2, v1), ref(v2), wrote(c1)).action).toBe('unchanged');
  const m0 = marker('m0', 2);
  const undoMarker = marker('u2', 4);
  expect(planUndo(KEY, history(undoMarker, c1, m0, v1), ref(m0), wrote(c1)).action).toBe('unchanged');
});

test('a key written after the restore is left alone: ChangedSinceRestore, 409', () => {
  const other = ver('x1', 4, '"other"');
  expect(() => planUndo(KEY, history(other, c1, v2, v1), ref(v2), wrote(c1))).toThrow(ChangedSinceRestoreError);
  try {
    planUndo(KEY, history(other, c1, v2, v1), ref(v2), wrote(c1));
  } catch (error) {
    expect(error).toMatchObject({ name: 'ChangedSinceRestore', $metadata: { httpStatusCode: 409 } });
    expect((error as Error).message).toContain('now holds version x1, not the version c1 the restore wrote');
  }
});

test('a version current before the restore that is gone since is ChangedSinceRestore, not a guess', () => {
  expect(() => planUndo(KEY, history(c1, v1), ref(v2), wrote(c1))).toThrow(/version v2, current before the restore, is gone/);
});

test('a report row that does not say what was written is refused for that key', () => {
  expect(() => planUndo(KEY, history(c1, v2, v1), ref(v2), undefined)).toThrow(RequestError);
});

test('planKey hands an undo point to the undo planner', () => {
  const action = planKey(KEY, history(c1, v2, v1), { kind: 'undo', restoreId: 'copy-x', before: ref(v2), wrote: wrote(c1) }, 'copy');
  expect(action).toMatchObject({ action: 'copy', source: { versionId: 'v2' } });
});

describe('the undo request', () => {
  test('takes a bucket and a restore id, runs in copy mode with an undo- id, and a dry run with a plan- id', () => {
    const request = parseRestoreRequest({ bucket: 'photos', undo: 'copy-0123456789abcdef0123' });
    expect(request.mode).toBe('copy');
    expect(restoreIdOf(request)).toMatch(/^undo-[0-9a-f]{20}$/);
    expect(restoreIdOf({ ...request, dryRun: true })).toMatch(/^plan-/);
  });

  test.each([
    ['a prefix', { prefix: 'a/' }, 'give no prefix'],
    ['a restore point', { at: '2026-01-01T00:00:00Z' }, 'give no at'],
    ['delete mode unconfirmed', { mode: 'delete' }, 'confirmPermanentDelete: the undo of a restore to another place permanently deletes'],
    ['a destination', { to: 's3://other/x/' }, 'give no to'],
  ])('refuses %s with it', (_case, extra, message) => {
    expect(() => parseRestoreRequest({ bucket: 'photos', undo: 'copy-0123456789abcdef0123', ...extra })).toThrow(message);
  });
});

describe('the undo of a restore to another place (the destination key)', () => {
  // d0 was there before the restore; the restore wrote w1 (a copy), w2 (a marker), w3 (a copy), newest w3.
  const d0 = ver('d0', 1);
  const w1 = ver('w1', 2);
  const w2 = marker('w2', 3);
  const w3 = ver('w3', 4);
  const written = [w3, w2, w1].map(wrote);

  test('deletes every entry the restore wrote, newest first, back to the entry before it', () => {
    const action = planUndoWrites(KEY, history(w3, w2, w1, d0), written);
    expect(action).toEqual({
      key: KEY,
      action: 'deleteEntries',
      outcome: 'restored',
      entries: [ref(w3), ref(w2), ref(w1)],
      restoresTo: ref(d0),
      current: ref(w3),
    });
  });

  test('a key the restore created is absent again (outcome deleted, nothing left)', () => {
    const action = planUndoWrites(KEY, history(w3, w2, w1), written);
    expect(action).toMatchObject({ action: 'deleteEntries', outcome: 'deleted', restoresTo: null });
  });

  test('deletes what is left of its entries when an earlier undo stopped halfway', () => {
    const action = planUndoWrites(KEY, history(w2, w1, d0), written);
    expect(action).toMatchObject({ action: 'deleteEntries', entries: [ref(w2), ref(w1)], restoresTo: ref(d0) });
  });

  test('none of its entries left: unchanged, so a second undo deletes nothing', () => {
    expect(planUndoWrites(KEY, history(d0), written)).toMatchObject({ action: 'unchanged', current: ref(d0) });
    expect(planUndoWrites(KEY, [], written)).toMatchObject({ action: 'unchanged', current: null });
  });

  test('a key written there since (its current entry not one the restore wrote) is left alone: ChangedSinceRestore', () => {
    const since = ver('s1', 5);
    expect(() => planUndoWrites(KEY, history(since, w3, w2, w1, d0), written)).toThrow(ChangedSinceRestoreError);
  });

  test('planKey hands a point with the written entries to this planner, in either mode', () => {
    const action = planKey(KEY, history(w3, w2, w1, d0), { kind: 'undo', restoreId: 'copy-x', written }, 'delete');
    expect(action).toMatchObject({ action: 'deleteEntries', entries: [ref(w3), ref(w2), ref(w1)] });
  });

  test('runs at the destination bucket in delete mode, with confirmPermanentDelete', () => {
    const earlier = parseRestoreRequest({ bucket: 'photos', prefix: 'a/', at: '2026-01-01T00:00:00Z', to: 's3://copies/restored/' });
    const undo = parseRestoreRequest({ bucket: 'copies', undo: 'copy-0123456789abcdef0123', mode: 'delete', confirmPermanentDelete: true });
    expect([undoBucketOf(earlier), undoModeOf(earlier)]).toEqual(['copies', 'delete']);
    expect(undoMismatch('copy-0123456789abcdef0123', earlier, undo)).toBeUndefined();
    expect(undoMismatch('copy-0123456789abcdef0123', earlier, { ...undo, mode: 'copy' })?.message).toContain('in delete mode (confirmPermanentDelete)');
    expect(undoMismatch('copy-0123456789abcdef0123', earlier, { ...undo, bucket: 'photos' })?.message).toContain('wrote to bucket "copies"');
  });

  test('an in-place undo in delete mode is refused', () => {
    const earlier = parseRestoreRequest({ bucket: 'photos', prefix: 'a/', at: '2026-01-01T00:00:00Z' });
    const undo = parseRestoreRequest({ bucket: 'photos', undo: 'copy-0123456789abcdef0123', mode: 'delete', confirmPermanentDelete: true });
    expect(undoMismatch('copy-0123456789abcdef0123', earlier, undo)?.message).toContain('its undo runs in copy mode');
  });
});

describe('undoRequestOf (the undo request the API, a local undo and a deployed undo all start)', () => {
  const id = 'copy-0123456789abcdef0123';

  test('an in-place restore: copy mode on its bucket; a confirmation is not passed on (the undo deletes nothing)', () => {
    const earlier = parseRestoreRequest({ bucket: 'photos', prefix: 'a/', at: '2026-01-01T00:00:00Z' });
    expect(undoRequestOf(id, earlier, { dryRun: false, confirmPermanentDelete: true })).toEqual(
      parseRestoreRequest({ bucket: 'photos', undo: id, mode: 'copy', dryRun: false }),
    );
  });

  test('a restore to another place: delete mode on the destination bucket, confirmed only when asked', () => {
    const earlier = parseRestoreRequest({ bucket: 'photos', prefix: 'a/', at: '2026-01-01T00:00:00Z', to: 's3://copies/restored/' });
    const confirmed = undoRequestOf(id, earlier, { dryRun: false, confirmPermanentDelete: true });
    const plan = undoRequestOf(id, earlier, { dryRun: true });
    expect(confirmed).toMatchObject({ bucket: 'copies', undo: id, mode: 'delete', dryRun: false, confirmPermanentDelete: true });
    expect(plan).toMatchObject({ bucket: 'copies', undo: id, mode: 'delete', dryRun: true });
    expect(plan.confirmPermanentDelete).not.toBe(true);
    expect(undoMismatch(id, earlier, confirmed)).toBeUndefined();
  });
});

describe('the undo of an S3 Batch Operations copy (the report names what was copied, not the version written)', () => {
  const copied = (e: Omit<HistoryEntry, 'isLatest'>) => ({ versionId: e.versionId, etag: e.etag!, size: e.size! });

  test('the copy is the one version directly on top of the version before with the copied ETag and size: undone by copying the version before', () => {
    const action = planUndo(KEY, history(c1, v2, v1), ref(v2), undefined, copied(v1));
    expect(action).toMatchObject({ action: 'copy', outcome: 'restored', source: { versionId: 'v2' }, current: { versionId: 'c1' } });
  });

  test('a key with no history before the restore: the copy at the bottom of its history is undone by a delete marker', () => {
    const n1 = ver('n1', 3, v1.etag);
    expect(planUndo(KEY, history(n1), null, undefined, copied(v1))).toMatchObject({ action: 'addDeleteMarker', outcome: 'deleted' });
  });

  test('a key already undone (a copy of the version before on top of the copy) is unchanged, so a second undo writes nothing', () => {
    const u2 = ver('u2', 4, v2.etag);
    expect(planUndo(KEY, history(u2, c1, v2, v1), ref(v2), undefined, copied(v1))).toMatchObject({ action: 'unchanged' });
  });

  test('the entry on top of the version before is not the copy, or there are two copies, or the version before is gone: ChangedSinceRestore, 409', () => {
    const other = ver('x', 3);
    const again = ver('c2', 4, v1.etag);
    for (const h of [history(other, v2, v1), history(c1, other, v2, v1), history(again, c1, v2, v1), history(c1, v1)]) {
      expect(() => planUndo(KEY, h, ref(v2), undefined, copied(v1))).toThrow(ChangedSinceRestoreError);
    }
    // Same bytes, other size: not the copy.
    const resized = { ...c1, size: 6 };
    expect(() => planUndo(KEY, history(resized, v2, v1), ref(v2), undefined, copied(v1))).toThrow(/not the one copy of version v1/);
  });

  test('planKey hands the copied entry of an undo point to the undo planner', () => {
    const action = planKey(KEY, history(c1, v2, v1), { kind: 'undo', restoreId: 'r', before: ref(v2), copied: copied(v1) }, 'copy');
    expect(action).toMatchObject({ action: 'copy', source: { versionId: 'v2' } });
  });
});

describe('the undo of a restore to another place by S3 Batch Operations jobs (the report names what was copied there, not the versions written)', () => {
  // Source versions s1, s2, s3 (s3 the state at T); the jobs copied them to the destination key as w1, w2, w3.
  const copied = (...entries: Omit<HistoryEntry, 'isLatest'>[]) => entries.map((e) => ({ versionId: `src-${e.versionId}`, etag: e.etag!, size: e.size! }));
  const d0 = ver('d0', 1);
  const w1 = ver('w1', 2, '"e-s1"');
  const w2 = ver('w2', 3, '"e-s2"');
  const w3 = ver('w3', 4, '"e-s3"');
  // Newest first, as the report keeps them: s3 (the current versions' job), then s2, s1.
  const all = copied(w3, w2, w1);

  test('a key with no history before the restore: every copy goes, the key is absent again', () => {
    expect(planUndoCopies(KEY, history(w3), null, copied(w3))).toEqual({
      key: KEY,
      action: 'deleteEntries',
      outcome: 'deleted',
      entries: [ref(w3)],
      restoresTo: null,
      current: ref(w3),
    });
  });

  test('a key with a version before the restore: the copy on top of it goes, back to that version', () => {
    expect(planUndoCopies(KEY, history(w3, d0), ref(d0), copied(w3))).toEqual({
      key: KEY,
      action: 'deleteEntries',
      outcome: 'restored',
      entries: [ref(w3)],
      restoresTo: ref(d0),
      current: ref(w3),
    });
    const m0 = marker('m0', 1);
    expect(planUndoCopies(KEY, history(w3, m0, d0), ref(m0), copied(w3))).toMatchObject({ outcome: 'deleted', entries: [ref(w3)], restoresTo: null });
  });

  test('with history, the copies of both jobs go, the earlier ones in whatever order the job wrote them, the last one on top', () => {
    expect(planUndoCopies(KEY, history(w3, w2, w1, d0), ref(d0), all)).toMatchObject({ action: 'deleteEntries', entries: [ref(w3), ref(w2), ref(w1)] });
    expect(planUndoCopies(KEY, history(w3, w1, w2, d0), ref(d0), all)).toMatchObject({ action: 'deleteEntries', entries: [ref(w3), ref(w1), ref(w2)] });
    // Two copies of the same bytes are two copies.
    const again = ver('w4', 5, w3.etag);
    expect(planUndoCopies(KEY, history(again, w3, d0), ref(d0), copied(again, w3))).toMatchObject({ entries: [ref(again), ref(w3)] });
  });

  test('a key changed since (another version or a delete marker on top or in between, the last copy not on top, the version before gone): ChangedSinceRestore, 409', () => {
    const since = ver('s9', 9);
    const gone = marker('m9', 9);
    for (const [h, before] of [
      [history(since, w3, w2, w1, d0), ref(d0)],
      [history(gone, w3, w2, w1, d0), ref(d0)],
      [history(w3, since, w2, w1, d0), ref(d0)],
      [history(w2, w3, w1, d0), ref(d0)],
      [history(w3, w2, w1), ref(d0)],
      [history(w3, w2, w1, d0), null],
    ] as const) {
      expect(() => planUndoCopies(KEY, h, before, all)).toThrow(ChangedSinceRestoreError);
    }
    const error = (() => {
      try {
        planUndoCopies(KEY, history(since, w3, d0), ref(d0), copied(w3));
        return undefined;
      } catch (e) {
        return e as ChangedSinceRestoreError;
      }
    })();
    expect([error?.name, error?.$metadata.httpStatusCode, error?.message]).toEqual([
      'ChangedSinceRestore',
      409,
      expect.stringContaining('version s9, not one of the 1 versions the restore copied'),
    ]);
  });

  test('partly written (the current copy not made, or an earlier undo that stopped halfway): what is there of the copies goes', () => {
    expect(planUndoCopies(KEY, history(w2, w1, d0), ref(d0), all)).toMatchObject({ action: 'deleteEntries', entries: [ref(w2), ref(w1)], restoresTo: ref(d0) });
    expect(planUndoCopies(KEY, history(w3, d0), ref(d0), all)).toMatchObject({ action: 'deleteEntries', entries: [ref(w3)] });
  });

  test('a second undo (nothing above the entry before) is unchanged, so it deletes nothing', () => {
    expect(planUndoCopies(KEY, history(d0), ref(d0), all)).toMatchObject({ action: 'unchanged', current: ref(d0) });
    expect(planUndoCopies(KEY, [], null, all)).toMatchObject({ action: 'unchanged', current: null });
  });

  test('a row without Before is refused for that key, not guessed', () => {
    expect(() => planUndoCopies(KEY, history(w3, d0), undefined, all)).toThrow(RequestError);
  });

  test('planKey hands a point with the copies to this planner, in delete mode', () => {
    const action = planKey(KEY, history(w3, w2, w1, d0), { kind: 'undo', restoreId: 'copy-x', before: ref(d0), copiedAll: all }, 'delete');
    expect(action).toMatchObject({ action: 'deleteEntries', entries: [ref(w3), ref(w2), ref(w1)] });
  });
});
