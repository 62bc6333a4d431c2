/**
 * report: folds the chunks' outcomes into the restore's report and returns its
 * summary. Stepwise (a `progress` not done): folds the next outcome files into a
 * report part and returns the progress; done: joins the parts. Then gives back
 * the destination lease of a restore to another place
 * (both Report and Report Failure run this), never failing the report for it.
 * A request with `verify: true` has its keys checked against the restore point
 * again first, and the summary says what differs.
 */
import { needsDestinationLease, releaseDestinationLease } from '#core/targets/destination-lease.ts';
import { writeReport } from '#core/steps/report.ts';
import { verifyRequest } from '#core/steps/verify.ts';
import { joinReportParts, reportPart } from '#core/steps/report-parts.ts';
import { parseReportStepInput } from '#core/steps/schemas.ts';
import type { ReportStepInput } from '#core/steps/contracts.ts';
import { lambdaDeps, leasesOf, type LeaseDeps, type StepDeps } from '../commons/clients.ts';
import { deadlineOf, logger, stepHandler } from '../commons/step-handler.ts';

export const makeHandler = (deps: StepDeps = lambdaDeps) => {
  const leases = leasesOf(deps);
  return stepHandler(parseReportStepInput, async (input, context) => {
    const store = deps.workStore(input.workBucket);
    const { progress } = input;
    if (progress && !progress.done) return reportPart(store, { ...input, progress }, { deadline: deadlineOf(context, 60_000) });
    try {
      if (progress) await joinReportParts(store, { ...input, progress });
      return await writeReport(store, input, {
        concurrency: deps.concurrency,
        verify: (request) => verifyRequest(deps.s3, store, request, { concurrency: Math.min(deps.concurrency, 64) }),
        ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}),
        ...(progress ? { folded: progress.counts, foldedArchivePending: progress.archivePending ?? 0 } : {}),
      });
    } finally {
      // Nothing of this restore writes once a report step runs, whether the report is written or not.
      await releaseLease(leases, input);
    }
  });
};

/** Releases the lease if it still names this restore; a failure is logged (the lease then goes stale) and the report goes on. */
async function releaseLease(leases: LeaseDeps, { restoreId, request, workBucket }: ReportStepInput): Promise<void> {
  if (!needsDestinationLease(request)) return;
  try {
    const holder = { restoreId, to: request.to, ...(leases.run !== undefined ? { run: leases.run } : {}) };
    const released = await releaseDestinationLease(leases.store(workBucket), holder);
    if (released.how === 'held-by-other') logger.warn('the destination lease was taken over by another restore: left to it', { by: released.by });
  } catch (error) {
    logger.error('could not release the destination lease: it is taken over once stale', { error });
  }
}

export const handler = makeHandler();
