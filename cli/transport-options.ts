/**
 * The connection options an `aws s3` user reaches for, with the same names:
 * `--debug` (every HTTP exchange on stderr), `--no-verify-ssl`, `--ca-bundle`
 * (or AWS_CA_BUNDLE), `--cli-connect-timeout` and `--cli-read-timeout` (seconds,
 * 0 for none), `--expected-bucket-owner` and `--request-payer` (sent on every
 * S3 request). They become the S3 client's settings (`S3Options`).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { S3Options } from '#core/s3/client.ts';
import { UsageError } from './exit.ts';

/** What the options give, as commander names them. */
export interface TransportOptions {
  readonly debug?: boolean;
  /** `--no-verify-ssl` sets it false. */
  readonly verifySsl?: boolean;
  readonly caBundle?: string;
  readonly cliConnectTimeout?: number;
  readonly cliReadTimeout?: number;
  readonly expectedBucketOwner?: string;
  readonly requestPayer?: 'requester';
}

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n > 3600) throw new InvalidArgumentError('give a number of seconds from 0 (no limit) to 3600.');
  return n;
}

function accountId(value: string): string {
  if (!/^\d{12}$/.test(value)) throw new InvalidArgumentError('give the 12-digit AWS account id that owns the buckets.');
  return value;
}

/** Adds the options to the program (they apply to every command). */
export function transportOptions(program: Command): Command {
  return program
    .option('--debug', 'log every HTTP request and response to S3 (headers, no bodies) on stderr')
    .option('--no-verify-ssl', "don't verify the endpoint's TLS certificate (a self-signed test endpoint); prefer --ca-bundle")
    .addOption(new Option('--ca-bundle <file>', 'PEM certificates to verify the endpoint with, instead of the default ones').env('AWS_CA_BUNDLE'))
    .option('--cli-connect-timeout <seconds>', 'longest wait to connect, 0 for none (default 5)', seconds)
    .option('--cli-read-timeout <seconds>', 'longest a connection may stay silent while a request waits, 0 for none (default none)', seconds)
    .option('--expected-bucket-owner <account-id>', 'S3 refuses every request to a bucket this account does not own (sent on every request)', accountId)
    .addOption(
      new Option('--request-payer <payer>', 'requester: pay for the requests to a Requester Pays bucket (sent on every request)').choices(['requester']),
    );
}

/** The client settings the options give (none of them set: nothing). */
export function transportSettingsOf(options: TransportOptions, write: (text: string) => void = (t) => void process.stderr.write(t)): Partial<S3Options> {
  let ca: string | undefined;
  if (options.caBundle !== undefined) {
    try {
      ca = readFileSync(options.caBundle, 'utf8');
    } catch (error) {
      throw new UsageError(`--ca-bundle ${options.caBundle}: ${(error as Error).message}`, 'give a file of PEM certificates');
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new UsageError(`--ca-bundle ${options.caBundle} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, 'give a file of PEM certificates');
    }
  }
  const tls = { ...(ca !== undefined ? { ca } : {}), ...(options.verifySsl === false ? { rejectUnauthorized: false } : {}) };
  const headers = {
    ...(options.expectedBucketOwner !== undefined ? { expectedBucketOwner: options.expectedBucketOwner } : {}),
    ...(options.requestPayer !== undefined ? { requestPayer: options.requestPayer } : {}),
  };
  return {
    ...(Object.keys(tls).length ? { tls } : {}),
    ...(options.cliConnectTimeout !== undefined ? { connectionTimeoutMs: options.cliConnectTimeout * 1000 } : {}),
    ...(options.cliReadTimeout !== undefined ? { readTimeoutMs: options.cliReadTimeout * 1000 } : {}),
    ...(Object.keys(headers).length ? { headers } : {}),
    ...(options.debug === true ? { wireLog: write } : {}),
  };
}

/** Node's codes for a TLS certificate the client does not trust. */
const CERTIFICATE_CODES = [
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
];

/** Node's messages for them, which is all a failure keeps once it crossed the state machine. */
const CERTIFICATE_MESSAGES =
  /self[- ]signed certificate|unable to verify the first certificate|unable to get local issuer certificate|does not match certificate's altnames/i;

/**
 * A failure of the connection itself that these options decide: an untrusted
 * certificate, or no answer within the read timeout. Reads fail this way before
 * anything is written.
 */
export function transportFailureOf(error: unknown, endpoint: string): UsageError | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    // A failure that crossed the local state machine keeps its message only.
    const untrusted = typeof code === 'string' && CERTIFICATE_CODES.includes(code) ? code : CERTIFICATE_MESSAGES.test(e.message) ? 'certificate' : undefined;
    if (untrusted) {
      const why = e.message.replace(/^Error: /, '');
      return new UsageError(
        `the TLS certificate of ${endpoint} is not trusted (${untrusted === 'certificate' ? why : `${untrusted}: ${why}`}); nothing was written`,
        'give --ca-bundle FILE with the certificate that signed it (or AWS_CA_BUNDLE); --no-verify-ssl skips the check',
      );
    }
    if (e.name === 'TimeoutError' || /socket timed out after \d+ ms/.test(e.message)) {
      return new UsageError(
        `${endpoint} did not answer in time (${e.message.replace(/^(Error: |TimeoutError: )?@smithy\/node-http-handler - /, '')}); nothing was written`,
        'check the endpoint and the network; --cli-read-timeout and --cli-connect-timeout set the waits (0 for none)',
      );
    }
  }
  return undefined;
}
