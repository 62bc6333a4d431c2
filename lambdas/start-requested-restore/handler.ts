/**
 * start-requested-restore: the target of the `Restore Requested` rule and of
 * each schedule rule. Starts the restore's execution named by its restore id
 * (core/steps/requested-restore.ts), so it is found by that id like one the API
 * started. A name taken already is the same restore started before (a delivery
 * again, or the same request asked again): nothing more starts. Any other
 * failure is thrown: Lambda retries the invocation, then puts the event on the
 * triggers' dead-letter queue.
 */
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { requestedExecution, type RequestedRestore } from '#core/steps/requested-restore.ts';
import { logger } from '../commons/step-handler.ts';

export const makeHandler =
  (sfn: SFNClient = new SFNClient({}), stateMachineArn: string = process.env.STATE_MACHINE_ARN ?? '') =>
  async (requested: RequestedRestore): Promise<{ readonly restoreId?: string; readonly executionArn?: string }> => {
    const { name, input, invalid } = requestedExecution(requested);
    if (invalid !== undefined) logger.warn('invalid restore request: started for validation to refuse it', { reason: invalid });
    try {
      const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, ...(name ? { name } : {}), input: JSON.stringify(input) }));
      // The request holds bucket, key or prefix, version ids and times: nothing of an object's contents.
      logger.info('restore started', { restoreId: name, request: input.request, executionArn: started.executionArn });
      return { ...(name ? { restoreId: name } : {}), ...(started.executionArn ? { executionArn: started.executionArn } : {}) };
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists) || !name) throw error;
      logger.info('restore started already: not started again', { restoreId: name });
      return { restoreId: name };
    }
  };

export const handler = makeHandler();
