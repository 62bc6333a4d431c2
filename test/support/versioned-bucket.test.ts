/**
 * The reference model itself: the planner's tests are only as good as this.
 */
import { ABSENT, etagOf, VersionedBucket } from './versioned-bucket.ts';

const KEY = 'k';

describe('VersionedBucket (reference model)', () => {
  test('history lists newest first, only the first entry latest, markers without ETag or size', () => {
    const b = new VersionedBucket();
    const v1 = b.put(KEY, 'one', 1000);
    const d1 = b.deleteKey(KEY, 2000);
    const v2 = b.put(KEY, 'two!', 3000);
    expect(b.history(KEY)).toEqual([
      { key: KEY, versionId: v2.versionId, isDeleteMarker: false, isLatest: true, lastModified: 3000, etag: etagOf('two!'), size: 4, storageClass: 'STANDARD' },
      { key: KEY, versionId: d1.versionId, isDeleteMarker: true, isLatest: false, lastModified: 2000 },
      { key: KEY, versionId: v1.versionId, isDeleteMarker: false, isLatest: false, lastModified: 1000, etag: etagOf('one'), size: 3, storageClass: 'STANDARD' },
    ]);
  });

  test('version ids are unique and a null version has id "null"', () => {
    const b = new VersionedBucket();
    b.put(KEY, 'a', 1, { nullVersion: true });
    b.put(KEY, 'a', 1);
    b.deleteKey(KEY, 1);
    b.put('other', 'a', 1);
    const ids = [...b.versionIds(KEY), ...b.versionIds('other')];
    expect(ids.at(2)).toBe('null');
    expect(new Set(ids).size).toBe(ids.length);
    expect(() => b.put(KEY, 'x', 2, { nullVersion: true })).toThrow();
  });

  test('visibleState is the latest version body, ABSENT under a delete marker or without history', () => {
    const b = new VersionedBucket();
    expect(b.visibleState(KEY)).toBe(ABSENT);
    b.put(KEY, '', 1);
    expect(b.visibleState(KEY)).toBe('');
    b.deleteKey(KEY, 2);
    b.deleteKey(KEY, 3);
    expect(b.visibleState(KEY)).toBe(ABSENT);
  });

  test('stateAt replays the writes made at or before T, the later of equal-time writes winning', () => {
    const b = new VersionedBucket();
    b.put(KEY, 'one', 1000);
    b.put(KEY, 'two', 2000);
    b.deleteKey(KEY, 2000);
    b.put(KEY, 'three', 3000);
    expect(b.stateAt(KEY, 999)).toBe(ABSENT);
    expect(b.stateAt(KEY, 1000)).toBe('one');
    expect(b.stateAt(KEY, 1999)).toBe('one');
    expect(b.stateAt(KEY, 2000)).toBe(ABSENT);
    expect(b.stateAt(KEY, 3000)).toBe('three');
  });

  test('copyVersion adds a new version with the source ETag, size and body; a marker cannot be copied', () => {
    const b = new VersionedBucket();
    const v1 = b.put(KEY, 'one', 1000);
    const d = b.deleteKey(KEY, 2000);
    const copy = b.copyVersion(KEY, v1.versionId, 3000);
    expect(copy).toMatchObject({ etag: v1.etag, size: v1.size, body: 'one', lastModified: 3000, isDeleteMarker: false });
    expect(copy.versionId).not.toBe(v1.versionId);
    expect(b.versionIds(KEY)).toEqual([copy.versionId, d.versionId, v1.versionId]);
    expect(() => b.copyVersion(KEY, d.versionId, 4000)).toThrow(/delete marker/);
  });

  test('deleteVersion removes the entry from the listing and from the replay', () => {
    const b = new VersionedBucket();
    const v1 = b.put(KEY, 'one', 1000);
    const v2 = b.put(KEY, 'two', 2000);
    b.deleteVersion(KEY, v2.versionId);
    expect(b.versionIds(KEY)).toEqual([v1.versionId]);
    expect(b.stateAt(KEY, 5000)).toBe('one');
    expect(() => b.deleteVersion(KEY, v2.versionId)).toThrow();
  });

  test("a write older than the key's latest entry is refused (the listing order is the write order)", () => {
    const b = new VersionedBucket();
    b.put(KEY, 'one', 1000);
    expect(() => b.put(KEY, 'two', 999)).toThrow();
    expect(() => b.put(KEY, 'two', 1000)).not.toThrow();
  });

  test('applyAction executes copy, addDeleteMarker and deleteEntries, and refuses an action planned on another current entry', () => {
    const b = new VersionedBucket();
    const v1 = b.put(KEY, 'one', 1000);
    const v2 = b.put(KEY, 'two', 2000);
    const ref = (e: typeof v1) => ({ versionId: e.versionId, isDeleteMarker: e.isDeleteMarker, lastModified: e.lastModified });

    b.applyAction({ key: KEY, action: 'copy', outcome: 'restored', source: ref(v1), current: ref(v2) }, 3000);
    expect(b.visibleState(KEY)).toBe('one');
    expect(() => b.applyAction({ key: KEY, action: 'addDeleteMarker', outcome: 'deleted', current: ref(v2) }, 4000)).toThrow(/planned on/);

    const [copy] = b.entriesOf(KEY);
    b.applyAction({ key: KEY, action: 'addDeleteMarker', outcome: 'deleted', current: ref(copy!) }, 4000);
    expect(b.visibleState(KEY)).toBe(ABSENT);

    const [marker] = b.entriesOf(KEY);
    b.applyAction(
      { key: KEY, action: 'deleteEntries', outcome: 'restored', entries: [ref(marker!), ref(copy!)], restoresTo: ref(v2), current: ref(marker!) },
      5000,
    );
    expect(b.versionIds(KEY)).toEqual([v2.versionId, v1.versionId]);
    b.applyAction({ key: KEY, action: 'unchanged', reason: 'already current', current: ref(v2) }, 6000);
    expect(b.versionIds(KEY)).toEqual([v2.versionId, v1.versionId]);
  });
});
