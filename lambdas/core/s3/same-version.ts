/**
 * Whether a version that has the target's bytes (same ETag and size) is really
 * the target as a reader sees it: the same content headers, user metadata and
 * tags. A copy-mode restore's own copy is; a re-upload of the same bytes with
 * other headers is not, and gets restored. Only keys the listing can't decide
 * pay these requests (two HEADs, and the tags when there are any).
 */
import { GetObjectTaggingCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { KeyAction } from '../restore/model.ts';

const HEADERS = ['ContentType', 'CacheControl', 'ContentDisposition', 'ContentEncoding', 'ContentLanguage', 'WebsiteRedirectLocation'] as const;

async function attributes(s3: S3Client, bucket: string, key: string, versionId: string) {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  const tags = (head.TagCount ?? 0) > 0 ? ((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).TagSet ?? []) : [];
  return {
    headers: HEADERS.map((name) => head[name] ?? ''),
    expires: head.ExpiresString ?? head.Expires?.toISOString() ?? '',
    metadata: Object.entries(head.Metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    tags: tags.map((t) => [t.Key ?? '', t.Value ?? '']).sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0)),
  };
}

/**
 * Resolves an `unchanged` action that stands on same bytes (`sameAs`): stays
 * unchanged when the current version reads exactly like the target, else becomes
 * the copy that restores the target's headers, metadata and tags.
 */
export async function confirmSameVersion(s3: S3Client, bucket: string, action: KeyAction): Promise<KeyAction> {
  if (action.action !== 'unchanged' || !action.sameAs || !action.current) return action;
  const [current, target] = await Promise.all([
    attributes(s3, bucket, action.key, action.current.versionId),
    attributes(s3, bucket, action.key, action.sameAs.versionId),
  ]);
  if (JSON.stringify(current) === JSON.stringify(target)) return action;
  return { key: action.key, action: 'copy', outcome: 'restored', source: action.sameAs, current: action.current };
}
