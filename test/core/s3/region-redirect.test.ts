/**
 * A bucket in another region than the client's: S3 answers `301 PermanentRedirect`
 * with `x-amz-bucket-region`. The restore's client (createS3Client) sends the
 * request again signed for that region and goes on. RGW has one region and never
 * redirects, so a small local HTTP server gives S3's answer: the first request
 * for the bucket is redirected, a request signed for the bucket's region is
 * answered as S3 would.
 */
import { GetBucketVersioningCommand } from '@aws-sdk/client-s3';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createS3Client } from '#core/s3/client.ts';

const BUCKET_REGION = 'eu-west-1';
let server: Server;
let endpoint: string;
const seen: Array<{ method?: string; url?: string; region?: string }> = [];

/** The region of a SigV4 request's credential scope: `Credential=AKID/20260101/<region>/s3/aws4_request`. */
const signingRegionOf = (request: IncomingMessage): string | undefined =>
  /Credential=[^/]+\/\d{8}\/([^/]+)\/s3\//.exec(request.headers.authorization ?? '')?.[1];

beforeAll(async () => {
  server = createServer((request, response) => {
    const region = signingRegionOf(request);
    seen.push({ method: request.method, url: request.url, ...(region ? { region } : {}) });
    request.resume();
    if (region !== BUCKET_REGION) {
      response.writeHead(301, { 'content-type': 'application/xml', 'x-amz-bucket-region': BUCKET_REGION, 'x-amz-request-id': 'r1' });
      response.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code>' +
          '<Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message>' +
          `<Endpoint>far-bucket.s3.${BUCKET_REGION}.amazonaws.com</Endpoint><Bucket>far-bucket</Bucket></Error>`,
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'application/xml', 'x-amz-request-id': 'r2' });
    response.end(
      '<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => (seen.length = 0));

test("the restore's S3 client follows a PermanentRedirect to the bucket's region and gets its answer", async () => {
  const s3 = createS3Client({ endpoint, region: 'us-east-1', maxAttempts: 1 });
  const answer = await s3.send(new GetBucketVersioningCommand({ Bucket: 'far-bucket' }));
  expect(answer.Status).toBe('Enabled');
  expect(seen.map((r) => r.region)).toEqual(['us-east-1', BUCKET_REGION]);
  expect(seen.map((r) => r.url)).toEqual(['/far-bucket/?versioning=', '/far-bucket/?versioning=']);
});

test("a client in the bucket's region is never redirected", async () => {
  const s3 = createS3Client({ endpoint, region: BUCKET_REGION, maxAttempts: 1 });
  await expect(s3.send(new GetBucketVersioningCommand({ Bucket: 'far-bucket' }))).resolves.toMatchObject({ Status: 'Enabled' });
  expect(seen.map((r) => r.region)).toEqual([BUCKET_REGION]);
});
