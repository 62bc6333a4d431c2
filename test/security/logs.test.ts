/**
 * Logs carry keys, version ids and restore ids, never object contents or
 * credentials. A restore of keys whose bodies are secrets runs through the real
 * step handlers (logging at DEBUG, incoming events logged too) and the CLI,
 * with the credentials in the environment; everything written to stdout and
 * stderr is captured and searched for the bodies and the secret access key.
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { HistoryWriter, instantAtCut, listHistory, sleep } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../support/s3.ts';
import { removeWarmHome, runCli, tempHome } from '../cli/run-cli.ts';

const SECRET_BODY = `TOP-SECRET-${randomUUID()}`;
const LATER_SECRET = `ANOTHER-SECRET-${randomUUID()}`;
const KEY = 'payroll/salaries.csv';

let s3: S3Client;
const buckets: string[] = [];
const saved = { level: process.env.POWERTOOLS_LOG_LEVEL, event: process.env.POWERTOOLS_LOGGER_LOG_EVENT };

beforeAll(() => {
  s3 = testS3Client();
  // As verbose as the handlers get: every level, and each incoming event.
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
});

afterAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = saved.level;
  process.env.POWERTOOLS_LOGGER_LOG_EVENT = saved.event;
  if (saved.level === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
  if (saved.event === undefined) delete process.env.POWERTOOLS_LOGGER_LOG_EVENT;
  for (const bucket of buckets) await emptyAndDeleteBucket(s3, bucket).catch(() => undefined);
  await removeWarmHome();
  s3.destroy();
});

/** A key holding a secret at T, overwritten by another secret after T, and a work bucket. */
async function secretHistory(label: string) {
  const bucket = await createVersionedBucket(s3, label);
  const work = await createVersionedBucket(s3, `${label}-work`, { versioning: 'none' });
  buckets.push(bucket, work);
  const w = new HistoryWriter(s3, bucket);
  const versionId = await w.put(KEY, SECRET_BODY, { ContentType: 'text/csv', Metadata: { owner: 'hr' } });
  await sleep(25);
  await w.put(KEY, LATER_SECRET);
  const listed = await listHistory(s3, bucket);
  return { bucket, work, versionId, at: new Date(instantAtCut(w, listed, 1)).toISOString() };
}

/** Everything written to stdout and stderr (and so every log line) while `run` runs. */
async function captured(run: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const capture = (stream: NodeJS.WriteStream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
  const spies = [capture(process.stdout), capture(process.stderr)];
  const consoles = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' '))),
  );
  try {
    await run();
  } finally {
    for (const spy of [...spies, ...consoles]) spy.mockRestore();
  }
  return lines.join('\n');
}

function expectNoSecrets(output: string) {
  expect(output).not.toContain(SECRET_BODY);
  expect(output).not.toContain(LATER_SECRET);
  expect(output).not.toContain(process.env.AWS_SECRET_ACCESS_KEY!);
  if (process.env.AWS_SESSION_TOKEN) expect(output).not.toContain(process.env.AWS_SESSION_TOKEN);
}

test.each(['copy', 'delete'] as const)('the step handlers log the key and the restore, never the bodies or the secret key (%s mode)', async (mode) => {
  expect(process.env.AWS_SECRET_ACCESS_KEY).toBeTruthy();
  const { bucket, work, versionId } = await secretHistory(`logs-${mode}`);
  // Loaded now, so that their loggers see the DEBUG level set above.
  const { runRestore } = await import('../support/drive.ts');

  const output = await captured(() => runRestore(s3, { bucket, key: KEY, versionId, mode, confirmPermanentDelete: mode === 'delete' }, { workBucket: work }));

  expect(output).toContain(KEY);
  expect(output).toContain(versionId);
  expectNoSecrets(output);
});

test('the API logs the restore it starts, never credentials', async () => {
  const { bucket, versionId } = await secretHistory('logs-api');
  const { StartExecutionCommand } = await import('@aws-sdk/client-sfn');
  const { withMockedStepFunctions } = await import('../support/step-functions.ts');
  const { makeHandler } = await import('../../lambdas/api/router.ts');
  const { postRestore, apiEnv } = await import('../lambdas/api/events.ts');

  const output = await withMockedStepFunctions((sfn) => {
    sfn.mock.on(StartExecutionCommand).resolves({ executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:s3-rewind:x' });
    const api = makeHandler({ sfn: sfn.client, s3, env: apiEnv({ ALLOWED_BUCKETS: bucket }) });
    return captured(() => api(postRestore({ bucket, key: KEY, versionId })));
  });

  expect(output).toContain(KEY);
  expectNoSecrets(output);
});

test('the CLI prints the key and the versions, never the bodies or the secret key', async () => {
  const { bucket, at } = await secretHistory('logs-cli');
  const home = await tempHome();

  const restore = await runCli(['restore', `s3://${bucket}/${KEY}`, '--at', at], { home: home.dir });
  const versions = await runCli(['versions', `s3://${bucket}/${KEY}`], { home: home.dir });
  home.remove();

  expect({ restore: restore.code, versions: versions.code }).toEqual({ restore: 0, versions: 0 });
  const output = [restore.stdout, restore.stderr, versions.stdout, versions.stderr].join('\n');
  expect(output).toContain(KEY);
  expectNoSecrets(output);
});
