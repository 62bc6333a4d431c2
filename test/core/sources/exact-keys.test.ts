/**
 * A key restore touches that key only, and a prefix restore only keys under the
 * prefix: ListObjectVersions' Prefix=doc also lists doc.bak and doc/x (the AWS
 * rollback sample deleted every version of doc.bak that way).
 */
import type { RestoreMode } from '#core/restore/model.ts';
import { HistoryWriter, bodyOf, historyLines, instantAtCut, listHistory, sleep, versionIds } from '../../support/history.ts';
import { iso, rowOf, runRestore } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('exact');
const s3 = fx.s3;

const linesOf = (entries: Awaited<ReturnType<typeof listHistory>>, keys: readonly string[]) => historyLines(entries.filter((e) => keys.includes(e.key)));

/** doc, doc.bak and doc/x, each written before and after a cut; doc.bak deleted after it. */
async function docNeighbours(label: string) {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  const doc1 = await w.put('doc', 'doc-1');
  await w.put('doc.bak', 'bak-1');
  await w.put('doc/x', 'x-1');
  await sleep(25);
  const cut = w.log.length;
  await w.put('doc', 'doc-2');
  await w.put('doc.bak', 'bak-2');
  await w.put('doc/x', 'x-2');
  await w.del('doc.bak');
  await w.put('doc', 'doc-3');
  const before = await listHistory(s3, bucket);
  return { bucket, w, doc1, before, at: instantAtCut(w, before, cut) };
}

const NEIGHBOURS = ['doc.bak', 'doc/x'];
const cases: Array<[RestoreMode, 'version id' | 'point-in-time']> = [
  ['copy', 'version id'],
  ['delete', 'version id'],
  ['copy', 'point-in-time'],
  ['delete', 'point-in-time'],
];

describe('a key restore touches that exact key only', () => {
  test.each(cases)('restoring "doc" in %s mode to a %s target leaves the full histories of "doc.bak" and "doc/x" identical', async (mode, target) => {
    const { bucket, doc1, before, at } = await docNeighbours(`${mode}-${target.replace(' ', '-')}`);
    const point = target === 'version id' ? { versionId: doc1 } : { at: iso(at) };

    const run = await runRestore(s3, { bucket, key: 'doc', mode, confirmPermanentDelete: mode === 'delete', ...point }, { workBucket: fx.workBucket() });

    const after = await listHistory(s3, bucket);
    expect(linesOf(after, NEIGHBOURS)).toEqual(linesOf(before, NEIGHBOURS));
    expect(run.rows.map((r) => r.Key)).toEqual(['doc']);
    expect(rowOf(run, 'doc')).toMatchObject({ TaskStatus: 'restored', VersionId: doc1, ErrorCode: '' });
    expect(await bodyOf(s3, bucket, 'doc')).toBe('doc-1');
    if (mode === 'delete') {
      expect(versionIds(after, 'doc')).toEqual([doc1]);
    } else {
      expect(versionIds(after, 'doc')).toEqual(expect.arrayContaining(versionIds(before, 'doc')));
      expect(versionIds(after, 'doc')).toHaveLength(versionIds(before, 'doc').length + 1);
    }
    expect(run.summary.status).toBe('SUCCEEDED');
  });
});

describe('a prefix restore touches keys under the prefix only', () => {
  const OUTSIDE = ['log', 'logs', 'logs2/x', 'logsx', 'logs.bak', 'a', 'z'];
  const INSIDE = ['logs/a', 'logs/b/c', 'logs/new'];

  test.each<RestoreMode>(['copy', 'delete'])(
    'a %s-mode restore of prefix "logs/" leaves "log", "logs", "logs2/x", "logsx" and "logs.bak" exactly as they were',
    async (mode) => {
      const bucket = await fx.versionedBucket(`prefix-${mode}`);
      const w = new HistoryWriter(s3, bucket);
      for (const key of [...OUTSIDE, 'logs/a', 'logs/b/c']) await w.put(key, `${key}-1`);
      await sleep(25);
      const cut = w.log.length;
      for (const key of [...OUTSIDE, 'logs/a', 'logs/b/c']) await w.put(key, `${key}-2`);
      await w.put('logs/new', 'new-1');
      for (const key of ['logs2/x', 'log', 'logs/b/c']) await w.del(key);
      const before = await listHistory(s3, bucket);
      const at = instantAtCut(w, before, cut);

      const run = await runRestore(
        s3,
        { bucket, prefix: 'logs/', at: iso(at), mode, confirmPermanentDelete: mode === 'delete' },
        { workBucket: fx.workBucket() },
      );

      const after = await listHistory(s3, bucket);
      expect(linesOf(after, OUTSIDE)).toEqual(linesOf(before, OUTSIDE));
      expect(run.rows.map((r) => r.Key).sort()).toEqual([...INSIDE].sort());
      expect(await bodyOf(s3, bucket, 'logs/a')).toBe('logs/a-1');
      expect(await bodyOf(s3, bucket, 'logs/b/c')).toBe('logs/b/c-1');
      expect(await bodyOf(s3, bucket, 'logs/new')).toBeNull();
      expect(rowOf(run, 'logs/new').TaskStatus).toBe('deleted');
      expect(rowOf(run, 'logs/a').TaskStatus).toBe('restored');
      expect(rowOf(run, 'logs/b/c').TaskStatus).toBe('restored');
    },
  );
});
