/**
 * Building the CDK app: one environment-agnostic stack from the `s3-rewind:*`
 * context. `bin/app.ts` adds cdk-nag's checks; the local runner can build the
 * same app (with bundling skipped) to take the definition from.
 */
import { App, type AppProps } from 'aws-cdk-lib';
import { configFromContext } from './config.ts';
import { S3RewindStack } from './s3-rewind-stack.ts';

export const DEFAULT_STACK_NAME = 'S3Rewind';

/** The app and its stack; `props.context` adds to (or, from the CLI, comes with) cdk.json's context. */
export function createApp(props: AppProps = {}): { app: App; stack: S3RewindStack } {
  const app = new App(props);
  const config = configFromContext((key) => app.node.tryGetContext(key));
  const stackName = (app.node.tryGetContext('s3-rewind:stackName') as string | undefined) ?? DEFAULT_STACK_NAME;
  const stack = new S3RewindStack(app, stackName, { config });
  return { app, stack };
}
