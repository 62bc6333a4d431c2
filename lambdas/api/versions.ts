/**
 * `GET /versions?bucket=&key=`: one key's versions and delete markers, newest
 * first, in S3's listing order. Exactly that key: `doc` never lists `doc.bak`.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { RequestError } from '#core/restore/errors.ts';
import { keyVersionOf, type KeyVersion } from '#core/restore/key-version.ts';
import { historyOfKey } from '#core/s3/listing.ts';
import type { HistoryEntry } from '#core/restore/model.ts';
import { checkPolicy } from '#core/restore/policy.ts';
import { describeIssues, RestoreRequestSchema } from '#core/restore/request.ts';
import type { ApiContext } from './config.ts';
import { json, NotFoundError } from './http.ts';

/** Entries answered at most: a response stays far below API Gateway's and Lambda's payload limits. */
export const MAX_VERSIONS = 1000;

const VersionsQuery = z.object({
  bucket: RestoreRequestSchema.shape.bucket,
  key: RestoreRequestSchema.shape.key.unwrap(),
});

export interface KeyVersions {
  readonly bucket: string;
  readonly key: string;
  /** Newest first, delete markers where S3 lists them. */
  readonly versions: KeyVersion[];
  /** True when the key has more than `MAX_VERSIONS` entries: the oldest are left out. */
  readonly truncated: boolean;
}

export async function keyVersions(event: APIGatewayProxyEvent, api: ApiContext): Promise<APIGatewayProxyResult> {
  const { bucket, key } = parseQuery(event.queryStringParameters);
  checkPolicy({ bucket, mode: 'copy' }, api.config.policy);
  let entries: readonly HistoryEntry[];
  try {
    entries = await historyOfKey(api.s3, bucket, key);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchBucket') throw new NotFoundError(`bucket "${bucket}" does not exist`);
    throw error;
  }
  const body: KeyVersions = {
    bucket,
    key,
    versions: entries.slice(0, MAX_VERSIONS).map(keyVersionOf),
    truncated: entries.length > MAX_VERSIONS,
  };
  return json(200, body);
}

function parseQuery(query: APIGatewayProxyEvent['queryStringParameters']): z.output<typeof VersionsQuery> {
  const parsed = VersionsQuery.safeParse(
    { bucket: query?.bucket, key: query?.key },
    { error: (issue) => (issue.input === undefined ? 'is required' : undefined) },
  );
  if (parsed.success) return parsed.data;
  const issues = describeIssues(parsed.error);
  throw new RequestError(`invalid query: ${issues.join('; ')}`, issues);
}
