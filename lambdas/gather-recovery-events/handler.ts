/**
 * gather-recovery-events: a batch of recovery events from the queue (deletes in
 * protected prefixes, malware findings) starts one restore per group
 * (core/restore/recovery-events.ts), each named by its restore id so a batch
 * delivered again starts nothing twice. A rollback's manifest is written to the
 * work bucket (under `recovery/`, the only place this function may write) before
 * its restore starts; written again on a redelivery, it has the same bytes. The
 * messages of a group whose manifest could not be written or whose restore could
 * not be started are reported failed: SQS delivers them again, and after the
 * queue's retries they wait in its dead-letter queue.
 */
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { gatherRecoveryEvents } from '#core/restore/recovery-events.ts';
import type { WorkStore } from '#core/work-store/work-store.ts';
import { lambdaDeps } from '../commons/clients.ts';
import { logger } from '../commons/step-handler.ts';

export const makeHandler =
  (
    sfn: SFNClient = new SFNClient({}),
    stateMachineArn: string = process.env.STATE_MACHINE_ARN ?? '',
    workBucket: string = process.env.WORK_BUCKET ?? '',
    store: WorkStore = lambdaDeps.workStore(workBucket),
  ) =>
  async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const { restores, unreadable } = gatherRecoveryEvents(
      event.Records.map((r) => ({ messageId: r.messageId, body: r.body })),
      workBucket,
    );
    const failed = [...unreadable];
    if (unreadable.length > 0) logger.error('messages that are no recovery event', { messageIds: unreadable });
    for (const restore of restores) {
      const input = JSON.stringify({ request: restore.request, restoreId: restore.restoreId });
      try {
        if (restore.manifest) await store.putText(restore.manifest.key, restore.manifest.body, 'application/x-ndjson');
        await sfn.send(new StartExecutionCommand({ stateMachineArn, name: restore.restoreId, input }));
        logger.info('restore started', { restoreId: restore.restoreId, events: restore.messageIds.length });
      } catch (error) {
        // Taken already: this group's restore was started by an earlier delivery of the batch.
        if (error instanceof ExecutionAlreadyExists) continue;
        logger.error('could not start the restore', { restoreId: restore.restoreId, error: String(error) });
        failed.push(...restore.messageIds);
      }
    }
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };

export const handler = makeHandler();
