/**
 * Schemas of what each state hands the next. Every handler parses its event, so
 * a malformed event fails with a `RequestError` naming the field, before any I/O.
 */
import { z } from 'zod';
import { RequestError } from '../restore/errors.ts';
import { describeIssues, RestoreRequestSchema } from '../restore/request.ts';
import type { ActStepInput, NextChunksInput, PlanRangesInput, PlanStepInput, ReportStepInput, ValidateStepInput } from './contracts.ts';

/** Also a Step Functions execution name: 1-80 of letters, digits, `-` and `_`. */
export const restoreId = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be 1-80 letters, digits, - or _');

export const context = {
  restoreId,
  request: RestoreRequestSchema,
  workBucket: z.string().min(3).max(63),
  objectLock: z.boolean().optional(),
};

const count = z.number().int().min(0);

const totals = z.object({
  keys: z.number(),
  restore: z.number(),
  delete: z.number(),
  undelete: z.number(),
  unchanged: z.number(),
  deletions: z.number(),
  copies: z.number(),
  copyBytes: z.number().optional(),
  listed: z.number().optional(),
  checks: z.number().optional(),
});

export const ExecutionInputSchema = z.object({ request: z.unknown(), restoreId: restoreId.optional(), requestedBy: z.literal('event').optional() });

/** What the validate step receives: the execution's input and its name (the restore id). */
export const ValidateStepInputSchema = z.object({ input: ExecutionInputSchema, executionName: restoreId.optional() });

export const PlanStepInputSchema = z.object({
  ...context,
  cursor: z.string().nullish(),
  nextChunk: z.number().int().nonnegative().optional(),
  totals: totals.optional(),
  /** A key range of the prefix (`Plan Ranges`): after `startAfter`, up to `lastKey`. */
  range: z.object({ startAfter: z.string(), lastKey: z.string().optional() }).optional(),
  /** `Partition Scope` (plan-ranges.ts). */
  partition: z.literal(true).optional(),
  /** `Sum Range Totals` (plan-ranges.ts). */
  rangeTotals: z.array(totals).max(10_000).optional(),
});

export const ChunkRefSchema = z.object({
  restoreId,
  workBucket: z.string(),
  planKey: z.string().min(1),
  index: z.number().int().nonnegative(),
  writes: z.number().int().nonnegative(),
  actions: z.number().int().nonnegative(),
  startAfter: z.string(),
  lastKey: z.string(),
  itemsKey: z.string().min(1).optional(),
  listedAt: z.number().int().nonnegative().optional(),
});

const actPhase = z.enum(['all', 'noncurrent', 'current']);

export const ActStepInputSchema = z.object({ ...context, chunk: ChunkRefSchema, phase: actPhase.optional() });

export const NextChunksInputSchema = z.object({
  ...context,
  pass: z.object({
    source: z.enum(['plan', 'batch']),
    phase: actPhase,
    then: z.enum(['report', 'batch']),
    after: z.string().nullable(),
  }),
});

export const ReportStepInputSchema = z.object({
  ...context,
  totals: totals.optional(),
  failure: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
  progress: z
    .object({
      after: z.string().nullable(),
      parts: z.number().int().min(0),
      counts: z.object({ restored: count, deleted: count, undeleted: count, unchanged: count, failed: count }),
      archivePending: count.optional(),
      done: z.boolean(),
    })
    .optional(),
});

export function parseWith<T>(schema: z.ZodType, what: string, event: unknown): T {
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error);
    throw new RequestError(`invalid ${what} event: ${issues.join('; ')}`, issues);
  }
  return parsed.data as T;
}

export const parseValidateStepInput = (event: unknown) => parseWith<ValidateStepInput>(ValidateStepInputSchema, 'validate-request', event);
export const parsePlanStepInput = (event: unknown) => parseWith<PlanStepInput & PlanRangesInput>(PlanStepInputSchema, 'list-versions', event);
export const parseActStepInput = (event: unknown) => parseWith<ActStepInput>(ActStepInputSchema, 'act', event);
export const parseReportStepInput = (event: unknown) => parseWith<ReportStepInput>(ReportStepInputSchema, 'report', event);
export const parseNextChunksInput = (event: unknown) => parseWith<NextChunksInput>(NextChunksInputSchema, 'next-chunks', event);
