/**
 * A fault-injecting HTTP proxy in front of the test S3 (Ceph RGW), in-process,
 * on a random loopback port. Point an S3 client at `proxy.endpoint`: each
 * request is forwarded byte for byte (method, path and query as sent, raw
 * headers in order, Host included, and the body), so SigV4 signatures made for
 * the proxy's address stay valid upstream. On its way it may:
 *
 * - answer `503 SlowDown` or `500 InternalError` as S3 does (an XML `<Error>`
 *   body, `x-amz-request-id`), without forwarding;
 * - reset the connection before forwarding (nothing happened upstream) or after
 *   (upstream did it, the client never hears: the nastiest case for writes);
 * - answer a DeleteObjects batch with a per-entry `SlowDown` for every entry,
 *   without forwarding (a 200 whose entries all failed);
 * - delay the response;
 * - limit the writes it forwards to N a second per bucket (a token bucket holding
 *   a tenth of a second's worth) and answer `503 SlowDown` above it, as S3 does
 *   per prefix (`writeRateLimit`);
 * - follow rules the test sets, matched on the request (operation, bucket,
 *   key, copy source, DeleteObjects entries): an S3 error for one key's copy,
 *   per-entry errors for one key in a DeleteObjects batch, a reset, a delay,
 *   a response body or headers rewritten (a listing showing a version archived,
 *   a HEAD showing its restore), an answer of its own (RestoreObject, which the
 *   local S3 can't do).
 *
 * Random faults come from a seeded PRNG: the sequence of decisions is the same
 * on every run (which request meets which decision depends on arrival order).
 * Everything injected is counted in `stats`.
 */
import { createServer, request as httpRequest, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** The S3 operation of a path-style request, as far as the tests need to tell them apart. */
export type Operation =
  | 'ListObjectVersions'
  | 'ListObjectsV2'
  | 'GetBucketVersioning'
  | 'GetObjectLockConfiguration'
  | 'HeadObject'
  | 'GetObject'
  | 'GetObjectTagging'
  | 'PutObject'
  | 'PutObjectTagging'
  | 'CopyObject'
  | 'UploadPartCopy'
  | 'CreateMultipartUpload'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'DeleteObject'
  | 'DeleteObjects'
  | 'RestoreObject'
  | 'Other';

/** Operations that change a bucket's content. */
export const WRITE_OPERATIONS: ReadonlySet<Operation> = new Set<Operation>([
  'PutObject',
  'PutObjectTagging',
  'CopyObject',
  'UploadPartCopy',
  'CreateMultipartUpload',
  'CompleteMultipartUpload',
  'DeleteObject',
  'DeleteObjects',
  'RestoreObject',
]);

export interface DeleteEntry {
  readonly key: string;
  /** Absent: a delete marker is asked for. */
  readonly versionId?: string;
}

/** What a rule or a rate sees of a request. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path and query exactly as sent. */
  readonly url: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  readonly operation: Operation;
  readonly bucket: string;
  /** The object key (decoded), '' for bucket-level requests. */
  readonly key: string;
  /** CopyObject / UploadPartCopy: the source, decoded. */
  readonly copySource?: { readonly bucket: string; readonly key: string; readonly versionId?: string };
  /** DeleteObjects: the entries of the batch. */
  readonly deleteEntries?: readonly DeleteEntry[];
}

export interface S3ErrorSpec {
  readonly status: number;
  readonly code: string;
  readonly message?: string;
}

export type FaultAction =
  /** Answer this S3 error without forwarding. */
  | ({ readonly kind: 'error' } & S3ErrorSpec)
  /** Destroy the client's socket before forwarding (nothing happens upstream) or after upstream answered. */
  | { readonly kind: 'reset'; readonly when: 'before' | 'after' }
  /**
   * DeleteObjects only: answer 200 without forwarding, with a per-entry error for every
   * entry: `codeOf(entry)`, or `otherwise` (default `SlowDown`, which clients retry) for the rest.
   */
  | { readonly kind: 'deleteEntryErrors'; readonly codeOf: (entry: DeleteEntry) => string | undefined; readonly otherwise?: string }
  /** Wait this long, then go on with the other rules and the rates. */
  | { readonly kind: 'delay'; readonly ms: number }
  /**
   * Forward, then answer with S3's response body and/or headers rewritten (a listing that shows a
   * version archived; a HEAD that shows a restore of it in progress, or another KMS key).
   */
  | { readonly kind: 'rewrite'; readonly body?: (text: string) => string; readonly headers?: (headers: ResponseHeaders) => ResponseHeaders }
  /** Answer this status, headers and body without forwarding (what S3 says where the local S3 can't: RestoreObject). */
  | { readonly kind: 'answer'; readonly status: number; readonly headers?: ResponseHeaders; readonly body?: string };

/** Response headers by lower-case name. */
export type ResponseHeaders = Readonly<Record<string, string>>;

export interface FaultRule {
  readonly name: string;
  readonly when: (request: ProxiedRequest) => boolean;
  readonly action: FaultAction;
  /** How many requests the rule acts on before it stops matching. @default unlimited */
  readonly times?: number;
}

export interface FaultRates {
  /** Share of requests answered `503 SlowDown`. */
  readonly slowDown?: number;
  /** Share answered `500 InternalError`. */
  readonly internalError?: number;
  /** Share whose connection is reset before forwarding. */
  readonly resetBefore?: number;
  /** Share whose connection is reset after upstream answered (the request took effect). */
  readonly resetAfter?: number;
  /** Share of DeleteObjects batches answered 200 with every entry `SlowDown` (not forwarded). */
  readonly deleteEntrySlowDown?: number;
  /** Share of requests delayed by a time drawn from `delayMs`. */
  readonly delay?: number;
  /** @default [5, 50] */
  readonly delayMs?: readonly [number, number];
}

export interface FaultProxyOptions {
  /** Where to forward: the S3 endpoint. @default process.env.AWS_ENDPOINT_URL_S3 */
  readonly target?: string;
  /** PRNG seed of the random faults. @default 1 */
  readonly seed?: number;
  readonly rates?: FaultRates;
  readonly rules?: readonly FaultRule[];
  /** Requests the random rates may touch. @default every request */
  readonly faultable?: (request: ProxiedRequest) => boolean;
  /** Writes forwarded per second and bucket at most; the rest are answered `503 SlowDown`. @default no limit */
  readonly writeRateLimit?: number;
}

export interface FaultStats {
  /** Requests received. */
  requests: number;
  /** Requests received and not yet answered, dropped or forwarded and answered. */
  inFlight: number;
  /** Requests forwarded upstream, by operation (resets after forwarding included). */
  forwarded: Partial<Record<Operation, number>>;
  /** Random faults injected, by kind. */
  injected: {
    slowDown: number;
    internalError: number;
    resetBefore: number;
    resetAfter: number;
    deleteEntrySlowDown: number;
    delayed: number;
    /** Writes answered `SlowDown` for going over `writeRateLimit`. */
    rateLimited: number;
  };
  /** Write requests received (every attempt), by arrival time in ms. */
  writeArrivals: number[];
  /** Writes answered `SlowDown` for going over `writeRateLimit`, by arrival time in ms. */
  rateLimitedArrivals: number[];
  /** Of those, the retries (the SDK's `amz-sdk-request` header says attempt 2 or later), by arrival time in ms. */
  rateLimitedRetryArrivals: number[];
  /** Requests each rule acted on, by rule name. */
  rules: Record<string, number>;
}

/** mulberry32: a small, fast, seedable PRNG with a uniform [0, 1) output. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const xmlUnescape = (text: string) =>
  text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** The entries of a DeleteObjects request body. */
export function deleteEntriesOf(body: string): DeleteEntry[] {
  const entries: DeleteEntry[] = [];
  for (const match of body.matchAll(/<Object>([\s\S]*?)<\/Object>/g)) {
    const inner = match[1]!;
    const key = /<Key>([\s\S]*?)<\/Key>/.exec(inner)?.[1];
    const versionId = /<VersionId>([\s\S]*?)<\/VersionId>/.exec(inner)?.[1];
    if (key === undefined) continue;
    entries.push({ key: xmlUnescape(key), ...(versionId !== undefined ? { versionId: xmlUnescape(versionId) } : {}) });
  }
  return entries;
}

function operationOf(method: string, key: string, query: URLSearchParams, headers: IncomingMessage['headers']): Operation {
  const has = (name: string) => query.has(name);
  if (method === 'POST' && has('delete')) return 'DeleteObjects';
  if (method === 'POST' && has('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'POST' && has('restore')) return 'RestoreObject';
  if (method === 'DELETE' && has('uploadId')) return 'AbortMultipartUpload';
  if (key === '') {
    if (method === 'GET' && has('versions')) return 'ListObjectVersions';
    if (method === 'GET' && has('versioning')) return 'GetBucketVersioning';
    if (method === 'GET' && has('object-lock')) return 'GetObjectLockConfiguration';
    if (method === 'GET' && has('list-type')) return 'ListObjectsV2';
    return 'Other';
  }
  if (method === 'PUT' && headers['x-amz-copy-source']) return has('uploadId') ? 'UploadPartCopy' : 'CopyObject';
  if (method === 'PUT' && has('tagging')) return 'PutObjectTagging';
  if (method === 'PUT') return 'PutObject';
  if (method === 'GET' && has('tagging')) return 'GetObjectTagging';
  if (method === 'GET') return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'DELETE') return 'DeleteObject';
  return 'Other';
}

/** Which attempt of its request a request is, from the SDK's `amz-sdk-request: attempt=N; max=M` header (1 without it). */
const attemptOf = (request: ProxiedRequest): number => Number(/attempt=(\d+)/.exec(String(request.headers['amz-sdk-request'] ?? ''))?.[1] ?? 1);

function describeRequest(method: string, url: string, headers: IncomingMessage['headers'], body: Buffer): ProxiedRequest {
  const parsed = new URL(url, 'http://proxy.invalid');
  const [, bucketPart = '', ...keyParts] = parsed.pathname.split('/');
  const bucket = decodeURIComponent(bucketPart);
  const key = decodeURIComponent(keyParts.join('/'));
  const operation = operationOf(method, key, parsed.searchParams, headers);
  const source = headers['x-amz-copy-source'];
  let copySource: ProxiedRequest['copySource'];
  if (typeof source === 'string') {
    const [path = '', search = ''] = source.replace(/^\//, '').split('?');
    const slash = path.indexOf('/');
    const versionId = new URLSearchParams(search).get('versionId') ?? undefined;
    copySource = {
      bucket: decodeURIComponent(path.slice(0, slash)),
      key: decodeURIComponent(path.slice(slash + 1)),
      ...(versionId !== undefined ? { versionId } : {}),
    };
  }
  return {
    method,
    url,
    query: parsed.searchParams,
    headers,
    body,
    operation,
    bucket,
    key,
    ...(copySource ? { copySource } : {}),
    ...(operation === 'DeleteObjects' ? { deleteEntries: deleteEntriesOf(body.toString('utf8')) } : {}),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class FaultProxy {
  readonly stats: FaultStats = {
    requests: 0,
    inFlight: 0,
    forwarded: {},
    injected: { slowDown: 0, internalError: 0, resetBefore: 0, resetAfter: 0, deleteEntrySlowDown: 0, delayed: 0, rateLimited: 0 },
    rules: {},
    writeArrivals: [],
    rateLimitedArrivals: [],
    rateLimitedRetryArrivals: [],
  };
  private writeRateLimit: number | undefined;
  private readonly writeTokens = new Map<string, { tokens: number; at: number }>();
  private rates: FaultRates;
  private rules: Array<FaultRule & { used: number }>;
  private readonly random: () => number;
  private readonly faultable: (request: ProxiedRequest) => boolean;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly sockets = new Set<Socket>();
  private readonly watchers: Array<{ test: () => boolean; resolve: () => void }> = [];
  private readonly arrivals: Array<{ test: (request: ProxiedRequest) => boolean; resolve: (request: ProxiedRequest) => void }> = [];
  private sequence = 0;
  /** What each request in the proxy's hands is waiting for (for a test that finds the proxy never idle). */
  readonly pending = new Map<number, string>();
  private nextPending = 0;

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
    options: FaultProxyOptions,
  ) {
    this.rates = options.rates ?? {};
    this.rules = (options.rules ?? []).map((rule) => ({ ...rule, used: 0 }));
    this.random = seededRandom(options.seed ?? 1);
    this.faultable = options.faultable ?? (() => true);
    this.writeRateLimit = options.writeRateLimit;
  }

  /** Starts a proxy on 127.0.0.1, on a port the system picks. */
  static async start(options: FaultProxyOptions = {}): Promise<FaultProxy> {
    const target = options.target ?? process.env.AWS_ENDPOINT_URL_S3;
    if (!target) throw new Error('FaultProxy: no target (AWS_ENDPOINT_URL_S3 is not set)');
    const server = createServer();
    const proxy = new FaultProxy(server, new URL(target), options);
    server.on('request', (req, res) => void proxy.handle(req, res));
    server.on('connection', (socket) => {
      proxy.sockets.add(socket);
      socket.on('close', () => proxy.sockets.delete(socket));
    });
    // Clients may send Expect: 100-continue; answer it as S3 would.
    server.on('checkContinue', (req, res) => {
      res.writeContinue();
      void proxy.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** `http://127.0.0.1:PORT`: the endpoint for an S3 client (path-style). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Replaces the random rates (e.g. faults only once the bucket is seeded). */
  setRates(rates: FaultRates): void {
    this.rates = rates;
  }

  /** Limits the writes forwarded to `perSecond` per bucket (undefined: no limit), from now on. */
  setWriteRateLimit(perSecond: number | undefined): void {
    this.writeRateLimit = perSecond;
    this.writeTokens.clear();
  }

  /** The most write requests (every attempt) that arrived within any one second, from `since` (ms) on. */
  highestWritesInOneSecond(since = 0): number {
    const at = this.stats.writeArrivals.filter((t) => t >= since);
    let highest = 0;
    for (let first = 0, last = 0; last < at.length; last++) {
      while (at[last]! - at[first]! >= 1000) first++;
      highest = Math.max(highest, last - first + 1);
    }
    return highest;
  }

  addRule(rule: FaultRule): void {
    this.rules.push({ ...rule, used: 0 });
  }

  clearRules(): void {
    this.rules = [];
  }

  /** Requests forwarded so far of these operations (all writes by default). */
  forwardedCount(operations: ReadonlySet<Operation> = WRITE_OPERATIONS): number {
    return Object.entries(this.stats.forwarded)
      .filter(([op]) => operations.has(op as Operation))
      .reduce((sum, [, n]) => sum + (n ?? 0), 0);
  }

  /** Total random faults injected (delays not counted). */
  get faultsInjected(): number {
    const i = this.stats.injected;
    return i.slowDown + i.internalError + i.resetBefore + i.resetAfter + i.deleteEntrySlowDown;
  }

  /** Resolves once `test` holds, checked each time a request is forwarded or done with. */
  waitUntil(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ test, resolve }));
  }

  /** Resolves with the next request that `test` accepts, as it arrives (before any rule acts on it). */
  waitForRequest(test: (request: ProxiedRequest) => boolean): Promise<ProxiedRequest> {
    return new Promise((resolve) => this.arrivals.push({ test, resolve }));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves once no request is in the proxy's hands (held, or waiting for S3). */
  idle(): Promise<void> {
    return this.waitUntil(() => this.stats.inFlight === 0);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.inFlight += 1;
    const id = this.nextPending++;
    this.pending.set(id, `${req.method} ${req.url}: reading the body`);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      this.pending.set(id, `${req.method} ${req.url}: deciding`);
      const request = describeRequest(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks));
      this.stats.requests += 1;
      if (WRITE_OPERATIONS.has(request.operation)) this.stats.writeArrivals.push(Date.now());
      for (let i = this.arrivals.length - 1; i >= 0; i--) {
        const arrival = this.arrivals[i]!;
        if (arrival.test(request)) {
          this.arrivals.splice(i, 1);
          arrival.resolve(request);
        }
      }
      const action = await this.decide(request);
      if (action?.kind === 'error') return this.answerError(res, request, action);
      if (action?.kind === 'deleteEntryErrors') return this.answerDeleteErrors(res, request, action);
      if (action?.kind === 'answer') return this.answer(res, action);
      if (action?.kind === 'reset' && action.when === 'before') return void req.socket.destroy();
      this.pending.set(id, `${req.method} ${req.url}: forwarded`);
      await this.forward(req, res, request, {
        resetAfter: action?.kind === 'reset' && action.when === 'after',
        ...(action?.kind === 'rewrite' ? { rewrite: action } : {}),
      });
    } catch {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    } finally {
      this.pending.delete(id);
      this.stats.inFlight -= 1;
      this.notify();
    }
  }

  /** The first rule that applies (delays wait and fall through), else a random fault, else nothing. */
  private async decide(request: ProxiedRequest): Promise<FaultAction | undefined> {
    for (const rule of this.rules) {
      if (rule.times !== undefined && rule.used >= rule.times) continue;
      if (rule.action.kind === 'deleteEntryErrors' && request.operation !== 'DeleteObjects') continue;
      if (!rule.when(request)) continue;
      rule.used += 1;
      this.stats.rules[rule.name] = (this.stats.rules[rule.name] ?? 0) + 1;
      if (rule.action.kind === 'delay') {
        await sleep(rule.action.ms);
        continue;
      }
      return rule.action;
    }
    if (this.overWriteRate(request)) {
      this.stats.injected.rateLimited += 1;
      this.stats.rateLimitedArrivals.push(Date.now());
      if (attemptOf(request) > 1) this.stats.rateLimitedRetryArrivals.push(Date.now());
      return { kind: 'error', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' };
    }
    if (!this.faultable(request)) return undefined;
    const r = this.rates;
    if (r.delay && this.random() < r.delay) {
      const [min, max] = r.delayMs ?? [5, 50];
      this.stats.injected.delayed += 1;
      await sleep(min + this.random() * (max - min));
    }
    let draw = this.random();
    const pick = (rate: number | undefined) => {
      if (!rate) return false;
      if (draw < rate) return true;
      draw -= rate;
      return false;
    };
    const i = this.stats.injected;
    if (pick(r.slowDown)) return (i.slowDown++, { kind: 'error', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' });
    if (pick(r.internalError)) {
      return (i.internalError++, { kind: 'error', status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' });
    }
    if (pick(r.resetBefore)) return (i.resetBefore++, { kind: 'reset', when: 'before' });
    if (pick(r.resetAfter)) return (i.resetAfter++, { kind: 'reset', when: 'after' });
    if (request.operation === 'DeleteObjects' && pick(r.deleteEntrySlowDown)) {
      return (i.deleteEntrySlowDown++, { kind: 'deleteEntryErrors', codeOf: () => undefined, otherwise: 'SlowDown' });
    }
    return undefined;
  }

  /** A write over the bucket's `writeRateLimit`: its token bucket refills N a second and holds a tenth of a second's worth. */
  private overWriteRate(request: ProxiedRequest): boolean {
    const limit = this.writeRateLimit;
    if (limit === undefined || !WRITE_OPERATIONS.has(request.operation)) return false;
    const capacity = Math.max(1, limit / 10);
    const now = Date.now();
    const bucket = this.writeTokens.get(request.bucket) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) * limit) / 1000);
    bucket.at = now;
    this.writeTokens.set(request.bucket, bucket);
    if (bucket.tokens < 1) return true;
    bucket.tokens -= 1;
    return false;
  }

  private requestId(): string {
    return `FAULT${(++this.sequence).toString(16).padStart(11, '0').toUpperCase()}`;
  }

  private answerError(res: ServerResponse, request: ProxiedRequest, error: S3ErrorSpec): void {
    const id = this.requestId();
    const resource = `/${request.bucket}${request.key ? `/${request.key}` : ''}`;
    const body =
      request.method === 'HEAD'
        ? ''
        : '<?xml version="1.0" encoding="UTF-8"?>\n' +
          `<Error><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message ?? error.code)}</Message>` +
          `<Resource>${xmlEscape(resource)}</Resource><RequestId>${id}</RequestId><HostId>fault-proxy</HostId></Error>`;
    res.writeHead(error.status, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      'x-amz-request-id': id,
    });
    res.end(body);
  }

  private answer(res: ServerResponse, action: Extract<FaultAction, { kind: 'answer' }>): void {
    const body = action.body ?? '';
    res.writeHead(action.status, { ...action.headers, 'content-length': Buffer.byteLength(body), 'x-amz-request-id': this.requestId() });
    res.end(body);
  }

  private answerDeleteErrors(res: ServerResponse, request: ProxiedRequest, action: Extract<FaultAction, { kind: 'deleteEntryErrors' }>): void {
    const errors = (request.deleteEntries ?? []).map((entry) => {
      const code = action.codeOf(entry) ?? action.otherwise ?? 'SlowDown';
      const version = entry.versionId !== undefined ? `<VersionId>${xmlEscape(entry.versionId)}</VersionId>` : '';
      return `<Error><Key>${xmlEscape(entry.key)}</Key>${version}<Code>${xmlEscape(code)}</Code><Message>${xmlEscape(code)} (fault proxy)</Message></Error>`;
    });
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n' + `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${errors.join('')}</DeleteResult>`;
    res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': this.requestId() });
    res.end(body);
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    request: ProxiedRequest,
    how: { readonly resetAfter: boolean; readonly rewrite?: Extract<FaultAction, { kind: 'rewrite' }> },
  ): Promise<void> {
    // Raw headers as received, Host included: the signature covers them as the client sent them.
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      if (/^expect$/i.test(name)) continue; // the 100-continue was answered here already
      headers.push(name, req.rawHeaders[i + 1]!);
    }
    // A keep-alive socket carries many requests: each one's close watch goes when its answer is done.
    let unwatch = () => {};
    return new Promise<void>((resolve, reject) => {
      // A client that went away (killed, or gave up) leaves S3 to finish: its answer is drained.
      let answer: IncomingMessage | undefined;
      let clientGone = res.destroyed || req.socket.destroyed;
      const gone = () => {
        clientGone = true;
        answer?.resume();
      };
      res.once('close', gone);
      req.socket.once('close', gone);
      unwatch = () => {
        res.off('close', gone);
        req.socket.off('close', gone);
      };
      const upstream = httpRequest(
        {
          host: this.target.hostname,
          port: this.target.port,
          method: request.method,
          path: request.url,
          headers,
          agent: this.agent,
          setHost: false,
        },
        (received) => {
          answer = received;
          this.stats.forwarded[request.operation] = (this.stats.forwarded[request.operation] ?? 0) + 1;
          this.notify();
          received.on('error', reject);
          received.on('end', () => resolve());
          received.on('close', () => resolve());
          if (how.resetAfter) {
            received.resume();
            received.on('end', () => req.socket.destroy());
            return;
          }
          if (clientGone) {
            received.resume();
            return;
          }
          const rewrite = how.rewrite;
          if (rewrite) {
            const parts: Buffer[] = [];
            received.on('data', (chunk: Buffer) => parts.push(chunk));
            received.on('end', () => {
              if (clientGone) return;
              const text = Buffer.concat(parts).toString('utf8');
              const body = Buffer.from(rewrite.body ? rewrite.body(text) : text, 'utf8');
              // A HEAD answer keeps its content-length (of the object, not of this empty body).
              const head = request.method === 'HEAD';
              let kept: Record<string, string> = {};
              for (let i = 0; i < received.rawHeaders.length; i += 2) {
                const name = received.rawHeaders[i]!.toLowerCase();
                if (/^(transfer-encoding|content-md5)$/.test(name) || (!head && name === 'content-length')) continue;
                kept[name] = received.rawHeaders[i + 1]!;
              }
              if (rewrite.headers) kept = { ...rewrite.headers(kept) };
              if (!head) kept['content-length'] = String(body.byteLength);
              res.writeHead(received.statusCode ?? 502, received.statusMessage ?? '', kept);
              res.end(head ? undefined : body);
            });
            return;
          }
          res.writeHead(received.statusCode ?? 502, received.statusMessage ?? '', received.rawHeaders);
          received.pipe(res);
        },
      );
      // S3 answers within the SDK's request timeout; anything longer is a hang, not a test.
      upstream.setTimeout(150_000, () => upstream.destroy(new Error('no answer from S3 in 150 s')));
      upstream.on('error', reject);
      upstream.end(request.body);
    }).finally(() => unwatch());
  }

  private notify(): void {
    for (let i = this.watchers.length - 1; i >= 0; i--) {
      const watcher = this.watchers[i]!;
      if (watcher.test()) {
        this.watchers.splice(i, 1);
        watcher.resolve();
      }
    }
  }
}
