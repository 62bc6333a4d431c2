/**
 * A write to a restore's destination whose answer was lost is not made twice.
 * A with-history restore to another bucket runs through a fault proxy that
 * resets the connection of one CopyObject of a non-current version and of the
 * DELETE that reproduces a delete marker: after S3 carried them out (the client
 * never hears), or before forwarding (nothing happened). The restore client is
 * the production one (adaptive retry, 8 attempts), which would send such a write
 * again. The destination's history must equal the source's up to T, entry for
 * entry, and each write must reach S3 exactly once when it landed.
 */
import { expect } from '@jest/globals';
import { createS3Client } from '#core/s3/client.ts';
import type { ProxiedRequest } from '../support/fault-proxy.ts';
import { faultProxyFixture } from '../support/fault-proxy-fixture.ts';
import { HistoryWriter, byKeyMap, instantAtCut, listHistory, sleep, type Entry } from '../support/history.ts';
import { iso, rowOf, runRestore } from '../support/drive.ts';

const fx = faultProxyFixture('lost-response');
const KEY = 'h/doc';

/** h/doc: d1, d2, a delete marker, d3 up to T; d4 after. */
async function seed(label: string) {
  const bucket = await fx.versionedBucket(`${label}-src`);
  const w = new HistoryWriter(fx.s3, bucket);
  await w.put(KEY, 'd1');
  const d2 = await w.put(KEY, 'd2');
  await w.del(KEY);
  await w.put(KEY, 'd3');
  await sleep(25);
  const cut = w.log.length;
  await w.put(KEY, 'd4');
  const before = await listHistory(fx.s3, bucket);
  return { bucket, d2, at: instantAtCut(w, before, cut), before };
}

/** A key's entries oldest first, as what makes them the same: ETag and size, or a delete marker. */
const sequence = (entries: readonly Entry[] | undefined): string[] =>
  [...(entries ?? [])].reverse().map((e) => (e.isDeleteMarker ? 'delete marker' : `${e.etag} ${e.size}`));

/** Named tests of the requests to reset, given the seeded source and the destination bucket. */
type Resets = (source: { readonly d2: string }, destination: string) => Array<[string, (r: ProxiedRequest) => boolean]>;

/**
 * Restores h/doc with history to a new bucket while `when` is reset (`how`), once each;
 * counts every destination CopyObject and DELETE that reaches the proxy.
 */
async function restoreLosing(label: string, how: 'before' | 'after', when: Resets) {
  const source = await seed(label);
  const destination = await fx.versionedBucket(`${label}-dst`);
  const arrived = { CopyObject: 0, DeleteObject: 0 };
  fx.proxy.addRule({
    name: 'count destination writes',
    when: (r) => {
      if (r.bucket === destination && (r.operation === 'CopyObject' || r.operation === 'DeleteObject')) arrived[r.operation] += 1;
      return false;
    },
    action: { kind: 'delay', ms: 0 },
  });
  const resets = when(source, destination).map(([name, test]) => {
    fx.proxy.addRule({ name: `${label}: ${name}`, when: test, action: { kind: 'reset', when: how }, times: 1 });
    return name;
  });

  const s3 = createS3Client({ endpoint: fx.proxy.endpoint });
  const run = await runRestore(
    s3,
    { bucket: source.bucket, prefix: 'h/', at: iso(source.at), to: `s3://${destination}/`, withHistory: true },
    { workBucket: fx.workBucket() },
  ).finally(() => s3.destroy());
  const wanted = sequence(byKeyMap(source.before.filter((e) => e.lastModified <= source.at)).get(KEY));
  const written = sequence(byKeyMap(await listHistory(fx.s3, destination)).get(KEY));
  const reset = Object.fromEntries(resets.map((name) => [name, fx.proxy.stats.rules[`${label}: ${name}`] ?? 0]));
  return { run, wanted, written, arrived, reset };
}

const COPY_OF_D2 = 'the copy of d2';
const MARKER = 'the delete marker';

const losing: Resets = (source, destination) => [
  [COPY_OF_D2, (r) => r.operation === 'CopyObject' && r.bucket === destination && r.copySource?.versionId === source.d2],
  [MARKER, (r) => r.operation === 'DeleteObject' && r.bucket === destination && r.key === KEY],
];

test("a destination CopyObject and delete-marker DELETE that S3 carried out but whose answers were lost are not sent again: the history is the source's up to T, entry for entry, and the key is restored", async () => {
  const { run, wanted, written, arrived, reset } = await restoreLosing('after', 'after', losing);

  expect(reset).toEqual({ [COPY_OF_D2]: 1, [MARKER]: 1 });
  expect(wanted).toEqual([expect.any(String), expect.any(String), 'delete marker', expect.any(String)]);
  expect(written).toEqual(wanted);
  // d1, d2, d3 copied once each and the marker deleted once: nothing was sent twice.
  expect(arrived).toEqual({ CopyObject: 3, DeleteObject: 1 });
  expect(rowOf(run, KEY)).toMatchObject({ TaskStatus: 'restored', ErrorCode: '' });
});

test('a destination CopyObject and delete-marker DELETE reset before they reached S3 are sent again and land once', async () => {
  const { run, wanted, written, arrived, reset } = await restoreLosing('before', 'before', losing);

  expect(reset).toEqual({ [COPY_OF_D2]: 1, [MARKER]: 1 });
  expect(written).toEqual(wanted);
  // Each reset write arrived twice (the reset one was never forwarded): once upstream.
  expect(arrived).toEqual({ CopyObject: 4, DeleteObject: 2 });
  expect(rowOf(run, KEY)).toMatchObject({ TaskStatus: 'restored', ErrorCode: '' });
});
