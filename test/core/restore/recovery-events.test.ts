/**
 * Recovery events gathered into restores: a batch of deletes and malware
 * findings becomes one restore per bucket and protected prefix (deletes) or per
 * infected version, each with an id that the same group always gets.
 */
import { expect } from '@jest/globals';
import { gatherRecoveryEvents, SINCE_MARGIN_MS, type QueuedMessage } from '../../../lambdas/core/restore/recovery-events.ts';
import { parseRestoreRequest } from '../../../lambdas/core/restore/request.ts';

let next = 0;
const message = (body: unknown): QueuedMessage => ({ messageId: `m${(next += 1)}`, body: typeof body === 'string' ? body : JSON.stringify(body) });
const deleted = (key: string, time: string, over: { bucket?: string; prefix?: string } = {}) =>
  message({ kind: 'undelete', bucket: over.bucket ?? 'docs-bucket', prefix: over.prefix ?? 'contracts/', key, time });
const infected = (key: string, versionId: string) =>
  message({ kind: 'malwareRollback', bucket: 'docs-bucket', prefix: 'uploads/', key, versionId, time: '2026-11-20T10:00:00Z' });

test('10,000 deletes under one protected prefix become one undelete of the prefix since the earliest delete minus the margin', () => {
  const start = Date.parse('2026-11-20T10:00:00Z');
  const messages = Array.from({ length: 10_000 }, (_, i) => deleted(`contracts/${i}.pdf`, new Date(start + (i % 60) * 1000).toISOString()));
  const { restores, unreadable } = gatherRecoveryEvents(messages);
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

test('gathered requests are valid restore requests: undelete of a prefix since a time, and a rollback before a version', () => {
  const { restores } = gatherRecoveryEvents([deleted('contracts/a.pdf', '2026-11-20T10:00:00Z'), infected('uploads/x.exe', 'v-infected')]);
  expect(restores).toHaveLength(2);
  for (const restore of restores) expect(() => parseRestoreRequest(restore.request)).not.toThrow();
});

test('deletes in different buckets or protected prefixes are different restores, as are infected versions', () => {
  const { restores } = gatherRecoveryEvents([
    deleted('contracts/a.pdf', '2026-11-20T10:00:00Z'),
    deleted('contracts/b.pdf', '2026-11-20T10:00:01Z'),
    deleted('hr/c.pdf', '2026-11-20T10:00:00Z', { prefix: 'hr/' }),
    deleted('contracts/a.pdf', '2026-11-20T10:00:00Z', { bucket: 'other-bucket' }),
    infected('uploads/x.exe', 'v1'),
    infected('uploads/y.exe', 'v2'),
  ]);
  expect(restores.map((r) => [r.request.bucket, r.request.prefix ?? r.request.key, r.messageIds.length])).toEqual([
    ['docs-bucket', 'contracts/', 2],
    ['docs-bucket', 'hr/', 1],
    ['other-bucket', 'contracts/', 1],
    ['docs-bucket', 'uploads/x.exe', 1],
    ['docs-bucket', 'uploads/y.exe', 1],
  ]);
});

test('the same infected version reported twice in a batch is rolled back once', () => {
  const { restores } = gatherRecoveryEvents([infected('uploads/x.exe', 'v1'), infected('uploads/x.exe', 'v1')]);
  expect(restores).toHaveLength(1);
  expect(restores[0]!.request).toEqual({ bucket: 'docs-bucket', key: 'uploads/x.exe', beforeVersionId: 'v1' });
  expect(restores[0]!.messageIds).toHaveLength(2);
});

test('the same group delivered again, in any order, gets the same restore id; another group another id', () => {
  const a = [deleted('contracts/a.pdf', '2026-11-20T10:00:00Z'), deleted('contracts/b.pdf', '2026-11-20T10:00:05Z'), infected('uploads/x.exe', 'v1')];
  const first = gatherRecoveryEvents(a).restores.map((r) => r.restoreId);
  const again = gatherRecoveryEvents([...a].reverse()).restores.map((r) => r.restoreId);
  expect(new Set(again)).toEqual(new Set(first));
  for (const id of first) expect(id).toMatch(/^(undelete|rollback)-[0-9a-f]{20}$/);
  const later = gatherRecoveryEvents([deleted('contracts/c.pdf', '2026-11-20T10:00:00Z')]).restores[0]!.restoreId;
  expect(first).not.toContain(later);
});

test('a message that is no recovery event is set apart as unreadable, and the others are still gathered', () => {
  const bad = [
    message('not json'),
    message({ kind: 'undelete', bucket: 'docs-bucket' }),
    message({ kind: 'undelete', bucket: 'b', prefix: '', key: 'k', time: 'yesterday' }),
  ];
  const good = deleted('contracts/a.pdf', '2026-11-20T10:00:00Z');
  const { restores, unreadable } = gatherRecoveryEvents([...bad, good]);
  expect(unreadable).toEqual(bad.map((m) => m.messageId));
  expect(restores.map((r) => r.messageIds)).toEqual([[good.messageId]]);
});
