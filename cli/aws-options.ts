/**
 * Where the CLI connects, the way `aws s3` decides it: `--endpoint-url`,
 * `--region` and `--profile` first, then the standard environment variables
 * (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_REGION, AWS_PROFILE,
 * AWS_ACCESS_KEY_ID...), which the SDK and `createS3Client` read. A custom
 * endpoint gets path-style addressing. Which engine runs a restore: the
 * deployed state machine when `--state-machine-arn` or
 * S3_REWIND_STATE_MACHINE_ARN names one, else the local runner.
 */
import type { S3Options } from '#core/s3/client.ts';
import { UsageError } from './exit.ts';
import { transportSettingsOf, type TransportOptions } from './transport-options.ts';

/** The options every command takes. */
export interface GlobalOptions extends TransportOptions {
  readonly endpointUrl?: string;
  readonly region?: string;
  readonly profile?: string;
}

export const STATE_MACHINE_ENV = 'S3_REWIND_STATE_MACHINE_ARN';

export function s3OptionsOf(globals: GlobalOptions, maxSockets?: number): S3Options {
  const endpoint = globals.endpointUrl;
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new UsageError(`--endpoint-url "${endpoint}" is not an http:// or https:// URL`, 'e.g. --endpoint-url http://127.0.0.1:7480');
    }
  }
  if (globals.region !== undefined && !/^[a-z0-9-]+$/.test(globals.region)) {
    throw new UsageError(`--region "${globals.region}" is not a region name`, 'e.g. --region eu-west-1');
  }
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(globals.region ? { region: globals.region } : {}),
    ...(globals.profile ? { profile: globals.profile } : {}),
    ...(maxSockets ? { maxSockets } : {}),
    ...transportSettingsOf(globals),
  };
}

/** The deployed state machine to run on, or undefined for a local run. */
export function stateMachineArnOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const arn = flag ?? env[STATE_MACHINE_ENV];
  return arn && arn.trim() !== '' ? arn.trim() : undefined;
}
