/**
 * Recovery events gathered into restores: a batch of deletes and malware
 * findings becomes one restore per bucket and protected prefix (deletes) or one
 * manifest restore per bucket (infected versions), each with an id that the same
 * group always gets.
 */
import { expect } from '@jest/globals';
import { gatherRecoveryEvents, SINCE_MARGIN_MS, type QueuedMessage } from '../../../lambdas/core/restore/recovery-events.ts';
import { parseRestoreRequest } from '../../../lambdas/core/restore/request.ts';
import { parseManifestLine } from '../../../lambdas/core/sources/manifest.ts';

const WORK = 'rewind-work';

let next = 0;
const message = (body: unknown): QueuedMessage => ({ messageId: `m${(next += 1)}`, body: typeof body === 'string' ? body : JSON.stringify(body) });
const deleted = (key: string, time: string, over: { bucket?: string; prefix?: string } = {}) =>
  message({ kind: 'undelete', bucket: over.bucket ?? 'docs-bucket', prefix: over.prefix ?? 'contracts/', key, time });
const infected = (key: string, versionId: string, over: { bucket?: string; time?: string } = {}) =>
  message({ kind: 'malwareRollback', bucket: over.bucket ?? 'docs-bucket', prefix: 'uploads/', key, versionId, time: over.time ?? '2026-11-20T10:00:00Z' });
const linesOf = (body: string) =>
  body
    .trimEnd()
    .split('\n')
    .map((text, i) => parseManifestLine(text, i + 1, 'jsonl'));

test('10,000 deletes under one protected prefix become one undelete of the prefix since the earliest delete minus the margin', () => {
  const start = Date.parse('2026-11-20T10:00:00Z');
  const messages = Array.from({ length: 10_000 }, (_, i) => deleted(`contracts/${i}.pdf`, new Date(start + (i % 60) * 1000).toISOString()));
  const { restores, unreadable } = gatherRecoveryEvents(messages, WORK);
  expect(unreadable).toEqual([]);
  expect(restores).toHaveLength(1);
  expect(restores[0]!.request).toEqual({
    bucket: 'docs-bucket',
    prefix: 'contracts/',
    undelete: true,
    since: new Date(start - SINCE_MARGIN_MS).toISOString(),
    keepRestoreMarkers: true,
  });
  expect(restores[0]!.messageIds).toHaveLength(10_000);
});

test('gathered requests are valid restore requests: undelete of a prefix since a time, and a rollback from a manifest', () => {
  const { restores } = gatherRecoveryEvents([deleted('contracts/a.pdf', '2026-11-20T10:00:00Z'), infected('uploads/x.exe', 'v-infected')], WORK);
  expect(restores).toHaveLength(2);
  for (const restore of restores) expect(() => parseRestoreRequest(restore.request)).not.toThrow();
});

test('deletes in different buckets or protected prefixes are different restores; infected versions one per bucket', () => {
  const { restores } = gatherRecoveryEvents(
    [
      deleted('contracts/a.pdf', '2026-11-20T10:00:00Z'),
      deleted('contracts/b.pdf', '2026-11-20T10:00:01Z'),
      deleted('hr/c.pdf', '2026-11-20T10:00:00Z', { prefix: 'hr/' }),
      deleted('contracts/a.pdf', '2026-11-20T10:00:00Z', { bucket: 'other-bucket' }),
      infected('uploads/x.exe', 'v1'),
      infected('uploads/y.exe', 'v2'),
      infected('uploads/z.exe', 'v3', { bucket: 'other-bucket' }),
    ],
    WORK,
  );
  expect(restores.map((r) => [r.request.bucket, r.request.prefix ?? 'manifest', r.messageIds.length])).toEqual([
    ['docs-bucket', 'contracts/', 2],
    ['docs-bucket', 'hr/', 1],
    ['other-bucket', 'contracts/', 1],
    ['docs-bucket', 'manifest', 2],
    ['other-bucket', 'manifest', 1],
  ]);
});

test('500 infected objects in one bucket become one restore whose manifest, in the work bucket, rolls each key back to before its version', () => {
  const messages = Array.from({ length: 500 }, (_, i) => infected(`uploads/${i}.exe`, `v-bad-${i}`));
  const { restores } = gatherRecoveryEvents(messages, WORK);
  expect(restores).toHaveLength(1);
  const [restore] = restores;
  expect(restore!.manifest!.key).toBe(`recovery/${restore!.restoreId}.jsonl`);
  expect(restore!.request).toEqual({ bucket: 'docs-bucket', manifest: `s3://${WORK}/recovery/${restore!.restoreId}.jsonl` });
  const lines = linesOf(restore!.manifest!.body);
  expect(lines).toHaveLength(500);
  expect(lines.find((l) => l.key === 'uploads/7.exe')).toEqual({
    line: expect.any(Number),
    bucket: 'docs-bucket',
    key: 'uploads/7.exe',
    beforeVersionId: 'v-bad-7',
  });
  expect(restore!.messageIds).toHaveLength(500);
});

test('the same infected version reported twice is one line; a key infected twice is one line, before its earliest infected version', () => {
  const { restores } = gatherRecoveryEvents(
    [
      infected('uploads/x.exe', 'v1'),
      infected('uploads/x.exe', 'v1'),
      infected('uploads/y.exe', 'v-later', { time: '2026-11-20T10:05:00Z' }),
      infected('uploads/y.exe', 'v-first', { time: '2026-11-20T10:01:00Z' }),
    ],
    WORK,
  );
  expect(restores).toHaveLength(1);
  expect(linesOf(restores[0]!.manifest!.body).map(({ key, beforeVersionId }) => [key, beforeVersionId])).toEqual([
    ['uploads/x.exe', 'v1'],
    ['uploads/y.exe', 'v-first'],
  ]);
  expect(restores[0]!.messageIds).toHaveLength(4);
});

test('the same group delivered again, in any order, gets the same restore id; another group another id', () => {
  const a = [
    deleted('contracts/a.pdf', '2026-11-20T10:00:00Z'),
    deleted('contracts/b.pdf', '2026-11-20T10:00:05Z'),
    infected('uploads/x.exe', 'v1'),
    infected('uploads/y.exe', 'v2'),
  ];
  const first = gatherRecoveryEvents(a, WORK).restores.map((r) => r.restoreId);
  const again = gatherRecoveryEvents([...a].reverse(), WORK).restores.map((r) => r.restoreId);
  expect(new Set(again)).toEqual(new Set(first));
  for (const id of first) expect(id).toMatch(/^(undelete|rollback)-[0-9a-f]{20}$/);
  const later = gatherRecoveryEvents([deleted('contracts/c.pdf', '2026-11-20T10:00:00Z')], WORK).restores[0]!.restoreId;
  expect(first).not.toContain(later);
  const otherVersion = gatherRecoveryEvents([infected('uploads/x.exe', 'v1'), infected('uploads/y.exe', 'v3')], WORK).restores[0]!.restoreId;
  expect(first).not.toContain(otherVersion);
});

test('a message that is no recovery event is set apart as unreadable, and the others are still gathered', () => {
  const bad = [
    message('not json'),
    message({ kind: 'undelete', bucket: 'docs-bucket' }),
    message({ kind: 'undelete', bucket: 'b', prefix: '', key: 'k', time: 'yesterday' }),
  ];
  const good = deleted('contracts/a.pdf', '2026-11-20T10:00:00Z');
  const { restores, unreadable } = gatherRecoveryEvents([...bad, good], WORK);
  expect(unreadable).toEqual(bad.map((m) => m.messageId));
  expect(restores.map((r) => r.messageIds)).toEqual([[good.messageId]]);
});
