/**
 * What IAM asks of each S3 request, and whether a synthesized role allows it:
 * enough of IAM's evaluation for the s3-rewind roles (Allow statements only,
 * ARN patterns with `*` and `?`, `StringLike` / `StringEquals` conditions on
 * request keys), so that requests recorded against the local S3, where RGW
 * enforces no IAM, can be checked against the policies a deployment would have.
 *
 * The action each API needs is AWS's (Amazon S3 API reference, "Permissions",
 * and the Service Authorization Reference for S3): a request naming a version
 * needs the `...Version` action; a copy needs to read its source and write its
 * destination; multipart uploads are `s3:PutObject` but for their abort.
 */
import { flattenReference } from '../../lib/nag.ts';
import { statementsOfRole, type Json, type Statement } from '../lib/support.ts';
import type { Template } from 'aws-cdk-lib/assertions';

/** One permission IAM checks: an action on a resource, with the request's condition keys. */
export interface Permission {
  readonly action: string;
  /** As the template flattens it: `arn:<AWS::Partition>:s3:::bucket/key`, `<WorkBucket….Arn>/restores/…`. */
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
}

/** An S3 request as `countRequests` records it. */
export interface SentRequest {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/** How the template names a bucket: the work bucket by its logical id, any other by its ARN. */
export interface BucketNaming {
  readonly workBucket: string;
  /** `<WorkBucket….Arn>` as `permissionsOf` flattens it. */
  readonly workBucketArn: string;
}

export const bucketResource = (naming: BucketNaming, bucket: string): string =>
  bucket === naming.workBucket ? naming.workBucketArn : `arn:<AWS::Partition>:s3:::${bucket}`;
export const objectResource = (naming: BucketNaming, bucket: string, key: string): string => `${bucketResource(naming, bucket)}/${key}`;

/** `bucket/url-encoded-key?versionId=ID` → its parts. */
function copySourceOf(text: string): { bucket: string; key: string; versionId?: string } {
  const [path, query = ''] = text.replace(/^\//, '').split('?') as [string, string?];
  const slash = path.indexOf('/');
  const versionId = new URLSearchParams(query).get('versionId') ?? undefined;
  return { bucket: path.slice(0, slash), key: decodeURIComponent(path.slice(slash + 1)), ...(versionId ? { versionId } : {}) };
}

/** What IAM checks for one S3 request. Throws for a command not listed here: add it, with AWS's actions. */
export function permissionsOfRequest(request: SentRequest, naming: BucketNaming): Permission[] {
  const input = request.input as {
    Bucket: string;
    Key?: string;
    VersionId?: string;
    Prefix?: string;
    Tagging?: unknown;
    CopySource?: string;
    Delete?: { Objects?: Array<{ Key: string; VersionId?: string }> };
  };
  const bucket = bucketResource(naming, input.Bucket);
  const object = (key = input.Key ?? '') => objectResource(naming, input.Bucket, key);
  const versioned = (plain: string, version: string) => (input.VersionId !== undefined ? version : plain);
  const readSource = () => {
    const source = copySourceOf(input.CopySource ?? '');
    return { action: source.versionId ? 's3:GetObjectVersion' : 's3:GetObject', resource: objectResource(naming, source.bucket, source.key), source };
  };
  switch (request.command) {
    case 'ListObjectVersionsCommand':
      return [{ action: 's3:ListBucketVersions', resource: bucket, context: { 's3:prefix': input.Prefix ?? '' } }];
    case 'ListObjectsV2Command':
    case 'ListObjectsCommand':
      return [{ action: 's3:ListBucket', resource: bucket, context: { 's3:prefix': input.Prefix ?? '' } }];
    case 'GetBucketVersioningCommand':
      return [{ action: 's3:GetBucketVersioning', resource: bucket }];
    case 'GetObjectLockConfigurationCommand':
      return [{ action: 's3:GetBucketObjectLockConfiguration', resource: bucket }];
    case 'GetObjectCommand':
    case 'HeadObjectCommand':
      return [{ action: versioned('s3:GetObject', 's3:GetObjectVersion'), resource: object() }];
    case 'GetObjectTaggingCommand':
      return [{ action: versioned('s3:GetObjectTagging', 's3:GetObjectVersionTagging'), resource: object() }];
    case 'PutObjectTaggingCommand':
      return [{ action: versioned('s3:PutObjectTagging', 's3:PutObjectVersionTagging'), resource: object() }];
    case 'PutObjectCommand':
    case 'CreateMultipartUploadCommand':
      return [{ action: 's3:PutObject', resource: object() }, ...(input.Tagging !== undefined ? [{ action: 's3:PutObjectTagging', resource: object() }] : [])];
    case 'CopyObjectCommand': {
      // The tag set is copied with the object (x-amz-tagging-directive COPY): read there, written here.
      const { action, resource, source } = readSource();
      return [
        { action, resource },
        { action: source.versionId ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging', resource },
        { action: 's3:PutObject', resource: object() },
        { action: 's3:PutObjectTagging', resource: object() },
      ];
    }
    case 'UploadPartCopyCommand': {
      const { action, resource } = readSource();
      return [
        { action, resource },
        { action: 's3:PutObject', resource: object() },
      ];
    }
    case 'UploadPartCommand':
    case 'CompleteMultipartUploadCommand':
      return [{ action: 's3:PutObject', resource: object() }];
    case 'AbortMultipartUploadCommand':
      return [{ action: 's3:AbortMultipartUpload', resource: object() }];
    case 'RestoreObjectCommand':
      return [{ action: 's3:RestoreObject', resource: object() }];
    case 'DeleteObjectCommand':
      return [{ action: versioned('s3:DeleteObject', 's3:DeleteObjectVersion'), resource: object() }];
    case 'DeleteObjectsCommand':
      return (input.Delete?.Objects ?? []).map((entry) => ({
        action: entry.VersionId !== undefined ? 's3:DeleteObjectVersion' : 's3:DeleteObject',
        resource: object(entry.Key),
      }));
    default:
      throw new Error(`no IAM mapping for ${request.command}: add the actions AWS documents for it`);
  }
}

const globToRegExp = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    's',
  );

/** Whether every condition of a statement holds for the request's keys (only the operators s3-rewind uses). */
function conditionsHold(condition: Json | undefined, context: Readonly<Record<string, string>>): boolean {
  if (condition === undefined) return true;
  return Object.entries(condition as Record<string, Record<string, Json>>).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => {
      const value = context[key];
      if (value === undefined) return false;
      const patterns = (Array.isArray(expected) ? expected : [expected]).map(String);
      if (operator === 'StringLike') return patterns.some((p) => globToRegExp(p).test(value));
      if (operator === 'StringEquals') return patterns.includes(value);
      return false; // an operator this evaluation does not know never holds
    }),
  );
}

const listOf = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Whether an Allow statement of the role's policies grants `permission` (there are no Deny statements to weigh). */
export function roleAllows(statements: readonly Statement[], permission: Permission): boolean {
  return statements.some(
    (statement) =>
      statement.Effect === 'Allow' &&
      listOf(statement.Action).some((action) => globToRegExp(action).test(permission.action)) &&
      listOf(statement.Resource).some((resource) => globToRegExp(flattenReference(resource)).test(permission.resource)) &&
      conditionsHold(statement.Condition, permission.context ?? {}),
  );
}

/** The role's statements, once, and a checker over them. */
export function roleOf(template: Template, roleLogicalId: string) {
  const statements = statementsOfRole(template, roleLogicalId);
  return {
    allows: (permission: Permission) => roleAllows(statements, permission),
    /** Each permission the requests need that the role does not grant, as `action resource`. */
    missing: (requests: readonly SentRequest[], naming: BucketNaming): string[] => [
      ...new Set(
        requests
          .flatMap((request) => permissionsOfRequest(request, naming).map((p) => ({ p, command: request.command })))
          .filter(({ p }) => !roleAllows(statements, p))
          .map(({ p, command }) => `${p.action} ${p.resource} (${command})`),
      ),
    ],
  };
}
