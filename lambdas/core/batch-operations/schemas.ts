/** Schemas of the S3 Batch Operations engine's step events: a malformed event fails naming the field, before any I/O. */
import { z } from 'zod';
import { context, parseWith, restoreId } from '../steps/schemas.ts';
import type { AdvanceBatchInput, PrepareBatchInput } from './contracts.ts';

export const PrepareBatchInputSchema = z.object({ ...context, nextChunk: z.number().int().nonnegative() });

const batchPhase = z.enum(['noncurrent', 'current']);

export const AdvanceBatchInputSchema = z.object({
  ...context,
  batch: z.object({
    jobs: z.object({
      restoreId,
      workBucket: z.string(),
      jobs: z.array(
        z.object({
          phase: batchPhase,
          storageClass: z.string().min(1),
          manifestKey: z.string().min(1),
          manifestEtag: z.string().min(1),
          tasks: z.number().int().nonnegative(),
          jobId: z.string().min(1).optional(),
          status: z.string().optional(),
        }),
      ),
    }),
    stage: batchPhase,
    next: z.enum(['wait', 'current-pass', 'fold', 'report', 'fail']),
    failure: z.string().optional(),
    fold: z
      .object({
        partitions: z.number().int().positive(),
        nextReport: z.number().int().nonnegative(),
        partitioned: z.boolean(),
        nextPartition: z.number().int().nonnegative(),
      })
      .optional(),
  }),
});

export const parsePrepareBatchInput = (event: unknown) => parseWith<PrepareBatchInput>(PrepareBatchInputSchema, 'prepare-batch-jobs', event);
export const parseAdvanceBatchInput = (event: unknown) => parseWith<AdvanceBatchInput>(AdvanceBatchInputSchema, 'advance-batch-jobs', event);
