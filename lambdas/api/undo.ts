/**
 * `POST /restores/{id}/undo` takes back a finished copy-mode restore, as a
 * restore of its own (`{ bucket, undo: id }`, its own restore id and report):
 * each key it changed returns to the entry current just before it, keys
 * changed since are left alone (restore/undo-plan.ts).
 *
 * Answers 404 for a restore the state machine never ran, 409 while it runs
 * (or when it ended without a report), 400 for one that can't be undone (delete
 * mode: its versions are gone; a dry run), and 409 when this undo ran already
 * (its status is at the returned URL). `?dryRun=true` plans the undo without
 * writing. A restore to another place is undone by permanently deleting the
 * entries it wrote at its destination: a delete-mode request, which (as any
 * delete-mode restore) needs `?confirmPermanentDelete=true` (400 without it).
 */
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { RequestError } from '#core/restore/errors.ts';
import { canonicalRequest, RESTORE_ID, restoreIdOf, type RestoreRequest } from '#core/restore/request.ts';
import { undoRefusal, undoRequestOf } from '#core/sources/undo-source.ts';
import { executionArnOf, executionRunning, workKeys, type RestoreExecutionInput } from '#core/steps/contracts.ts';
import type { ApiContext } from './config.ts';
import { ConflictError, json, NotFoundError } from './http.ts';
import { statusUrlOf, type StartedRestore } from './restores.ts';

export async function startUndo(event: APIGatewayProxyEvent, api: ApiContext): Promise<APIGatewayProxyResult> {
  const id = event.pathParameters?.id ?? '';
  if (!RESTORE_ID.test(id)) throw new RequestError('not a restore id', ['id: is not a restore id like copy-0123456789abcdef0123']);
  const dryRun = dryRunOf(event);
  const status = await executionStatusOf(id, api);
  if (executionRunning(status)) {
    throw new ConflictError(`restore ${id} has not finished: undo it once it has ended`, { restoreId: id, status });
  }
  const earlier = await readJson<RestoreRequest>(workKeys(id).request, api);
  if (!earlier) throw new ConflictError(`restore ${id} ended without a report: there is nothing to undo from`, { restoreId: id, status });
  const refusal = undoRefusal(id, earlier, true);
  if (refusal) throw new RequestError(refusal.message, [`id: ${refusal.message}`]);

  const request = canonicalRequest(undoRequestOf(id, earlier, { dryRun, confirmPermanentDelete: flagOf(event, 'confirmPermanentDelete') }));
  const restoreId = restoreIdOf(request);
  const statusUrl = statusUrlOf(event, restoreId);
  const input: RestoreExecutionInput = { request, restoreId };
  try {
    const started = await api.sfn.send(
      new StartExecutionCommand({ stateMachineArn: api.config.stateMachineArn, name: restoreId, input: JSON.stringify(input) }),
    );
    api.logger.info('undo started', { restoreId, undo: id });
    const body: StartedRestore = { restoreId, executionArn: started.executionArn ?? '', statusUrl };
    return json(202, body, { location: statusUrl });
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists) {
      throw new ConflictError(`the undo of ${id} (${restoreId}) was started already; its result is at ${statusUrl}`, { restoreId, statusUrl });
    }
    throw error;
  }
}

const dryRunOf = (event: APIGatewayProxyEvent): boolean => flagOf(event, 'dryRun');

function flagOf(event: APIGatewayProxyEvent, name: string): boolean {
  const value = event.queryStringParameters?.[name];
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new RequestError(`${name} must be true or false`, [`${name}: is "${value}"`]);
}

async function executionStatusOf(id: string, api: ApiContext): Promise<string | undefined> {
  try {
    const execution = await api.sfn.send(new DescribeExecutionCommand({ executionArn: executionArnOf(api.config.stateMachineArn, id) }));
    return execution.status;
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) throw new NotFoundError(`no restore ${id}`);
    throw error;
  }
}

async function readJson<T>(key: string, api: ApiContext): Promise<T | undefined> {
  try {
    const object = await api.s3.send(new GetObjectCommand({ Bucket: api.config.workBucket, Key: key }));
    return JSON.parse((await object.Body?.transformToString()) ?? 'null') as T;
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}
