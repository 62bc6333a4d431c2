/**
 * The first step of every restore: the request is valid, allowed here, and the
 * bucket can be restored safely. Nothing is listed or written before this passes.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { checkBucket } from './bucket-guard.ts';
import { checkPolicy, type RestorePolicy } from './policy.ts';
import { destinationOf, parseRestoreRequest, restoreIdOf } from './request.ts';
import type { RestoreContext, ValidateStepInput } from './steps.ts';

/**
 * The restore id is the execution's name (unique per execution: the API and CLI
 * name executions `restoreIdOf(request)`; EventBridge gives each a fresh one), so
 * two runs of one request never share a work prefix.
 */
export async function validateRestore(
  s3: S3Client,
  { input, executionName }: ValidateStepInput,
  policy: RestorePolicy,
  workBucket: string,
): Promise<RestoreContext> {
  const request = parseRestoreRequest(input?.request);
  checkPolicy(request, policy);
  await checkBucket(s3, request.bucket, request.mode);
  // A restore to another place writes versions there: it must be versioned too (a Suspended one would lose its null version).
  if (request.to !== undefined) await checkBucket(s3, destinationOf(request.to).bucket, 'copy');
  return { restoreId: executionName ?? input.restoreId ?? restoreIdOf(request), request, workBucket };
}
