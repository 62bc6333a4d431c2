/**
 * The S3 endpoint the benchmark runs against: the one in AWS_ENDPOINT_URL_S3 if
 * set, otherwise the project's local Ceph RGW (scripts/local-s3.sh) in a state
 * directory and port of its own, so it never disturbs the test suites' RGW.
 * An RGW this run started is stopped at the end; one already running is left.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Endpoint {
  readonly url: string;
  /** Whether this run started the RGW (and so owns all of its data). */
  readonly startedHere: boolean;
  readonly stop: () => void;
}

const SCRIPT = join(__dirname, '..', 'scripts', 'local-s3.sh');

export function ensureEndpoint(log: (line: string) => void): Endpoint {
  if (process.env.AWS_ENDPOINT_URL_S3) return { url: process.env.AWS_ENDPOINT_URL_S3, startedHere: false, stop: () => undefined };
  const env = {
    ...process.env,
    S3_REWIND_LOCAL_DIR: process.env.S3_REWIND_BENCH_DIR ?? join(tmpdir(), 's3rw-bench'),
    S3_REWIND_LOCAL_PORT: process.env.S3_REWIND_BENCH_PORT ?? '17490',
  };
  const running = spawnSync('bash', [SCRIPT, 'status'], { env, stdio: 'ignore' }).status === 0;
  if (!running) log(`starting a local Ceph RGW for the benchmark (${env.S3_REWIND_LOCAL_DIR}, port ${env.S3_REWIND_LOCAL_PORT})`);
  const exports = execFileSync('bash', [SCRIPT, 'start'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const [, name, value] of exports.matchAll(/^export (\w+)=(.*)$/gm)) process.env[name!] = value!;
  const url = process.env.AWS_ENDPOINT_URL_S3;
  if (!url) throw new Error('scripts/local-s3.sh start printed no AWS_ENDPOINT_URL_S3');
  return {
    url,
    startedHere: !running,
    stop: () => {
      if (!running) execFileSync('bash', [SCRIPT, 'stop'], { env, stdio: 'ignore' });
    },
  };
}
