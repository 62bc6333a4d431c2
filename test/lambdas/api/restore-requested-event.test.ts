/**
 * A `Restore Requested` event (source `s3-rewind`) with a batch request in its
 * detail: a manifest, a destination with history, an engine. The rule's input
 * transformer (executed as EventBridge would, test/lib/event-pattern.ts) and
 * start-requested-restore (Step Functions mocked) must hand the detail to the
 * state machine as the request, every field kept, in an execution named by its
 * restore id; the Validate
 * Request step must read every field from that execution input; and the
 * deployed definition, run locally on that input against the local S3, must
 * restore the manifest's keys to the destination with their history.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policyFromEnv } from '#core/restore/policy.ts';
import { canonicalRequest, parseRestoreRequest, restoreIdOf } from '#core/restore/request.ts';
import type { RestoreExecutionInput } from '#core/steps/contracts.ts';
import { FileWorkStore } from '../../../cli/file-work-store.ts';
import { runRestoreLocally } from '../../../cli/local-runner.ts';
import { makeHandler as startRequestedRestoreHandler } from '../../../lambdas/start-requested-restore/handler.ts';
import { makeHandler as validateRequestHandler } from '../../../lambdas/validate-request/handler.ts';
import { matchesPattern, transformInput } from '../../lib/event-pattern.ts';
import { FULL_CONTEXT, logicalIdOf, resourcesOf, synth, type Json } from '../../lib/support.ts';
import { depsOf, iso } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';
import { HistoryWriter, byKeyMap, listHistory, sleep, type Entry } from '../../support/history.ts';
import { lambdaContext } from '../../support/lambda.ts';
import { executionArnOf, mockStepFunctions } from '../../support/step-functions.ts';

const { stack, template } = synth(FULL_CONTEXT);
const rule = resourcesOf(template, 'AWS::Events::Rule')[logicalIdOf(stack.triggers.restoreRequestedRule)]!.Properties;
const transformer = (rule.Targets as Array<{ InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string } }>)[0]!.InputTransformer;

/** The event a caller puts on the bus (PutEvents with source s3-rewind, detail-type Restore Requested), as EventBridge delivers it. */
const restoreRequested = (detail: Record<string, Json>) => ({
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'Restore Requested',
  source: 's3-rewind',
  account: '111122223333',
  time: '2026-11-20T10:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail,
});

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:s3-rewind';
const sfn = mockStepFunctions();
beforeEach(() => {
  sfn.mock
    .on(StartExecutionCommand)
    .callsFake((input: { name: string }) => ({ executionArn: executionArnOf(STATE_MACHINE_ARN, input.name), startDate: new Date() }));
});

/** The execution the rule's target starts for the event: its name and input. */
async function executionOf(event: ReturnType<typeof restoreRequested>): Promise<{ name: string; input: RestoreExecutionInput }> {
  await startRequestedRestoreHandler(sfn.client, STATE_MACHINE_ARN)(transformInput(transformer, event) as never);
  const last = sfn.startedNames().length - 1;
  return { name: sfn.startedNames()[last] ?? '', input: sfn.sentInput(last) as RestoreExecutionInput };
}
const executionInputOf = async (event: ReturnType<typeof restoreRequested>) => (await executionOf(event)).input;

/** A role ARN for the deployment's Batch Operations jobs: where one is configured, the engine is allowed. */
const BATCH_OPERATIONS_ROLE_ARN = 'arn:aws:iam::111122223333:role/s3-rewind-batch-operations';

describe('the Restore Requested rule hands a batch request to the state machine', () => {
  test('manifest, to, withHistory, engine and at arrive as the request (at as its UTC instant), in an execution named by the restore id', async () => {
    // Prepare: a manifest key with spaces, quotes, a plus and non-ASCII, as JSON must carry them
    const detail = {
      bucket: 'example-bucket',
      manifest: 's3://example-bucket/manifests/2026 "week 47"+é.csv',
      at: '2026-11-01T00:00:00+01:00',
      to: 's3://sandbox-bucket/restored/',
      withHistory: true,
      engine: 'batch-operations',
      dryRun: false,
    };
    const event = restoreRequested(detail);

    // Act
    const { name, input } = await executionOf(event);

    // Assess
    expect(matchesPattern(rule.EventPattern as Record<string, Json>, event)).toBe(true);
    const request = parseRestoreRequest(detail);
    expect(name).toBe(restoreIdOf(request));
    expect(input).toEqual({ request: canonicalRequest(request), restoreId: name, requestedBy: 'event' });
    expect(input.request).toMatchObject({ ...detail, at: '2026-10-31T23:00:00.000Z' });
  });
});

describe('on the local S3', () => {
  const fx = engineFixture('event-batch');
  const s3 = fx.s3;
  const homes: string[] = [];
  afterAll(() => homes.forEach((home) => rmSync(home, { recursive: true, force: true })));

  /** A source whose two keys changed after T, the manifest listing them in the source bucket, and an empty destination. */
  async function setUp() {
    const source = await fx.versionedBucket('src');
    const destination = await fx.versionedBucket('dst');
    const w = new HistoryWriter(s3, source);
    await w.put('docs/a b.txt', 'a1');
    await w.put('docs/a b.txt', 'a2');
    await w.put('docs/c.txt', 'c1');
    await w.del('docs/c.txt');
    await w.put('docs/c.txt', 'c2');
    await w.put('docs/not listed.txt', 'n1');
    await sleep(1100);
    const at = Date.now();
    await sleep(1100);
    await w.put('docs/a b.txt', 'a3 after T');
    await w.del('docs/c.txt');
    const manifestKey = 'manifests/keys.csv';
    await s3.send(new PutObjectCommand({ Bucket: source, Key: manifestKey, Body: `${source},docs/a%20b.txt\n${source},docs/c.txt\n` }));
    const policy = policyFromEnv({ ALLOWED_BUCKETS: `${source},${destination}`, BATCH_OPERATIONS_ROLE_ARN });
    return { source, destination, at, manifest: `s3://${source}/${manifestKey}`, policy };
  }

  test.each([['lambda'], ['batch-operations']])(
    'Validate Request reads the request from the execution input the event started: manifest, to, withHistory and engine %s are in the restore context',
    async (engine) => {
      // Prepare
      const { source, destination, at, manifest, policy } = await setUp();
      const detail = { bucket: source, manifest, at: iso(at), to: `s3://${destination}/restored/`, withHistory: true, engine };
      const { name, input } = await executionOf(restoreRequested(detail));
      const handler = validateRequestHandler(depsOf(s3), policy, fx.workBucket());

      // Act: the payload the state machine's first task sends, $$.Execution.Input and the execution's name
      const context = await handler({ input, executionName: name }, lambdaContext('validate-request'));

      // Assess
      expect(context.restoreId).toBe(name);
      const { engine: asked, ...rest } = detail;
      expect(context.request).toMatchObject(rest);
      // The canonical request leaves the default engine unsaid, as the API's does.
      expect(context.request.engine ?? 'lambda').toBe(asked);
    },
  );

  /** Each key's entries, oldest first, as delete markers and bodies are compared across buckets: kind and size. */
  const shapeOf = (entries: readonly Entry[] | undefined) =>
    [...(entries ?? [])].reverse().map((e) => (e.isDeleteMarker ? 'marker' : `version of ${e.size} bytes`));

  test("the deployed definition, run on the execution input of the event, restores the manifest's keys to the destination with their history up to T", async () => {
    // Prepare
    const { source, destination, at, manifest, policy } = await setUp();
    const input = await executionInputOf(restoreRequested({ bucket: source, manifest, at: iso(at), to: `s3://${destination}/restored/`, withHistory: true }));
    const home = mkdtempSync(join(tmpdir(), 's3-rewind-event-'));
    homes.push(home);

    // Act
    const summary = await runRestoreLocally(input, { s3, store: new FileWorkStore(home), policy });

    // Assess: only the listed keys, each with its entries up to T in the source's order
    expect(summary).toMatchObject({ status: 'SUCCEEDED', counts: { restored: 2, failed: 0 } });
    const sourceHistory = byKeyMap(await listHistory(s3, source));
    const written = byKeyMap(await listHistory(s3, destination));
    expect([...written.keys()].sort()).toEqual(['restored/docs/a b.txt', 'restored/docs/c.txt']);
    expect(shapeOf(written.get('restored/docs/a b.txt'))).toEqual(shapeOf(sourceHistory.get('docs/a b.txt')?.slice(1)));
    expect(shapeOf(written.get('restored/docs/c.txt'))).toEqual(['version of 2 bytes', 'marker', 'version of 2 bytes']);
  });

  test('a dry run requested by event plans the same restore and writes nothing to the destination', async () => {
    // Prepare
    const { source, destination, at, manifest, policy } = await setUp();
    const input = await executionInputOf(
      restoreRequested({ bucket: source, manifest, at: iso(at), to: `s3://${destination}/restored/`, withHistory: true, dryRun: true }),
    );
    const home = mkdtempSync(join(tmpdir(), 's3-rewind-event-'));
    homes.push(home);

    // Act
    const summary = await runRestoreLocally(input, { s3, store: new FileWorkStore(home), policy });

    // Assess: a's two versions and c's three entries planned, nothing written
    expect(summary).toMatchObject({ status: 'PLANNED', dryRun: true, planned: { keys: 2, restore: 2, copies: 4, deletions: 1 } });
    expect(await listHistory(s3, destination)).toEqual([]);
  });
});
