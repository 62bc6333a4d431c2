/**
 * The deployment's configuration, read from `cdk.json` context (`s3-rewind:*`
 * keys, or `-c key=value` on the command line) and checked before anything is
 * built: a schedule naming a bucket restores may not touch, or a delete-mode
 * schedule in a deployment without delete mode, fails synthesis with one exact
 * message instead of failing at 3 a.m.
 */
import { RestoreRequestSchema, describeIssues, type RestoreRequestInput } from '../lambdas/core/restore/request.ts';

/** A restore run on a schedule, e.g. reset a sandbox prefix to a golden point in time every night. */
export interface ScheduledRestore {
  /** Names the rule: 1-64 letters, digits, `-` or `_`. */
  readonly name: string;
  /** An EventBridge schedule expression: `cron(0 3 * * ? *)` or `rate(1 day)` (UTC). */
  readonly schedule: string;
  /** The restore request, in the shared request schema. */
  readonly request: RestoreRequestInput;
}

/** A bucket and a key prefix an event-driven recovery watches. */
export interface WatchedPrefix {
  readonly bucket: string;
  /** Key prefix; `''` watches the whole bucket. */
  readonly prefix: string;
}

export interface S3RewindConfig {
  /** Buckets restores may touch; IAM is scoped to exactly these. */
  readonly allowedBuckets: readonly string[];
  /** Delete mode permanently deletes versions: its function and grants exist only when this is true. @default false */
  readonly deleteModeAllowed: boolean;
  /** @default [] */
  readonly schedules: readonly ScheduledRestore[];
  /** Prefixes where a new delete marker is undone at once (S3 `Object Deleted` events). @default [] */
  readonly protectedPrefixes: readonly WatchedPrefix[];
  /** Prefixes where an object GuardDuty finds a threat in is rolled back to the version before. @default [] */
  readonly malwareRollback: readonly WatchedPrefix[];
  /** Days plans, outcomes and reports stay in the work bucket. @default 30 */
  readonly reportExpiryDays: number;
  /** Chunks acted on at once by the Distributed Map. @default 10 */
  readonly mapMaxConcurrency: number;
  /** Key ranges a prefix is split into (1 to 64), each planned in its own child of `Plan Ranges`, one ListObjectVersions chain each. @default 1 */
  readonly planRanges: number;
  /** Ranges the `Plan Ranges` map plans at once (`s3-rewind:planRangesAtOnce`). */
  readonly planRangesAtOnce: number;
  /**
   * Writes per second every restore stays under, whatever its request says (a request may ask
   * for less): split among the Distributed Map's concurrent act steps. @default none
   */
  readonly maxWritesPerSecond?: number;
  /** Percentage of chunks that may fail before the restore is failed. @default 0 */
  readonly mapToleratedFailurePercentage: number;
  /** Steady-state requests per second the API accepts. @default 10 */
  readonly apiRateLimit: number;
  /** Requests the API accepts in a burst. @default 20 */
  readonly apiBurstLimit: number;
  /** An existing bucket for the work bucket's server access logs. @default - none (acknowledged in cdk-nag) */
  readonly accessLogsBucketName?: string;
  /** The event bus `Restore Completed` / `Restore Failed` go to. @default - the account's default bus */
  readonly eventBusName?: string;
  /**
   * Whether the stack creates (and keeps on stack deletion) the account's API Gateway CloudWatch role
   * and sets it in the account settings: API stages can't write access logs without one. Turn off only
   * where the account already has that role. @default true
   */
  readonly apiGatewayAccountRole: boolean;
  /** Customer-managed KMS keys versions of the allowed buckets are encrypted with (SSE-KMS): decrypt and encrypt through S3 only. @default [] */
  readonly kmsKeyArns: readonly string[];
  /**
   * Who may put `Restore Requested` events on the stack's restore request bus: account ids or IAM
   * principal ARNs. None: no `Restore Requested` rule, no bus. @default []
   */
  readonly restoreRequestPrincipals: readonly string[];
  /** Whether a `Restore Requested` event may ask for delete mode (besides `deleteModeAllowed`). @default false */
  readonly deleteModeFromEvents: boolean;
  /** Allowed buckets whose EventBridge notifications the stack turns on (undelete needs them; other notifications kept). @default [] */
  readonly bucketEventBridgeNotifications: readonly string[];
}

/** The context keys this app reads. */
export const CONTEXT_KEYS = {
  allowedBuckets: 's3-rewind:allowedBuckets',
  deleteModeAllowed: 's3-rewind:deleteModeAllowed',
  schedules: 's3-rewind:schedules',
  protectedPrefixes: 's3-rewind:protectedPrefixes',
  malwareRollback: 's3-rewind:malwareRollback',
  reportExpiryDays: 's3-rewind:reportExpiryDays',
  mapMaxConcurrency: 's3-rewind:mapMaxConcurrency',
  planRanges: 's3-rewind:planRanges',
  planRangesAtOnce: 's3-rewind:planRangesAtOnce',
  maxWritesPerSecond: 's3-rewind:maxWritesPerSecond',
  mapToleratedFailurePercentage: 's3-rewind:mapToleratedFailurePercentage',
  apiRateLimit: 's3-rewind:apiRateLimit',
  apiBurstLimit: 's3-rewind:apiBurstLimit',
  accessLogsBucketName: 's3-rewind:accessLogsBucketName',
  eventBusName: 's3-rewind:eventBusName',
  apiGatewayAccountRole: 's3-rewind:apiGatewayAccountRole',
  kmsKeyArns: 's3-rewind:kmsKeyArns',
  restoreRequestPrincipals: 's3-rewind:restoreRequestPrincipals',
  deleteModeFromEvents: 's3-rewind:deleteModeFromEvents',
  bucketEventBridgeNotifications: 's3-rewind:bucketEventBridgeNotifications',
} as const satisfies Record<keyof S3RewindConfig, string>;

export const CONFIG_DEFAULTS = {
  deleteModeAllowed: false,
  reportExpiryDays: 30,
  mapMaxConcurrency: 10,
  planRanges: 1,
  planRangesAtOnce: 16,
  mapToleratedFailurePercentage: 0,
  apiRateLimit: 10,
  apiBurstLimit: 20,
  apiGatewayAccountRole: true,
  deleteModeFromEvents: false,
} as const;

/** Thrown for a configuration that can't be deployed; the message says which key and why. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const SCHEDULE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SCHEDULE_EXPRESSION = /^(cron\(\S+( \S+){5}\)|rate\([1-9]\d* (minute|minutes|hour|hours|day|days)\))$/;
const bucketName = RestoreRequestSchema.shape.bucket;
/** A key ARN, not an alias: a grant on an alias ARN doesn't cover the key S3 names in its requests. */
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const ACCOUNT_ID = /^\d{12}$/;
const IAM_PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;

/** Reads the configuration with `get` (e.g. `key => app.node.tryGetContext(key)`), applies defaults and checks it. */
export function configFromContext(get: (key: string) => unknown): S3RewindConfig {
  const accessLogsBucketName = optionalString(get(CONTEXT_KEYS.accessLogsBucketName), CONTEXT_KEYS.accessLogsBucketName);
  const eventBusName = optionalString(get(CONTEXT_KEYS.eventBusName), CONTEXT_KEYS.eventBusName);
  const maxWritesPerSecond =
    get(CONTEXT_KEYS.maxWritesPerSecond) === undefined ? undefined : num(get(CONTEXT_KEYS.maxWritesPerSecond), CONTEXT_KEYS.maxWritesPerSecond, 0);
  return validateConfig({
    allowedBuckets: stringList(get(CONTEXT_KEYS.allowedBuckets), CONTEXT_KEYS.allowedBuckets),
    deleteModeAllowed: flag(get(CONTEXT_KEYS.deleteModeAllowed), CONTEXT_KEYS.deleteModeAllowed, CONFIG_DEFAULTS.deleteModeAllowed),
    schedules: list<ScheduledRestore>(get(CONTEXT_KEYS.schedules), CONTEXT_KEYS.schedules),
    protectedPrefixes: list<WatchedPrefix>(get(CONTEXT_KEYS.protectedPrefixes), CONTEXT_KEYS.protectedPrefixes),
    malwareRollback: list<WatchedPrefix>(get(CONTEXT_KEYS.malwareRollback), CONTEXT_KEYS.malwareRollback),
    reportExpiryDays: num(get(CONTEXT_KEYS.reportExpiryDays), CONTEXT_KEYS.reportExpiryDays, CONFIG_DEFAULTS.reportExpiryDays),
    mapMaxConcurrency: num(get(CONTEXT_KEYS.mapMaxConcurrency), CONTEXT_KEYS.mapMaxConcurrency, CONFIG_DEFAULTS.mapMaxConcurrency),
    planRanges: num(get(CONTEXT_KEYS.planRanges), CONTEXT_KEYS.planRanges, CONFIG_DEFAULTS.planRanges),
    planRangesAtOnce: num(get(CONTEXT_KEYS.planRangesAtOnce), CONTEXT_KEYS.planRangesAtOnce, CONFIG_DEFAULTS.planRangesAtOnce),
    mapToleratedFailurePercentage: num(
      get(CONTEXT_KEYS.mapToleratedFailurePercentage),
      CONTEXT_KEYS.mapToleratedFailurePercentage,
      CONFIG_DEFAULTS.mapToleratedFailurePercentage,
    ),
    apiRateLimit: num(get(CONTEXT_KEYS.apiRateLimit), CONTEXT_KEYS.apiRateLimit, CONFIG_DEFAULTS.apiRateLimit),
    apiBurstLimit: num(get(CONTEXT_KEYS.apiBurstLimit), CONTEXT_KEYS.apiBurstLimit, CONFIG_DEFAULTS.apiBurstLimit),
    ...(accessLogsBucketName ? { accessLogsBucketName } : {}),
    ...(maxWritesPerSecond !== undefined ? { maxWritesPerSecond } : {}),
    ...(eventBusName ? { eventBusName } : {}),
    apiGatewayAccountRole: flag(get(CONTEXT_KEYS.apiGatewayAccountRole), CONTEXT_KEYS.apiGatewayAccountRole, CONFIG_DEFAULTS.apiGatewayAccountRole),
    kmsKeyArns: stringList(get(CONTEXT_KEYS.kmsKeyArns), CONTEXT_KEYS.kmsKeyArns),
    restoreRequestPrincipals: stringList(get(CONTEXT_KEYS.restoreRequestPrincipals), CONTEXT_KEYS.restoreRequestPrincipals),
    deleteModeFromEvents: flag(get(CONTEXT_KEYS.deleteModeFromEvents), CONTEXT_KEYS.deleteModeFromEvents, CONFIG_DEFAULTS.deleteModeFromEvents),
    bucketEventBridgeNotifications: stringList(get(CONTEXT_KEYS.bucketEventBridgeNotifications), CONTEXT_KEYS.bucketEventBridgeNotifications),
  });
}

/** Checks a whole configuration; throws `ConfigError` with the first problem found. Returns it unchanged. */
export function validateConfig(config: S3RewindConfig): S3RewindConfig {
  const allowed = new Set(config.allowedBuckets);
  if (allowed.size === 0) throw new ConfigError(`${CONTEXT_KEYS.allowedBuckets} must name at least one bucket`);
  for (const bucket of config.allowedBuckets) {
    if (!bucketName.safeParse(bucket).success) {
      throw new ConfigError(`${CONTEXT_KEYS.allowedBuckets}: "${bucket}" is not a valid S3 bucket name`);
    }
  }
  if (allowed.size !== config.allowedBuckets.length) {
    throw new ConfigError(`${CONTEXT_KEYS.allowedBuckets} names a bucket twice`);
  }

  const names = new Set<string>();
  for (const schedule of config.schedules) checkSchedule(schedule, config, names);

  for (const [key, prefixes] of [
    [CONTEXT_KEYS.protectedPrefixes, config.protectedPrefixes],
    [CONTEXT_KEYS.malwareRollback, config.malwareRollback],
  ] as const) {
    const seen = new Set<string>();
    for (const watched of prefixes) {
      if (typeof watched?.bucket !== 'string' || typeof watched.prefix !== 'string') {
        throw new ConfigError(`${key}: each entry needs a bucket and a prefix (use "" for the whole bucket)`);
      }
      if (!allowed.has(watched.bucket)) {
        throw new ConfigError(`${key}: bucket "${watched.bucket}" is not in ${CONTEXT_KEYS.allowedBuckets}`);
      }
      const id = `${watched.bucket}/${watched.prefix}`;
      if (seen.has(id)) throw new ConfigError(`${key}: "${id}" is listed twice`);
      seen.add(id);
    }
  }

  integerIn(config.reportExpiryDays, CONTEXT_KEYS.reportExpiryDays, 1, 3650);
  // A Distributed Map runs at most 10,000 child executions at once.
  integerIn(config.mapMaxConcurrency, CONTEXT_KEYS.mapMaxConcurrency, 1, 10_000);
  // Each range's cursor travels in the state: up to 2 KiB with the longest keys.
  integerIn(config.planRanges, CONTEXT_KEYS.planRanges, 1, 64);
  integerIn(config.planRangesAtOnce, CONTEXT_KEYS.planRangesAtOnce, 1, 10_000);
  if (config.maxWritesPerSecond !== undefined) integerIn(config.maxWritesPerSecond, CONTEXT_KEYS.maxWritesPerSecond, 1, 1_000_000);
  integerIn(config.mapToleratedFailurePercentage, CONTEXT_KEYS.mapToleratedFailurePercentage, 0, 100);
  integerIn(config.apiRateLimit, CONTEXT_KEYS.apiRateLimit, 1, 10_000);
  integerIn(config.apiBurstLimit, CONTEXT_KEYS.apiBurstLimit, 1, 5_000);
  if (config.accessLogsBucketName !== undefined && !bucketName.safeParse(config.accessLogsBucketName).success) {
    throw new ConfigError(`${CONTEXT_KEYS.accessLogsBucketName}: "${config.accessLogsBucketName}" is not a valid S3 bucket name`);
  }
  for (const arn of config.kmsKeyArns) {
    if (!KMS_KEY_ARN.test(arn)) throw new ConfigError(`${CONTEXT_KEYS.kmsKeyArns}: "${arn}" is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)`);
  }
  for (const principal of config.restoreRequestPrincipals) {
    if (!ACCOUNT_ID.test(principal) && !IAM_PRINCIPAL_ARN.test(principal)) {
      throw new ConfigError(`${CONTEXT_KEYS.restoreRequestPrincipals}: "${principal}" is neither a 12-digit account id nor an IAM role or user ARN`);
    }
  }
  if (config.deleteModeFromEvents && !config.deleteModeAllowed) {
    throw new ConfigError(`${CONTEXT_KEYS.deleteModeFromEvents} needs ${CONTEXT_KEYS.deleteModeAllowed} to be true`);
  }
  for (const bucket of config.bucketEventBridgeNotifications) {
    if (!allowed.has(bucket))
      throw new ConfigError(`${CONTEXT_KEYS.bucketEventBridgeNotifications}: bucket "${bucket}" is not in ${CONTEXT_KEYS.allowedBuckets}`);
  }
  return config;
}

function checkSchedule(schedule: ScheduledRestore, config: S3RewindConfig, names: Set<string>): void {
  const name = schedule?.name;
  if (typeof name !== 'string' || !SCHEDULE_NAME.test(name)) {
    throw new ConfigError(`${CONTEXT_KEYS.schedules}: name "${String(name)}" must be 1-64 letters, digits, - or _`);
  }
  if (names.has(name)) throw new ConfigError(`${CONTEXT_KEYS.schedules}: name "${name}" is used twice`);
  names.add(name);
  if (typeof schedule.schedule !== 'string' || !SCHEDULE_EXPRESSION.test(schedule.schedule)) {
    throw new ConfigError(`schedule "${name}": "${String(schedule.schedule)}" is not a schedule expression like cron(0 3 * * ? *) or rate(1 day)`);
  }
  const parsed = RestoreRequestSchema.safeParse(schedule.request);
  if (!parsed.success) {
    throw new ConfigError(`schedule "${name}": invalid request: ${describeIssues(parsed.error).join('; ')}`);
  }
  if (!config.allowedBuckets.includes(parsed.data.bucket)) {
    throw new ConfigError(`schedule "${name}": bucket "${parsed.data.bucket}" is not in ${CONTEXT_KEYS.allowedBuckets}`);
  }
  if (parsed.data.mode === 'delete' && !config.deleteModeAllowed) {
    throw new ConfigError(`schedule "${name}": delete mode is disabled (${CONTEXT_KEYS.deleteModeAllowed} is false)`);
  }
}

function integerIn(value: number, key: string, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${key} must be an integer from ${min} to ${max}, not ${String(value)}`);
  }
}

// Context given with `-c key=value` arrives as a string: accept JSON there too.
function parsed(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (/^[[{]/.test(trimmed) || trimmed === 'true' || trimmed === 'false' || /^-?\d+(\.\d+)?$/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}

function stringList(raw: unknown, key: string): string[] {
  const value = parsed(raw);
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new ConfigError(`${key} must be a list of bucket names`);
}

function list<T>(raw: unknown, key: string): T[] {
  const value = parsed(raw);
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value as T[];
  throw new ConfigError(`${key} must be a list`);
}

function flag(raw: unknown, key: string, fallback: boolean): boolean {
  const value = parsed(raw);
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  throw new ConfigError(`${key} must be true or false`);
}

function num(raw: unknown, key: string, fallback: number): number {
  const value = parsed(raw);
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number') return value;
  throw new ConfigError(`${key} must be a number`);
}

function optionalString(raw: unknown, key: string): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw === 'string') return raw;
  throw new ConfigError(`${key} must be a string`);
}
