/**
 * moto's S3 server (`moto_server`, from the machine's Python) for what Ceph RGW
 * can't do here: copies of SSE-KMS versions (RGW answers 501). Started by a
 * test's beforeAll on a free loopback port, stopped in its afterAll. moto takes
 * any credentials and wants path-style requests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';

export const MOTO_SERVER = process.env.MOTO_SERVER ?? 'moto_server';

export interface MotoServer {
  readonly endpoint: string;
  /** An S3 client for it (path-style, dummy credentials), or for a proxy in front of it. */
  client(via?: string): S3Client;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

/** Starts `moto_server` and waits until it answers; throws a clear error when it isn't installed. */
export async function startMotoServer(timeoutMs = 60_000): Promise<MotoServer> {
  const found = spawnSync(MOTO_SERVER, ['--help'], { stdio: 'ignore' });
  if (found.error || found.status !== 0) {
    throw new Error(`moto_server is needed for the SSE-KMS copy tests and was not found as "${MOTO_SERVER}" (pip install "moto[server]", or set MOTO_SERVER)`);
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${endpoint}/`)).status < 500) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode} before answering`);
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    endpoint,
    client: (via = endpoint) =>
      new S3Client({
        endpoint: via,
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: 2,
      }),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
