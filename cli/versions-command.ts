/**
 * `versions s3://bucket/key`: the key's versions and delete markers, newest
 * first, in S3's listing order. Exactly that key: `doc` never lists `doc.bak`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { keyHistories } from '#core/s3/listing.ts';
import type { HistoryEntry } from '#core/restore/model.ts';
import { createS3Client } from '#core/s3/client.ts';
import { s3OptionsOf, type GlobalOptions } from './aws-options.ts';
import { ExitCode, UsageError } from './exit.ts';
import { keyVersionOf } from '#core/restore/key-version.ts';
import { formatVersions, printJson, stderr, stdout, type VersionRow } from './output.ts';
import { formatS3Uri, parseS3Uri, scopeOf } from './s3-uri.ts';

export interface VersionsOptions {
  readonly json?: boolean;
}

/** What `versions --json` prints. */
export interface KeyVersionsDocument {
  readonly bucket: string;
  readonly key: string;
  /** Newest first, delete markers where S3 lists them. */
  readonly versions: VersionRow[];
}

export async function runVersionsCommand(uri: string, options: VersionsOptions, globals: GlobalOptions, s3?: S3Client): Promise<ExitCode> {
  const location = parseS3Uri(uri);
  const { scope, warning } = scopeOf(location, false, 'versions');
  if (scope.kind !== 'key') throw new UsageError('versions lists one key', 's3-rewind versions s3://bucket/key');
  const client = s3 ?? createS3Client(s3OptionsOf(globals));
  if (warning) stderr(`warning: ${warning}\n`);

  const entries: HistoryEntry[] = [];
  try {
    for await (const history of keyHistories(client, location.bucket, scope)) entries.push(...history.entries);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchBucket') {
      throw new UsageError(`bucket "${location.bucket}" does not exist`, 'check the bucket name, --endpoint-url and --region');
    }
    throw error;
  }
  const uriText = formatS3Uri(location.bucket, scope.key);
  if (entries.length === 0) {
    throw new UsageError(
      `${uriText} has no versions or delete markers`,
      'the key is exact: case matters and a prefix lists nothing (try aws s3 ls to find the key)',
    );
  }
  const versions = entries.map(keyVersionOf);
  if (options.json) printJson({ bucket: location.bucket, key: scope.key, versions } satisfies KeyVersionsDocument);
  else stdout(formatVersions(uriText, versions));
  return ExitCode.ok;
}
