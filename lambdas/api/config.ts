/**
 * What the API Lambda needs from its environment, read and checked once at cold
 * start: a missing setting fails the deployment's first call loudly instead of
 * every call vaguely.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Logger } from '@aws-lambda-powertools/logger';
import { policyFromEnv, type RestorePolicy } from '#core/restore/policy.ts';

export interface ApiConfig {
  /** The restore state machine (`STATE_MACHINE_ARN`). */
  readonly stateMachineArn: string;
  /** Where restores keep plans, outcomes and reports (`WORK_BUCKET`). */
  readonly workBucket: string;
  /** `ALLOWED_BUCKETS`, `DELETE_MODE_ALLOWED`. */
  readonly policy: RestorePolicy;
  /** How long `GET /timeline` may list before it refuses (`TIMELINE_TIME_LIMIT_MS`). @default 20000 */
  readonly timelineTimeLimitMs: number;
}

/** Below the function's 28 s and API Gateway's 29 s, with room to answer. */
export const DEFAULT_TIMELINE_TIME_LIMIT_MS = 20_000;

/** What the routes work with. */
export interface ApiContext {
  readonly sfn: SFNClient;
  readonly s3: S3Client;
  readonly config: ApiConfig;
  readonly logger: Logger;
}

export function apiConfigFromEnv(env: NodeJS.ProcessEnv): ApiConfig {
  const stateMachineArn = env.STATE_MACHINE_ARN ?? '';
  if (!/^arn:[\w-]+:states:[\w-]+:\d{12}:stateMachine:[\w-]+$/.test(stateMachineArn)) {
    throw new Error('STATE_MACHINE_ARN must be set to the ARN of a state machine (arn:aws:states:<region>:<account>:stateMachine:<name>)');
  }
  const workBucket = env.WORK_BUCKET ?? '';
  if (!workBucket) throw new Error('WORK_BUCKET must be set to the bucket restores keep their plans and reports in');
  const limit =
    env.TIMELINE_TIME_LIMIT_MS === undefined || env.TIMELINE_TIME_LIMIT_MS === '' ? DEFAULT_TIMELINE_TIME_LIMIT_MS : Number(env.TIMELINE_TIME_LIMIT_MS);
  if (!Number.isInteger(limit) || limit < 0) throw new Error('TIMELINE_TIME_LIMIT_MS must be a whole number of milliseconds');
  return { stateMachineArn, workBucket, policy: policyFromEnv(env), timelineTimeLimitMs: limit };
}
