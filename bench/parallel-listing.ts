/**
 * Prototype: listing a large scope as several chains instead of one. One
 * ListObjectVersions with Delimiter '/' finds the scope's sub-prefixes (from
 * versions and delete markers alike, so a folder whose keys are all deleted is
 * still found; ListObjectsV2 would miss it) and lists the keys directly under
 * the scope on the way; then each sub-prefix is walked by the engine's own
 * `keyHistories`, `concurrency` chains at once. Compared with one chain over the
 * whole scope, on the same bucket.
 */
import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { keyHistories } from '#core/s3/listing.ts';
import { forEachConcurrent } from './seed.ts';

export interface ListingRun {
  readonly entries: number;
  readonly keys: number;
  readonly chains: number;
  readonly wallMs: number;
}

export async function listSequential(s3: S3Client, bucket: string, prefix: string): Promise<ListingRun> {
  const started = Date.now();
  let entries = 0;
  let keys = 0;
  for await (const history of keyHistories(s3, bucket, { kind: 'prefix', prefix })) {
    keys += 1;
    entries += history.entries.length;
  }
  return { entries, keys, chains: 1, wallMs: Date.now() - started };
}

/** The sub-prefixes of `prefix` one level down, and the entries directly under it. */
async function discover(s3: S3Client, bucket: string, prefix: string) {
  const subPrefixes: string[] = [];
  const direct = new Set<string>();
  let directEntries = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, Delimiter: '/', KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
    );
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix && !subPrefixes.includes(p.Prefix)) subPrefixes.push(p.Prefix);
    for (const e of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
      direct.add(e.Key!);
      directEntries += 1;
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  return { subPrefixes, directKeys: direct.size, directEntries };
}

export async function listParallel(s3: S3Client, bucket: string, prefix: string, concurrency: number): Promise<ListingRun> {
  const started = Date.now();
  const { subPrefixes, directKeys, directEntries } = await discover(s3, bucket, prefix);
  let entries = directEntries;
  let keys = directKeys;
  await forEachConcurrent(subPrefixes, concurrency, async (sub) => {
    for await (const history of keyHistories(s3, bucket, { kind: 'prefix', prefix: sub })) {
      keys += 1;
      entries += history.entries.length;
    }
  });
  return { entries, keys, chains: subPrefixes.length, wallMs: Date.now() - started };
}
