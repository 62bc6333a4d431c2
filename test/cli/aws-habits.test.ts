/**
 * What an `aws s3` user reaches for, on the real binary: versions of a prefix
 * with --recursive, --quiet and --only-show-errors, --debug's wire log,
 * --no-verify-ssl and --ca-bundle (an HTTPS proxy with a certificate made here
 * with openssl), --cli-read-timeout (a server that never answers),
 * --expected-bucket-owner and --request-payer on every request (a recording
 * proxy in front of the local S3).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { PrefixVersionsDocument } from '../../cli/versions-command.ts';
import { startForwardingProxy } from '../support/forwarding-proxy.ts';
import { bodyOf, HistoryWriter, historyLines, instantAtCut, listHistory, sleep } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket } from '../support/s3.ts';
import { cliFixture, messageLines, runCli } from './run-cli.ts';

const { s3, home, cleanUp } = cliFixture();
const UPSTREAM = process.env.AWS_ENDPOINT_URL_S3!;

/** site/a.txt and site/b.txt overwritten after the restore point, site/img/c.png untouched. */
async function incident(label: string): Promise<{ bucket: string; at: string }> {
  const bucket = await createVersionedBucket(s3, label);
  cleanUp(() => emptyAndDeleteBucket(s3, bucket));
  const writer = new HistoryWriter(s3, bucket);
  await writer.put('site/a.txt', 'a1');
  await writer.put('site/b.txt', 'b1');
  await writer.put('site/img/c.png', 'c1');
  const cut = writer.log.length;
  await sleep(50);
  await writer.put('site/a.txt', 'a2');
  await writer.put('site/b.txt', 'b2');
  return { bucket, at: new Date(instantAtCut(writer, await listHistory(s3, bucket), cut)).toISOString() };
}

describe('versions --recursive', () => {
  test.concurrent('lists every key under the prefix, each newest first, as a table and as JSON', async () => {
    const { bucket } = await incident('cli-habits-versions');

    const table = await runCli(['versions', `s3://${bucket}/site/`, '--recursive'], { home: await home() });
    const json = await runCli(['versions', `s3://${bucket}/site/`, '--recursive', '--json'], { home: await home() });

    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`s3://${bucket}/site/: 3 keys, 5 entries, each key newest first`);
    expect(lines[1]).toMatch(/^KEY +LATEST +LAST MODIFIED +TYPE +SIZE +VERSION ID$/);
    expect(lines.slice(2).map((l) => l.split(/ +/).slice(0, 2))).toEqual([
      ['site/a.txt', '*'],
      ['site/a.txt', expect.stringMatching(/^\d{4}-/)],
      ['site/b.txt', '*'],
      ['site/b.txt', expect.stringMatching(/^\d{4}-/)],
      ['site/img/c.png', '*'],
    ]);
    const document = JSON.parse(json.stdout) as PrefixVersionsDocument;
    expect(document.prefix).toBe('site/');
    expect(document.keys.map((k) => [k.key, k.versions.length])).toEqual([
      ['site/a.txt', 2],
      ['site/b.txt', 2],
      ['site/img/c.png', 1],
    ]);
  });

  test.concurrent('a prefix without --recursive says to add --recursive, and an empty prefix with it is an input error', async () => {
    const { bucket } = await incident('cli-habits-versions-hint');

    const exact = await runCli(['versions', `s3://${bucket}/site/`], { home: await home() });
    const empty = await runCli(['versions', `s3://${bucket}/sites/`, '--recursive'], { home: await home() });

    expect(exact.code).toBe(2);
    expect(messageLines(exact.stderr)).toContain('hint: the key is exact (case matters); to list the keys under it as a prefix, add --recursive');
    expect({ code: empty.code, stdout: empty.stdout }).toEqual({ code: 2, stdout: '' });
    expect(messageLines(empty.stderr)[0]).toBe(`error: nothing is under s3://${bucket}/sites/: no key, version or delete marker has that prefix`);
  });
});

describe('--quiet and --only-show-errors', () => {
  test.concurrent('--quiet restores and prints nothing; the exit code tells the outcome', async () => {
    const { bucket, at } = await incident('cli-habits-quiet');

    const result = await runCli(['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--quiet'], { home: await home() });

    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await bodyOf(s3, bucket, 'site/a.txt')).toBe('a1');
  });

  test.concurrent('--quiet still prints an error', async () => {
    const result = await runCli(['versions', 's3://s3-rewind-no-such-bucket/a.txt', '--quiet'], { home: await home() });

    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
    expect(messageLines(result.stderr)[0]).toMatch(/^error: bucket "s3-rewind-no-such-bucket" does not exist/);
  });

  test.concurrent('--only-show-errors prints warnings and no results', async () => {
    const { bucket, at } = await incident('cli-habits-errors-only');
    const destination = await createVersionedBucket(s3, 'cli-habits-dst');
    cleanUp(() => emptyAndDeleteBucket(s3, destination));

    const result = await runCli(['plan', `s3://${bucket}/site/`, '--recursive', '--at', at, '--to', `s3://${destination}/one`, '--only-show-errors'], {
      home: await home(),
    });

    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 0, stdout: '' });
    expect(messageLines(result.stderr)).toEqual([expect.stringMatching(/^warning: --to s3:\/\/\S+\/one has no trailing slash/)]);
  });
});

test.concurrent('--debug logs each HTTP request and response on stderr, signature left out; stdout is unchanged', async () => {
  const { bucket } = await incident('cli-habits-debug');

  const plain = await runCli(['versions', `s3://${bucket}/site/a.txt`], { home: await home() });
  const debug = await runCli(['versions', `s3://${bucket}/site/a.txt`, '--debug'], { home: await home() });

  expect(debug.code).toBe(0);
  expect(debug.stdout).toBe(plain.stdout);
  expect(debug.stderr).toContain(`debug: ListObjectVersionsCommand: GET ${UPSTREAM}/${bucket}/?versions`);
  expect(debug.stderr).toMatch(/^ {2}authorization: AWS4-HMAC-SHA256 .*Signature=…$/m);
  expect(debug.stderr).toContain('debug: ListObjectVersionsCommand: HTTP 200');
  expect(debug.stderr).not.toMatch(/Signature=[0-9a-f]{16}/);
  expect(plain.stderr).toBe('');
});

test.concurrent('--expected-bucket-owner and --request-payer go on every S3 request of a restore, copies naming the source owner too', async () => {
  const { bucket, at } = await incident('cli-habits-owner');
  const proxy = await startForwardingProxy(UPSTREAM);
  cleanUp(() => proxy.close());

  const result = await runCli(
    [
      'restore',
      `s3://${bucket}/site/`,
      '--recursive',
      '--at',
      at,
      '--endpoint-url',
      proxy.endpoint,
      '--expected-bucket-owner',
      '123456789012',
      '--request-payer',
      'requester',
      '--no-progress',
    ],
    { home: await home() },
  );

  expect(result.code).toBe(0);
  expect(await bodyOf(s3, bucket, 'site/b.txt')).toBe('b1');
  expect(proxy.requests.length).toBeGreaterThan(2);
  for (const request of proxy.requests) {
    expect([request.method, request.url, request.headers['x-amz-expected-bucket-owner'], request.headers['x-amz-request-payer']]).toEqual([
      request.method,
      request.url,
      '123456789012',
      'requester',
    ]);
  }
  const copies = proxy.requests.filter((r) => r.headers['x-amz-copy-source'] !== undefined);
  expect(copies).toHaveLength(2);
  for (const copy of copies) expect(copy.headers['x-amz-source-expected-bucket-owner']).toBe('123456789012');
});

describe('TLS: an HTTPS endpoint with a self-signed certificate', () => {
  let dir: string;
  let certFile: string;
  let endpoint: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 's3-rewind-tls-'));
    certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    const proxy = await startForwardingProxy(UPSTREAM, { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') });
    endpoint = proxy.endpoint;
    cleanUp(() => proxy.close());
    cleanUp(() => rmSync(dir, { recursive: true, force: true }));
  });

  test('is refused as untrusted, naming --ca-bundle, and nothing is written', async () => {
    const { bucket, at } = await incident('cli-habits-tls-refused');
    const before = historyLines(await listHistory(s3, bucket));

    const result = await runCli(['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--endpoint-url', endpoint, '--no-progress'], {
      home: await home(),
    });

    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
    const [error, hint] = messageLines(result.stderr);
    expect(error).toMatch(new RegExp(`^error: the TLS certificate of ${endpoint} is not trusted \\(.*self-signed certificate.*\\); nothing was written$`));
    expect(hint).toBe('hint: give --ca-bundle FILE with the certificate that signed it (or AWS_CA_BUNDLE); --no-verify-ssl skips the check');
    expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
  });

  test('--ca-bundle with its certificate plans and restores through it', async () => {
    const { bucket, at } = await incident('cli-habits-tls-ca');

    const result = await runCli(
      ['restore', `s3://${bucket}/site/`, '--recursive', '--at', at, '--endpoint-url', endpoint, '--ca-bundle', certFile, '--no-progress'],
      {
        home: await home(),
      },
    );

    expect(result.code).toBe(0);
    expect(await bodyOf(s3, bucket, 'site/a.txt')).toBe('a1');
  });

  test('--no-verify-ssl connects without checking the certificate', async () => {
    const { bucket } = await incident('cli-habits-tls-noverify');

    const result = await runCli(['versions', `s3://${bucket}/site/a.txt`, '--endpoint-url', endpoint, '--no-verify-ssl'], { home: await home() });

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`s3://${bucket}/site/a.txt: 2 entries`);
  });
});

test.concurrent('--cli-read-timeout gives up on an endpoint that never answers: exit 2, naming the endpoint', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  cleanUp(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;

  const result = await runCli(['versions', 's3://some-bucket/a.txt', '--endpoint-url', endpoint, '--cli-read-timeout', '1'], { home: await home() });

  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
  expect(messageLines(result.stderr)[0]).toMatch(new RegExp(`^error: ${endpoint} did not answer in time \\(the request socket timed out after 1000 ms`));
});

/** A listening socket whose accept queue is full: a new connection is never established (Python: Node accepts by itself). */
const FULL_BACKLOG = `
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for i in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(('127.0.0.1', port))
    except BlockingIOError: pass
    fill.append(c)
print(port, flush=True)
time.sleep(600)
`;

test.concurrent('--cli-connect-timeout gives up on a connection that is never established: exit 2, the wait named', async () => {
  const listener = spawn('python3', ['-c', FULL_BACKLOG], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanUp(() => void listener.kill());
  const port = await new Promise<string>((resolve) => listener.stdout.setEncoding('utf8').once('data', (line: string) => resolve(line.trim())));
  const endpoint = `http://127.0.0.1:${port}`;

  const result = await runCli(['versions', 's3://some-bucket/a.txt', '--endpoint-url', endpoint, '--cli-connect-timeout', '1'], { home: await home() });

  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
  expect(messageLines(result.stderr)[0]).toMatch(
    new RegExp(
      `^error: ${endpoint} did not answer in time \\(the request socket did not establish a connection with the server within the configured timeout of 1000 ms`,
    ),
  );
});

test.concurrent.each([
  [
    ['--cli-connect-timeout', 'soon'],
    "error: option '--cli-connect-timeout <seconds>' argument 'soon' is invalid. give a number of seconds from 0 (no limit) to 3600.",
  ],
  [
    ['--expected-bucket-owner', '1234'],
    "error: option '--expected-bucket-owner <account-id>' argument '1234' is invalid. give the 12-digit AWS account id that owns the buckets.",
  ],
  [['--request-payer', 'me'], "error: option '--request-payer <payer>' argument 'me' is invalid. Allowed choices are requester."],
  [['--ca-bundle', '/nonexistent/ca.pem'], expect.stringMatching(/^error: --ca-bundle \/nonexistent\/ca\.pem: ENOENT/)],
])('%p is refused as a usage error', async (flags, message) => {
  const result = await runCli(['versions', 's3://some-bucket/a.txt', ...flags], { home: await home() });

  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
  expect(messageLines(result.stderr)[0]).toEqual(message);
});

test.concurrent('--expected-bucket-owner with a deployed stack is refused: its functions would not send it', async () => {
  const result = await runCli(
    [
      'restore',
      's3://some-bucket/site/',
      '--recursive',
      '--at',
      '1h ago',
      '--state-machine-arn',
      'arn:aws:states:eu-west-1:123456789012:stateMachine:s3-rewind-restore',
      '--expected-bucket-owner',
      '123456789012',
    ],
    { home: await home() },
  );

  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
  expect(messageLines(result.stderr)[0]).toBe(
    'error: --expected-bucket-owner and --request-payer go on the requests of a local run; a deployed stack does not send them',
  );
});
