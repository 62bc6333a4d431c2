/**
 * The one Lambda function shape of s3-rewind: the team defaults live here, so
 * every handler is built, traced and logged the same way.
 */
import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { RestoreHandlerName } from './handler-names.ts';

/** The repository root: `lambdas/`, `package.json` and `package-lock.json` live there. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * Environment variable naming the handler a function runs. The local runner maps
 * each Task's function (by logical id, see `renderDefinition`) to the in-process
 * handler through it.
 */
export const HANDLER_ENV = 'S3_REWIND_HANDLER';

export const SERVICE_NAME = 's3-rewind';

export interface RestoreFunctionProps {
  /** Which handler: the entry is `lambdas/<handlerName>/handler.ts`. */
  readonly handlerName: RestoreHandlerName;
  /** What the function does, in the restore domain. */
  readonly description: string;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** Added to the team's variables (`POWERTOOLS_SERVICE_NAME`, `NODE_OPTIONS`, `S3_REWIND_HANDLER`). @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** How long the function's log group keeps its logs. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A Node.js 22 arm64 Lambda bundled by the local esbuild (no Docker): CommonJS
 * output, so the ESM-only dependencies (`@middy/core`, `p-limit`) are converted
 * at build time and the AWS SDK (bundled too: the version we test is the version
 * we run) needs no `require` shim; source maps on; X-Ray tracing active; its own
 * log group with a retention; a role that may write to that log group only.
 */
export class RestoreFunction extends NodejsFunction {
  public readonly handlerName: RestoreHandlerName;
  /** Where the function logs. */
  public readonly functionLogGroup: logs.ILogGroup;
  /** The function's execution role; grants go here. */
  public readonly executionRole: iam.Role;

  constructor(scope: Construct, id: string, props: RestoreFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `s3-rewind ${props.handlerName}: ${props.description}`.slice(0, 1000),
    });
    logGroup.grantWrite(role);

    super(scope, id, {
      entry: path.join(PROJECT_ROOT, 'lambdas', props.handlerName, 'handler.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      role,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
        [HANDLER_ENV]: props.handlerName,
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.CJS,
        target: 'node22',
        // Prefer the ES module builds of dependencies: smaller bundles, same CJS output.
        mainFields: ['module', 'main'],
        // Bundle everything, the AWS SDK included: the runtime's SDK version is not ours to pick.
        externalModules: [],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        logLevel: LogLevel.WARNING,
      },
    });
    this.handlerName = props.handlerName;
    this.functionLogGroup = logGroup;
    this.executionRole = role;

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the team runtime, the one handlers are tested and bundled for (esbuild target node22), supported by Lambda ' +
        'until 2027; a runtime upgrade is a deliberate change of RestoreFunction, not a drift.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
    });
  }
}
