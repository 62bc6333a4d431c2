/**
 * jest globalSetup: make sure the tests have an S3 to talk to.
 *
 * If AWS_ENDPOINT_URL_S3 is already set (CI sourced `.local-s3/env`, or a
 * developer points the tests at another S3), it is used as-is. Otherwise the
 * local Ceph RGW is started with `scripts/local-s3.sh start` (installing Ceph
 * with apt-get on a fresh machine) and its endpoint and credentials are put
 * into process.env, which jest's workers inherit.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const LOCAL_S3_SCRIPT = join(__dirname, '..', '..', 'scripts', 'local-s3.sh');

/** Set by this set-up when it started the local S3 itself (read by the teardown, same process). */
export const STARTED_MARKER = '__S3_REWIND_LOCAL_S3_STARTED__';

const ENV_NAMES = ['AWS_ENDPOINT_URL_S3', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const;

/** `export NAME=value` lines (as the script prints them) to a map. */
export function parseEnvLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*$/.exec(line);
    if (match?.[1] && match[2] !== undefined) out[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

export default function globalSetup(): void {
  // The AWS SDK's Node < 22 notice, once per worker, is noise in test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (process.env.AWS_ENDPOINT_URL_S3) return;

  // Was it already running (a developer's `npm run local-s3 start`)? Then it is not ours to stop.
  const before = spawnSync('bash', [LOCAL_S3_SCRIPT, 'status'], { stdio: 'ignore' });
  const started = spawnSync('bash', [LOCAL_S3_SCRIPT, 'start'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: 20 * 60_000,
  });
  if (started.error) throw started.error;
  if (started.status !== 0) {
    throw new Error(`scripts/local-s3.sh start failed (exit ${started.status ?? started.signal}); see its output above`);
  }

  const env = parseEnvLines(started.stdout);
  for (const name of ENV_NAMES) {
    const value = env[name];
    if (!value) throw new Error(`scripts/local-s3.sh start printed no ${name}:\n${started.stdout}`);
    process.env[name] = value;
  }
  // The local user's keys only: a session token or profile from the
  // developer's shell would be sent along with them and rejected.
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;

  if (before.status !== 0) (globalThis as Record<string, unknown>)[STARTED_MARKER] = true;
}
