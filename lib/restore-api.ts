/**
 * The REST API: start a restore, ask how it is going, list a key's versions,
 * see a prefix's incident timeline (when did it go wrong, and the restore point).
 * IAM (SigV4) auth on every method, requests validated at the gateway against
 * the shared request schema, access logs, throttling and X-Ray on the stage.
 * Restores run asynchronously: the API starts executions and answers at once
 * (API Gateway gives up after 29 s).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { z } from 'zod';
import { RestoreRequestSchema } from '../lambdas/core/restore/request.ts';
import { acknowledge } from './nag.ts';
import { RestoreFunction } from './restore-function.ts';
import { grantDescribeRestores, grantReadRestores, grantReadVersionHistory, grantStartRestores } from './restore-grants.ts';

export interface RestoreApiProps {
  /** The restore workflow the API starts and describes. */
  readonly stateMachine: sfn.StateMachine;
  /** Where summaries and progress are read from. */
  readonly workBucket: s3.IBucket;
  /** Buckets restores may touch (`ALLOWED_BUCKETS`); `GET /versions` may list these only. */
  readonly allowedBuckets: readonly string[];
  /** `DELETE_MODE_ALLOWED`. @default false */
  readonly deleteModeAllowed?: boolean;
  /** The role S3 Batch Operations jobs run as (`BATCH_OPERATIONS_ROLE_ARN`): the API accepts that engine when set. */
  readonly batchOperationsRoleArn?: string;
  /** Steady-state requests per second for the whole stage. @default 10 */
  readonly rateLimit?: number;
  /** Burst of requests the stage accepts. @default 20 */
  readonly burstLimit?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Create the account's API Gateway CloudWatch role, set it in the account's API Gateway settings
   * (`AWS::ApiGateway::Account`) and keep both when the stack is deleted (other APIs of the account
   * rely on it). Stage access logs fail to deploy without that role ("CloudWatch Logs role ARN must be
   * set in account settings"); turn this off only where the account already has one.
   * @default true
   */
  readonly manageAccountCloudWatchRole?: boolean;
}

/**
 * The API Gateway model of `POST /restores`, generated from `RestoreRequestSchema`
 * (JSON Schema draft 4, the input side: `mode` and `dryRun` may be left out). The
 * cross-field rules (key or prefix, one restore point...) are the handler's to
 * check, with field-level messages.
 */
export function restoreRequestModelSchema(): apigw.JsonSchema {
  const generated = z.toJSONSchema(RestoreRequestSchema, { target: 'draft-4', io: 'input', unrepresentable: 'any' });
  return toApiGatewaySchema(generated) as apigw.JsonSchema;
}

function toApiGatewaySchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toApiGatewaySchema);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') out.schema = apigw.JsonSchemaVersion.DRAFT4;
    else if (key === '$ref') out.ref = value;
    else if (key === 'properties' || key === 'definitions') {
      out[key] = Object.fromEntries(Object.entries(value as object).map(([name, schema]) => [name, toApiGatewaySchema(schema)]));
    } else out[key] = toApiGatewaySchema(value);
  }
  return out;
}

export class RestoreApi extends Construct {
  public readonly api: apigw.RestApi;
  public readonly handler: RestoreFunction;
  public readonly accessLogGroup: logs.LogGroup;
  public readonly requestValidator: apigw.RequestValidator;

  constructor(scope: Construct, id: string, props: RestoreApiProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    this.handler = new RestoreFunction(this, 'Handler', {
      handlerName: 'api',
      description: 'The s3-rewind REST API: starts restores, reports their status, lists the versions of a key, shows a prefix timeline',
      memorySize: 512,
      // Below API Gateway's 29 s integration timeout, so a slow call ends as our error, not a gateway one.
      timeout: Duration.seconds(28),
      logRetention,
      environment: {
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        ALLOWED_BUCKETS: props.allowedBuckets.join(','),
        DELETE_MODE_ALLOWED: String(props.deleteModeAllowed ?? false),
        WORK_BUCKET: props.workBucket.bucketName,
        // GET /timeline refuses a listing still going after this: below the function's timeout, with room to answer.
        TIMELINE_TIME_LIMIT_MS: '20000',
        ...(props.batchOperationsRoleArn ? { BATCH_OPERATIONS_ROLE_ARN: props.batchOperationsRoleArn } : {}),
      },
    });
    grantStartRestores(this.handler, props.stateMachine);
    grantDescribeRestores(this.handler, props.stateMachine);
    grantReadVersionHistory(this.handler, props.allowedBuckets);
    grantReadRestores(this.handler, props.workBucket);

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention });

    this.api = new apigw.RestApi(this, 'Api', {
      description: 's3-rewind: restore versioned S3 buckets (IAM auth)',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Access logs need the account-wide API Gateway CloudWatch role: on a fresh account, create it
      // and keep it (an account singleton: deleting it with the stack would break other APIs' logs).
      ...(props.manageAccountCloudWatchRole === false
        ? { cloudWatchRole: false }
        : { cloudWatchRole: true, cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN }),
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        metricsEnabled: true,
        throttlingRateLimit: props.rateLimit ?? 10,
        throttlingBurstLimit: props.burstLimit ?? 20,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });

    this.requestValidator = this.api.addRequestValidator('BodyAndParameters', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // Validation failures answer in the handler's shape: { message, issues }.
    for (const [responseId, type] of [
      ['BadRequestBody', apigw.ResponseType.BAD_REQUEST_BODY],
      ['BadRequestParameters', apigw.ResponseType.BAD_REQUEST_PARAMETERS],
    ] as const) {
      this.api.addGatewayResponse(responseId, {
        type,
        statusCode: '400',
        templates: {
          'application/json': '{"message":$context.error.messageString,"issues":["$util.escapeJavaScript($context.error.validationErrorString)"]}',
        },
      });
    }

    const restoreRequest = this.api.addModel('RestoreRequest', {
      modelName: 'RestoreRequest',
      contentType: 'application/json',
      description: 'A restore request (the shared s3-rewind request schema)',
      schema: restoreRequestModelSchema(),
    });

    const integration = new apigw.LambdaIntegration(this.handler, { proxy: true });
    const validated = { requestValidator: this.requestValidator } as const;

    const restores = this.api.root.addResource('restores');
    restores.addMethod('POST', integration, { ...validated, requestModels: { 'application/json': restoreRequest } });
    const restore = restores.addResource('{id}');
    restore.addMethod('GET', integration, { ...validated, requestParameters: { 'method.request.path.id': true } });
    // Takes a finished restore back as a restore of its own (lambdas/api/undo.ts); no body.
    restore.addResource('undo').addMethod('POST', integration, {
      ...validated,
      requestParameters: {
        'method.request.path.id': true,
        'method.request.querystring.dryRun': false,
        // The undo of a restore to another place permanently deletes what it wrote there: confirmed as delete mode is.
        'method.request.querystring.confirmPermanentDelete': false,
      },
    });
    this.api.root.addResource('versions').addMethod('GET', integration, {
      ...validated,
      requestParameters: { 'method.request.querystring.bucket': true, 'method.request.querystring.key': true },
    });
    this.api.root.addResource('timeline').addMethod('GET', integration, {
      ...validated,
      requestParameters: Object.fromEntries(
        ['bucket', 'prefix', 'since', 'until', 'at', 'interval'].map((name) => [`method.request.querystring.${name}`, name === 'bucket']),
      ),
    });

    acknowledge(this.api, {
      'AwsSolutions-APIG3':
        'Every method requires SigV4 (IAM) auth from principals of this account, and the stage is throttled; ' +
        'a WAF web ACL adds cost without narrowing who can call. Associate one at the account level if policy requires it.',
      'AwsSolutions-APIG6':
        'Access logs (every request with caller, status and latency) go to a log group; execution logs would add ' +
        'request and response bodies (restore requests, version listings) to the logs without telling more about who called.',
      'AwsSolutions-COG4': 'The API uses IAM (SigV4) authorization on every method, not Cognito user pools: its callers are AWS principals.',
    });
    const accountRole = this.api.node.tryFindChild('CloudWatchRole');
    if (accountRole) {
      acknowledge(accountRole, {
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]':
          "AmazonAPIGatewayPushToCloudWatchLogs is AWS's policy for the account-wide API Gateway logging role, the role API Gateway requires for access logs.",
      });
    }
  }
}
