/**
 * A fake Lambda `context` for calling the step handlers (middy) in-process, as
 * Step Functions would invoke them: the handlers only read the remaining time
 * (list-versions' deadline) and the fields powertools' logger appends.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface FakeContextOptions {
  /** Time the invocation has, as Lambda's configured timeout. @default 15 minutes */
  readonly timeoutMs?: number;
  readonly memoryLimitInMB?: number;
}

/** A context for one invocation of `functionName`, its clock starting now. */
export function lambdaContext(functionName: string, options: FakeContextOptions = {}): Context {
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  const region = process.env.AWS_REGION ?? 'us-east-1';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:123456789012:function:${functionName}`,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 1024),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2026/01/01/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
