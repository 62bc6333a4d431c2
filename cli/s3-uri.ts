/**
 * `s3://bucket/key` URIs as `aws s3` takes them: the key is everything after the
 * bucket's slash, literally (no percent-decoding). With `--recursive` that string
 * is a prefix (`s3://bucket` alone: the whole bucket); without it, an exact key,
 * even one ending in `/` (S3 allows such keys; we warn, since a prefix was more
 * likely meant).
 */
import type { RestoreScope } from '#core/restore/model.ts';
import { describeIssues, RestoreRequestSchema } from '#core/restore/request.ts';
import { UsageError } from './exit.ts';

export interface S3Location {
  readonly bucket: string;
  /** '' for `s3://bucket` and `s3://bucket/`. */
  readonly key: string;
}

const URI_HINT = 'write s3://bucket/key, or s3://bucket/prefix/ with --recursive';
const bucketName = RestoreRequestSchema.shape.bucket;
const objectKey = RestoreRequestSchema.shape.prefix.unwrap();

/** Parses `s3://bucket[/key]`; throws `UsageError` saying what is wrong with it. */
export function parseS3Uri(text: string): S3Location {
  if (text.trim() === '') throw new UsageError('the S3 URI is empty', URI_HINT);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text);
  const misspelt = /^s3:\/?(?!\/)(.+)$/i.exec(text);
  if (misspelt) {
    throw new UsageError(`"${text}" is not an S3 URI: s3:// takes two slashes`, `write s3://${misspelt[1]!.replace(/^\/+/, '')}`);
  }
  if (!scheme) {
    throw new UsageError(`"${text}" is not an S3 URI: it has no s3:// scheme`, `write s3://${text.replace(/^\/+/, '')}`);
  }
  if (scheme[1] !== 's3') throw new UsageError(`"${text}" is not an S3 URI: the scheme must be s3://, not ${scheme[1]}://`, URI_HINT);
  const rest = text.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (bucket === '') throw new UsageError(`"${text}" has no bucket name`, URI_HINT);
  if (!bucketName.safeParse(bucket).success) {
    throw new UsageError(
      `"${bucket}" in ${text} is not a valid S3 bucket name`,
      'bucket names are 3-63 characters: lowercase letters, digits, dots and hyphens',
    );
  }
  const keyCheck = objectKey.safeParse(key);
  if (!keyCheck.success) throw new UsageError(`the key of ${text} ${describeIssues(keyCheck.error).join('; ')}`, URI_HINT);
  return { bucket, key };
}

export interface ScopeChoice {
  readonly scope: RestoreScope;
  /** Something the operator should know, printed on stderr. */
  readonly warning?: string;
}

/** Exact key or prefix, per `--recursive`. */
export function scopeOf(location: S3Location, recursive: boolean, command: string): ScopeChoice {
  if (recursive) return { scope: { kind: 'prefix', prefix: location.key } };
  if (location.key === '') {
    throw new UsageError(
      `s3://${location.bucket} is a whole bucket: give a key, or add --recursive for every key in it`,
      `s3-rewind ${command} s3://${location.bucket}/ --recursive ...`,
    );
  }
  if (location.key.endsWith('/')) {
    return {
      scope: { kind: 'key', key: location.key },
      warning: `s3://${location.bucket}/${location.key} is taken as the exact key "${location.key}"; add --recursive for every key under that prefix`,
    };
  }
  return { scope: { kind: 'key', key: location.key } };
}

export const formatS3Uri = (bucket: string, key: string): string => `s3://${bucket}/${key}`;
