/**
 * `versions s3://bucket/key`: the key's versions and delete markers, newest
 * first, in S3's listing order. Exactly that key: `doc` never lists `doc.bak`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { keyHistories, type KeyHistory } from '#core/s3/listing.ts';
import type { HistoryEntry, RestoreScope } from '#core/restore/model.ts';
import { createS3Client } from '#core/s3/client.ts';
import { s3OptionsOf, type GlobalOptions } from './aws-options.ts';
import { ExitCode, UsageError } from './exit.ts';
import { keyVersionOf } from '#core/restore/key-version.ts';
import { formatVersions, printJson, stderr, stdout, table, type VersionRow } from './output.ts';
import { formatS3Uri, parseS3Uri, scopeOf } from './s3-uri.ts';

export interface VersionsOptions {
  readonly json?: boolean;
  /** Every key under the URI's prefix, as `aws s3 ls --recursive` takes it. */
  readonly recursive?: boolean;
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
  const client = s3 ?? createS3Client(s3OptionsOf(globals));
  if (options.recursive === true) return runPrefixVersions(client, location.bucket, location.key, options);
  const { scope, warning } = scopeOf(location, false, 'versions');
  if (scope.kind !== 'key') throw new UsageError('versions lists one key', 's3-rewind versions s3://bucket/key');
  if (warning) stderr(`warning: ${warning}\n`);

  const entries: HistoryEntry[] = [];
  for (const history of await histories(client, location.bucket, scope)) entries.push(...history.entries);
  const uriText = formatS3Uri(location.bucket, scope.key);
  if (entries.length === 0) {
    throw new UsageError(
      `${uriText} has no versions or delete markers`,
      'the key is exact (case matters); to list the keys under it as a prefix, add --recursive',
    );
  }
  const versions = entries.map(keyVersionOf);
  if (options.json) printJson({ bucket: location.bucket, key: scope.key, versions } satisfies KeyVersionsDocument);
  else stdout(formatVersions(uriText, versions));
  return ExitCode.ok;
}

/** What `versions s3://bucket/prefix/ --recursive --json` prints: each key's entries, keys in S3's order. */
export interface PrefixVersionsDocument {
  readonly bucket: string;
  readonly prefix: string;
  readonly keys: Array<{ readonly key: string; readonly versions: VersionRow[] }>;
}

async function histories(client: S3Client, bucket: string, scope: RestoreScope): Promise<KeyHistory[]> {
  const all: KeyHistory[] = [];
  try {
    for await (const history of keyHistories(client, bucket, scope)) all.push(history);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchBucket') {
      throw new UsageError(`bucket "${bucket}" does not exist`, 'check the bucket name, --endpoint-url and --region');
    }
    throw error;
  }
  return all;
}

/** `versions s3://bucket/prefix/ --recursive`: every key under the prefix, each newest first. */
async function runPrefixVersions(client: S3Client, bucket: string, prefix: string, options: VersionsOptions): Promise<ExitCode> {
  const keys = (await histories(client, bucket, { kind: 'prefix', prefix })).map((h) => ({ key: h.key, versions: h.entries.map(keyVersionOf) }));
  const uriText = formatS3Uri(bucket, prefix);
  if (keys.length === 0)
    throw new UsageError(`nothing is under ${uriText}: no key, version or delete marker has that prefix`, 'a prefix is a plain prefix: case matters');
  if (options.json) printJson({ bucket, prefix, keys } satisfies PrefixVersionsDocument);
  else stdout(formatPrefixVersions(uriText, keys));
  return ExitCode.ok;
}

function formatPrefixVersions(uri: string, keys: PrefixVersionsDocument['keys']): string {
  const n = keys.reduce((sum, k) => sum + k.versions.length, 0);
  const rows = keys.flatMap(({ key, versions }) =>
    versions.map((v) => [
      key,
      v.isLatest ? '*' : '',
      v.lastModified,
      v.isDeleteMarker ? 'delete marker' : 'version',
      v.isDeleteMarker ? '-' : (v.size ?? 0).toLocaleString('en-US'),
      v.versionId,
    ]),
  );
  const head = `${uri}: ${keys.length.toLocaleString('en-US')} ${keys.length === 1 ? 'key' : 'keys'}, ${n.toLocaleString('en-US')} ${n === 1 ? 'entry' : 'entries'}, each key newest first\n`;
  return head + table(['KEY', 'LATEST', 'LAST MODIFIED', 'TYPE', 'SIZE', 'VERSION ID'], rows, [4]);
}
