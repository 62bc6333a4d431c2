/**
 * Keys as real buckets have them: spaces, `+ % & ? =`, non-ASCII, and path-like
 * shapes (trailing or leading `/`, `..` and `.` segments, `//`). Each must be
 * listed, copied (`CopySource` URL-encoded), deleted and reported as itself.
 */
import type { RestoreMode } from '#core/restore/model.ts';
import { HistoryWriter, bodyOf, instantAtCut, listHistory, sleep, versionIds } from '../../support/history.ts';
import { iso, rowOf, runRestore } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('special');
const s3 = fx.s3;

const SPECIAL_KEYS = [
  'with space.txt',
  'plus+sign',
  'per%cent',
  'per%2Fencoded%20already',
  'amp&and',
  'question?mark',
  'equals=sign',
  'semi;colon,comma',
  "quote'paren(s)*!",
  'café/é',
  '日本/ファイル.txt',
  'emoji-😀-𝄞',
  'trailing/',
  '/leading',
  '//double-leading',
  'a/../b',
  '../up',
  './here',
  'a/./b',
  'a//b',
  'all of it ?&=+%é日本😀/../x/',
];

/** Every key written twice: "one:" then, after the cut, "two:". */
async function seed(label: string) {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  const first = new Map<string, string>();
  for (const key of SPECIAL_KEYS) first.set(key, await w.put(key, `one:${key}`, { ContentType: 'text/plain' }));
  await sleep(25);
  const cut = w.log.length;
  for (const key of SPECIAL_KEYS) await w.put(key, `two:${key}`);
  const before = await listHistory(s3, bucket);
  return { bucket, first, before, at: instantAtCut(w, before, cut) };
}

describe('each special key restores by key and version id', () => {
  let seeded: Awaited<ReturnType<typeof seed>>;
  beforeAll(async () => {
    seeded = await seed('by-key');
  });

  test.each(SPECIAL_KEYS.map((key) => [key]))('key %j: copy mode brings its first version back', async (key) => {
    const { bucket, first } = seeded;
    const versionId = first.get(key)!;

    const run = await runRestore(s3, { bucket, key, versionId }, { workBucket: fx.workBucket() });

    expect(run.rows).toHaveLength(1);
    expect(rowOf(run, key)).toMatchObject({ Key: key, TaskStatus: 'restored', VersionId: versionId, ErrorCode: '' });
    expect(await bodyOf(s3, bucket, key)).toBe(`one:${key}`);
    const after = await listHistory(s3, bucket, key);
    expect(versionIds(after, key)).toHaveLength(3);
  });
});

describe('a restore of every special key at once', () => {
  test.each<RestoreMode>(['copy', 'delete'])('%s mode at a point in time brings every key back to its first content', async (mode) => {
    const { bucket, first, at } = await seed(`all-${mode}`);

    const run = await runRestore(s3, { bucket, prefix: '', at: iso(at), mode, confirmPermanentDelete: mode === 'delete' }, { workBucket: fx.workBucket() });

    expect(run.rows.map((r) => r.Key).sort()).toEqual([...SPECIAL_KEYS].sort());
    const after = await listHistory(s3, bucket);
    for (const key of SPECIAL_KEYS) {
      expect({ key, row: rowOf(run, key).TaskStatus, body: await bodyOf(s3, bucket, key) }).toEqual({ key, row: 'restored', body: `one:${key}` });
      if (mode === 'delete') expect({ key, versions: versionIds(after, key) }).toEqual({ key, versions: [first.get(key)] });
      else expect({ key, versions: versionIds(after, key).length }).toEqual({ key, versions: 3 });
    }
    expect(run.summary.counts).toMatchObject({ restored: SPECIAL_KEYS.length, failed: 0 });
  });
});
