/**
 * Headers sent on every S3 request of a client, as `aws s3` sends them with
 * `--expected-bucket-owner` and `--request-payer`: S3 refuses a request to a
 * bucket another account owns (403) instead of reading or writing it, and bills
 * a Requester Pays bucket's requests to the caller. A copy names the source's
 * expected owner too (`x-amz-source-expected-bucket-owner`). Added before
 * signing, so they are signed with the request.
 */
import type { S3Client, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-s3';
import type { BuildMiddleware } from '@smithy/types';

export interface RequestHeaderOptions {
  /** The 12-digit account id every bucket must belong to. */
  readonly expectedBucketOwner?: string;
  /** `requester`: this caller pays for the requests and data transfer of a Requester Pays bucket. */
  readonly requestPayer?: 'requester';
}

/** The header names and values a request gets; a copy (it has `x-amz-copy-source`) gets the source owner too. */
export function headersFor(options: RequestHeaderOptions, isCopy: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.expectedBucketOwner !== undefined) {
    headers['x-amz-expected-bucket-owner'] = options.expectedBucketOwner;
    if (isCopy) headers['x-amz-source-expected-bucket-owner'] = options.expectedBucketOwner;
  }
  if (options.requestPayer !== undefined) headers['x-amz-request-payer'] = options.requestPayer;
  return headers;
}

/** Adds the headers to every request `client` sends (nothing when no option is set). */
export function sendRequestHeaders(client: S3Client, options: RequestHeaderOptions): void {
  if (options.expectedBucketOwner === undefined && options.requestPayer === undefined) return;
  const add: BuildMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => (args) => {
    const request = args.request as { headers?: Record<string, string> };
    if (request.headers) {
      const isCopy = Object.keys(request.headers).some((name) => name.toLowerCase() === 'x-amz-copy-source');
      Object.assign(request.headers, headersFor(options, isCopy));
    }
    return next(args);
  };
  client.middlewareStack.add(add, { step: 'build', name: 's3RewindRequestHeaders', override: true });
}
