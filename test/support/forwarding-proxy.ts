/**
 * A plain forwarding proxy in front of the test S3, on a random loopback port,
 * over HTTP or (given a key and certificate) HTTPS: each request is forwarded
 * as sent (method, path, headers, Host included, body), so signatures stay
 * valid upstream, and recorded, so a test can see the headers a client sent.
 */
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export interface ForwardingProxy {
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startForwardingProxy(upstream: string, tls?: { readonly key: string; readonly cert: string }): Promise<ForwardingProxy> {
  const target = new URL(upstream);
  const requests: RecordedRequest[] = [];
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
    const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  const server = tls ? createHttpsServer(tls, forward) : createHttpServer(forward);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
