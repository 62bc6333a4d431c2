/**
 * The handlers under `lambdas/<name>/handler.ts`, by the names the stack gives
 * them: the state machine's steps, and the API. Kept apart from the constructs
 * so the CLI's local runner can read them without loading aws-cdk-lib.
 */
export const STEP_HANDLER_NAMES = [
  'validate-request',
  'list-versions',
  'copy-version',
  'delete-newer-versions',
  'next-chunks',
  'prepare-batch-jobs',
  'advance-batch-jobs',
  'report',
] as const;

/** A handler the state machine runs as a task (the local runner calls it in-process). */
export type StepHandlerName = (typeof STEP_HANDLER_NAMES)[number];

/** The API, the function that gathers recovery events into restores, and the one that starts requested and scheduled restores (lib/restore-triggers.ts). */
export type RestoreHandlerName = StepHandlerName | 'api' | 'gather-recovery-events' | 'start-requested-restore';

export const isStepHandlerName = (name: string): name is StepHandlerName => (STEP_HANDLER_NAMES as readonly string[]).includes(name);
