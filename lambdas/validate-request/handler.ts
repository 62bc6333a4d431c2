/**
 * validate-request: the request is valid and allowed, and its bucket safe to
 * restore; a restore to another place takes its destination bucket's lease,
 * the only thing written.
 */
import { leaseStaleAfterFromEnv } from '#core/targets/destination-lease.ts';
import { policyFromEnv, type RestorePolicy } from '#core/restore/policy.ts';
import { parseValidateStepInput } from '#core/steps/schemas.ts';
import { validateRestore } from '#core/steps/validate.ts';
import { lambdaDeps, leasesOf, type StepDeps } from '../commons/clients.ts';
import { logger, stepHandler } from '../commons/step-handler.ts';

export const makeHandler = (
  deps: StepDeps = lambdaDeps,
  policy: RestorePolicy = policyFromEnv(),
  workBucket: string = process.env.WORK_BUCKET ?? '',
  /** A destination lease older than this is stale: the state machine's timeout plus a margin (`LEASE_STALE_AFTER_MS`). */
  leaseStaleAfterMs: number = leaseStaleAfterFromEnv(),
) => {
  const leases = leasesOf(deps);
  return stepHandler(parseValidateStepInput, (input) =>
    validateRestore(deps.s3, input, policy, workBucket, {
      store: leases.store(workBucket),
      staleAfterMs: leaseStaleAfterMs,
      ...(leases.run !== undefined ? { run: leases.run } : {}),
      ...(leases.abandoned ? { abandoned: leases.abandoned } : {}),
      onTaken: (taken) => {
        if (taken.how === 'taken-over') logger.warn('took over a stale destination lease', { from: taken.from });
      },
    }),
  );
};

export const handler = makeHandler();
