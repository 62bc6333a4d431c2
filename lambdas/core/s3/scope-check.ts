/**
 * A restore whose scope holds nothing is a mistyped prefix or key, not a
 * restore of zero keys: `s3://b/sites/` when the data is under `site/`,
 * `s3://b//site/`, or `s3://b/site` (a prefix) without `--recursive`. Refused
 * before anything is written, from the first key listed under the typed key or
 * prefix: the plan's first page of a listed scope (sources/prefix-source.ts),
 * which lists it anyway, or one short listing of its own (`checkScopeHasHistory`:
 * the API's answer, and validation where the plan does not list the scope).
 * Only when it is empty does one delimiter listing of the parent name the
 * nearest prefixes and keys that do exist, so the message says what was
 * probably meant.
 */
import { ListObjectsV2Command, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import leven from 'leven';
import { RequestError } from '../restore/errors.ts';
import type { RestoreScope } from '../restore/model.ts';
import { listingPrefix } from './listing.ts';

/** Names shown as "did you mean". */
const NEAREST_SHOWN = 3;

/** Throws `RequestError` when the scope has no version and no delete marker (one one-entry listing). */
export async function checkScopeHasHistory(s3: S3Client, bucket: string, scope: RestoreScope): Promise<void> {
  const first = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: listingPrefix(scope), MaxKeys: 1 }));
  const firstKey = [...(first.Versions ?? []), ...(first.DeleteMarkers ?? [])].map((e) => e.Key ?? '').sort()[0];
  await refuseEmptyScope(s3, bucket, scope, firstKey);
}

/**
 * Throws `RequestError` when `firstKey`, the first key listed under the scope's
 * key or prefix (undefined: nothing is under it), shows that the scope has no
 * version and no delete marker: a key scope has history only when the first key
 * under it is the key itself (it sorts before every longer one).
 */
export async function refuseEmptyScope(s3: S3Client, bucket: string, scope: RestoreScope, firstKey: string | undefined): Promise<void> {
  if (firstKey !== undefined && (scope.kind === 'prefix' || firstKey === scope.key)) return;

  const typed = listingPrefix(scope);
  const where = `s3://${bucket}/${typed}`;
  if (scope.kind === 'key' && firstKey !== undefined) {
    // Nothing is exactly that key, but keys start with it: a prefix without --recursive.
    const asPrefix = firstKey.startsWith(`${typed}/`) ? `${typed}/` : typed;
    throw new RequestError(
      `${where} is not a key, but keys start with it (${firstKey}): add --recursive to restore every key under s3://${bucket}/${asPrefix}`,
      [`key: no key "${typed}"; keys under it as a prefix: add --recursive (API: give "prefix": "${asPrefix}")`],
    );
  }
  const nearest = await nearestNames(s3, bucket, typed);
  const suggestion = nearest.length ? `; the nearest that exist: ${nearest.map((n) => `s3://${bucket}/${n}`).join(', ')}` : '';
  const what = scope.kind === 'key' ? `bucket "${bucket}" has no key "${typed}" (no versions or delete markers)` : emptyPrefix(bucket, typed);
  const field = scope.kind === 'key' ? 'key' : 'prefix';
  throw new RequestError(`${what}${suggestion}`, [`${field}: nothing has this ${field}${suggestion}`]);
}

function emptyPrefix(bucket: string, prefix: string): string {
  if (prefix === '') return `bucket "${bucket}" is empty: it has no versions or delete markers to restore`;
  const slashes = prefix.startsWith('/') ? ' (it starts with "/": keys seldom do)' : '';
  return `nothing is under s3://${bucket}/${prefix}${slashes}: no key, version or delete marker has that prefix, so there is nothing to restore`;
}

/** `docs/sub/x` → `docs/sub/`; `sites/` → ''; `/site/` → `/`. */
export function parentOf(name: string): string {
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  const slash = trimmed.lastIndexOf('/');
  return slash < 0 ? '' : trimmed.slice(0, slash + 1);
}

/**
 * The prefixes and keys beside `typed` (one delimiter listing of its parent; of
 * the bucket's top level too when the parent holds nothing), nearest first.
 */
export async function nearestNames(s3: S3Client, bucket: string, typed: string): Promise<string[]> {
  const parent = parentOf(typed);
  let names: string[];
  try {
    names = await namesUnder(s3, bucket, parent);
    if (names.length === 0 && parent !== '') names = await namesUnder(s3, bucket, '');
  } catch {
    // Only a suggestion: without s3:ListBucket the refusal still stands, without names.
    return [];
  }
  return names
    .map((name) => ({ name, distance: leven(name, typed) }))
    .sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name))
    .slice(0, NEAREST_SHOWN)
    .map((n) => n.name);
}

async function namesUnder(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', MaxKeys: 1000 }));
  return [...(listed.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''), ...(listed.Contents ?? []).map((c) => c.Key ?? '')].filter((n) => n !== '');
}
