/**
 * `GET /timeline?bucket=&prefix=&since=&until=&at=&interval=`: the incident
 * timeline of a prefix, the same document `s3-rewind timeline --json` prints:
 * changes per interval, the bursts and the restore point before each, and with
 * `at` what a restore to it would change. Bounded: a listing that can't finish
 * within the API's time limit is refused with what to do instead.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { RequestError } from '#core/restore/errors.ts';
import { checkPolicy } from '#core/restore/policy.ts';
import { describeIssues, instant, RestoreRequestSchema } from '#core/restore/request.ts';
import { buildTimeline, IntervalError, parseInterval, planCommand, type TimelineDocument } from '#core/restore/timeline.ts';
import { ListingTimeLimitError, listChanges } from '#core/s3/timeline-listing.ts';
import type { ApiContext } from './config.ts';
import { json, NotFoundError, ScopeTooLargeError } from './http.ts';

const TimelineQuery = z.object({
  bucket: RestoreRequestSchema.shape.bucket,
  prefix: RestoreRequestSchema.shape.prefix,
  since: instant.optional(),
  until: instant.optional(),
  at: instant.optional(),
  interval: z.string().optional(),
});

export async function timeline(event: APIGatewayProxyEvent, api: ApiContext): Promise<APIGatewayProxyResult> {
  const query = parseQuery(event.queryStringParameters);
  checkPolicy({ bucket: query.bucket, mode: 'copy' }, api.config.policy);
  const limitMs = api.config.timelineTimeLimitMs;
  const { bucket, prefix = '', since, until, at } = query;
  let listing: Awaited<ReturnType<typeof listChanges>>;
  try {
    listing = await listChanges(api.s3, bucket, prefix, {
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      restorePoints: at !== undefined ? [at] : [],
      deadline: Date.now() + limitMs,
    });
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchBucket') throw new NotFoundError(`bucket "${bucket}" does not exist`);
    if (error instanceof ListingTimeLimitError) {
      throw new ScopeTooLargeError(
        `s3://${bucket}/${prefix} has too many versions to list within ${limitMs / 1000} s (${error.listed.entries} entries of ${error.listed.keys} keys listed): ` +
          `ask for a longer prefix, or run the CLI, which has no time limit and shows its progress: ` +
          `s3-rewind timeline s3://${bucket}/${prefix} --recursive --since <time>`,
        error.listed,
      );
    }
    throw error;
  }
  let doc: TimelineDocument;
  try {
    doc = buildTimeline(listing.histogram, {
      bucket,
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(query.intervalMs !== undefined ? { intervalMs: query.intervalMs } : {}),
      listed: { keys: listing.keys, entries: listing.entries },
      restores:
        at !== undefined ? [{ at: new Date(at).toISOString(), label: '--at', command: planCommand(bucket, prefix, at), totals: listing.totalsAt[0]! }] : [],
    });
  } catch (error) {
    if (error instanceof IntervalError) throw new RequestError(error.message, [`interval: ${error.message}`]);
    throw error;
  }
  return json(200, doc);
}

interface Query {
  readonly bucket: string;
  readonly prefix?: string;
  readonly since?: number;
  readonly until?: number;
  readonly at?: number;
  readonly intervalMs?: number;
}

function parseQuery(query: APIGatewayProxyEvent['queryStringParameters']): Query {
  const parsed = TimelineQuery.safeParse(
    { bucket: query?.bucket, prefix: query?.prefix, since: query?.since, until: query?.until, at: query?.at, interval: query?.interval },
    { error: (issue) => (issue.input === undefined ? 'is required' : undefined) },
  );
  if (!parsed.success) {
    const issues = describeIssues(parsed.error);
    throw new RequestError(`invalid query: ${issues.join('; ')}`, issues);
  }
  const { bucket, prefix, interval } = parsed.data;
  const time = (value: string | undefined) => (value === undefined ? undefined : Date.parse(value));
  const [since, until, at] = [time(parsed.data.since), time(parsed.data.until), time(parsed.data.at)];
  if (since !== undefined && until !== undefined && since > until) throw new RequestError('invalid query: since is after until', ['since: is after until']);
  let intervalMs: number | undefined;
  try {
    intervalMs = interval === undefined ? undefined : parseInterval(interval);
  } catch (error) {
    throw new RequestError(`invalid query: interval ${(error as Error).message}`, [`interval: ${(error as Error).message}`]);
  }
  return {
    bucket,
    ...(prefix !== undefined ? { prefix } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(at !== undefined ? { at } : {}),
    ...(intervalMs !== undefined ? { intervalMs } : {}),
  };
}
