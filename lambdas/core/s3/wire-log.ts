/**
 * The HTTP exchanges of a client, one block per attempt, as `aws --debug`
 * shows them: the signed request (method, URL, headers; the signature itself
 * left out) and the response's status and headers, or the error. Bodies are
 * not logged.
 */
import type { S3Client, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-s3';
import type { DeserializeMiddleware } from '@smithy/types';

export type WireLog = (text: string) => void;

interface LoggedRequest {
  readonly method?: string;
  readonly protocol?: string;
  readonly hostname?: string;
  readonly port?: number;
  readonly path?: string;
  readonly query?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

const redacted = (name: string, value: string) =>
  name.toLowerCase() === 'authorization' ? value.replace(/Signature=[0-9a-f]+/, 'Signature=…') : name.toLowerCase() === 'x-amz-security-token' ? '…' : value;

function urlOf(r: LoggedRequest): string {
  const text = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  const query = Object.entries(r.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, text(x)] as const) : [[k, text(v)] as const]))
    .map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
    .join('&');
  return `${r.protocol ?? 'https:'}//${r.hostname ?? ''}${r.port ? `:${r.port}` : ''}${r.path ?? '/'}${query ? `?${query}` : ''}`;
}

const headerLines = (headers: Record<string, string> | undefined) =>
  Object.entries(headers ?? {}).map(([name, value]) => `  ${name}: ${redacted(name, String(value))}`);

/** Logs every attempt of every request `client` sends, through `log`. */
export function logWire(client: S3Client, log: WireLog): void {
  const wire: DeserializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next, context) => async (args) => {
    const request = args.request as LoggedRequest;
    const command = (context as { commandName?: string }).commandName ?? 'request';
    log([`debug: ${command}: ${request.method ?? 'GET'} ${urlOf(request)}`, ...headerLines(request.headers)].join('\n') + '\n');
    try {
      const result = await next(args);
      const response = result.response as { statusCode?: number; headers?: Record<string, string> };
      log([`debug: ${command}: HTTP ${response.statusCode ?? '?'}`, ...headerLines(response.headers)].join('\n') + '\n');
      return result;
    } catch (error) {
      const e = error as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode;
      log(`debug: ${command}: ${e.name ?? 'Error'}${e.code ? ` ${e.code}` : ''}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(error)}\n`);
      throw error;
    }
  };
  client.middlewareStack.add(wire, { step: 'deserialize', name: 's3RewindWireLog', priority: 'low', override: true });
}
