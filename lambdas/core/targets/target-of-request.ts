/** The write target a request names: another bucket or prefix (`to`), or the keys themselves. */
import type { S3Client } from '@aws-sdk/client-s3';
import { destinationOf, specOf, type RestoreRequest } from '../restore/request.ts';
import { destinationTarget } from './destination.ts';
import { inPlaceTarget } from './in-place.ts';
import type { WriteTarget } from './write-target.ts';

export interface WriteTargetOptions {
  /** Requests in flight while planning (destination listings, same-version checks). @default 16 */
  readonly concurrency?: number;
}

export function writeTargetOf(s3: S3Client, request: RestoreRequest, options: WriteTargetOptions = {}): WriteTarget {
  if (request.to !== undefined) return destinationTarget(s3, request.bucket, destinationOf(request.to), request.withHistory === true, options);
  return inPlaceTarget(s3, specOf(request), options);
}
