/**
 * jest globalTeardown: stop the local Ceph RGW if globalSetup started it,
 * unless S3_REWIND_KEEP_S3 is set (keep it running for faster re-runs; the
 * next run's globalSetup finds it answering and reuses it).
 */
import { spawnSync } from 'node:child_process';
import { LOCAL_S3_SCRIPT, STARTED_MARKER } from './global-setup.ts';

export default function globalTeardown(): void {
  const state = globalThis as Record<string, unknown>;
  if (!state[STARTED_MARKER]) return;
  delete state[STARTED_MARKER];
  if (process.env.S3_REWIND_KEEP_S3) return;
  const stopped = spawnSync('bash', [LOCAL_S3_SCRIPT, 'stop'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
  if (stopped.status !== 0) {
    process.stderr.write(`scripts/local-s3.sh stop failed (exit ${stopped.status ?? stopped.signal})\n`);
  }
}
