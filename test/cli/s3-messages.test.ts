/**
 * What the real binary says when S3 refuses or can't be reached: the S3 error
 * code and HTTP status with a hint of what to check, exit 2, nothing written.
 * Codes RGW gives (NoSuchBucket, SignatureDoesNotMatch, InvalidAccessKeyId) are
 * asked of RGW; those it can't be made to give (RequestTimeTooSkewed,
 * AccessDenied) and network failures come from a stub endpoint in this process.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import { HistoryWriter, historyLines, listHistory } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../support/s3.ts';
import { messageLines, removeWarmHome, runCli, tempHome, type TempHome } from './run-cli.ts';

let s3: S3Client;
let bucket: string;
let home: TempHome;
let stub: Server;
let stubUrl: string;
let closedPort: number;

/** Answers every request with the S3 error `code` named by the path's first segment of the bucket (`/stub-<code>/...`). */
const STATUS: Record<string, number> = { RequestTimeTooSkewed: 403, AccessDenied: 403 };

beforeAll(async () => {
  home = await tempHome();
  s3 = testS3Client();
  bucket = await createVersionedBucket(s3, 'cli-messages');
  await new HistoryWriter(s3, bucket).put('site/a.txt', 'a1');
  stub = createServer((request, response) => {
    const code = Object.keys(STATUS).find((c) => request.url?.includes(c.toLowerCase())) ?? 'AccessDenied';
    response.writeHead(STATUS[code]!, { 'content-type': 'application/xml' });
    response.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><RequestId>stub</RequestId></Error>`);
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
});

afterAll(async () => {
  home.remove();
  await removeWarmHome();
  await new Promise<void>((resolve) => stub.close(() => resolve()));
  await emptyAndDeleteBucket(s3, bucket);
});

async function refused(args: string[], env: Record<string, string> = {}) {
  const result = await runCli([...args], { home: home.dir, env });
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
  const lines = messageLines(result.stderr);
  expect(lines).toHaveLength(2);
  return lines;
}

describe('S3 refusals show the code, the HTTP status and what to check', () => {
  test.concurrent('a restore in a bucket that does not exist', async () => {
    const [error, hint] = await refused(['restore', 's3://s3-rewind-no-such-bucket-msg/site/', '--recursive', '--at', '1h ago', '--no-progress']);
    expect(error).toBe('error: the bucket does not exist (S3 NoSuchBucket, HTTP 404)');
    expect(hint).toMatch(/^hint: check the bucket name, and --region \/ --endpoint-url/);
  });

  test.concurrent('a restore with a wrong secret key writes nothing', async () => {
    const before = historyLines(await listHistory(s3, bucket));
    const [error, hint] = await refused(['restore', `s3://${bucket}/site/`, '--recursive', '--at', '1h ago', '--yes', '--no-progress'], {
      AWS_SECRET_ACCESS_KEY: 'not-the-secret',
    });
    expect(error).toContain('(S3 SignatureDoesNotMatch, HTTP 403)');
    expect(hint).toContain('AWS_SECRET_ACCESS_KEY');
    expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
  });

  test.concurrent('versions with an access key the endpoint does not know', async () => {
    const [error, hint] = await refused(['versions', `s3://${bucket}/site/a.txt`], { AWS_ACCESS_KEY_ID: 'nobody-knows-me' });
    expect(error).toBe('error: the endpoint does not know the access key id (S3 InvalidAccessKeyId, HTTP 403)');
    expect(hint).toContain('--profile');
  });

  test.concurrent("a clock too far from the endpoint's", async () => {
    const [error, hint] = await refused(['versions', 's3://requesttimetooskewed/a.txt', '--endpoint-url', stubUrl]);
    expect(error).toBe("error: this machine's clock is too far from the endpoint's (S3 allows 15 minutes) (S3 RequestTimeTooSkewed, HTTP 403)");
    expect(hint).toContain('clock');
  });

  test.concurrent('access denied names the permissions a restore needs', async () => {
    const [error, hint] = await refused(['versions', 's3://accessdenied/a.txt', '--endpoint-url', stubUrl]);
    expect(error).toBe('error: access denied (S3 AccessDenied, HTTP 403)');
    expect(hint).toContain('s3:ListBucketVersions');
  });
});

describe('an endpoint that never answers: exit 2 naming the endpoint tried', () => {
  test.concurrent('connection refused, on versions and on a restore', async () => {
    const endpoint = `http://127.0.0.1:${closedPort}`;
    const versions = await refused(['versions', `s3://${bucket}/site/a.txt`, '--endpoint-url', endpoint]);
    const restore = await refused(['restore', `s3://${bucket}/site/`, '--recursive', '--at', '1h ago', '--yes', '--no-progress', '--endpoint-url', endpoint]);
    for (const [error, hint] of [versions, restore]) {
      expect(error).toBe(`error: could not reach the S3 endpoint ${endpoint} (ECONNREFUSED); nothing was written`);
      expect(hint).toMatch(/--endpoint-url .*--region/);
    }
  });

  test.concurrent('a host name that does not resolve', async () => {
    const [error] = await refused(['versions', `s3://${bucket}/site/a.txt`, '--endpoint-url', 'http://s3-rewind-no-such-host.invalid']);
    expect(error).toMatch(/^error: could not reach the S3 endpoint http:\/\/s3-rewind-no-such-host\.invalid \((ENOTFOUND|EAI_AGAIN)\)/);
  });

  test.concurrent('https:// on a plain http endpoint', async () => {
    const https = stubUrl.replace('http:', 'https:');
    const [error, hint] = await refused(['versions', `s3://${bucket}/site/a.txt`, '--endpoint-url', https]);
    expect(error).toBe(`error: ${https} does not speak TLS (EPROTO): it is probably a plain http:// endpoint; nothing was written`);
    expect(hint).toBe(`hint: try --endpoint-url ${stubUrl}`);
  });
});

describe('set-up mistakes in one line', () => {
  test.concurrent('a --profile that does not exist', async () => {
    const result = await runCli(['versions', `s3://${bucket}/site/a.txt`, '--profile', 'no-such-profile'], {
      home: home.dir,
      env: { AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n').filter(Boolean)).toEqual([
      'error: --profile no-such-profile: no such profile in ~/.aws/config or ~/.aws/credentials',
      'hint: no profiles are configured: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run aws configure',
    ]);
  });
});
