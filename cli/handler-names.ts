/** The Lambda handlers a local run calls for the definition's tasks, by the names the stack gives them. */
export const HANDLER_NAMES = [
  'validate-request',
  'list-versions',
  'copy-version',
  'delete-newer-versions',
  'next-chunks',
  'prepare-batch-jobs',
  'advance-batch-jobs',
  'report',
] as const;

export type HandlerName = (typeof HANDLER_NAMES)[number];

export const isHandlerName = (name: string): name is HandlerName => (HANDLER_NAMES as readonly string[]).includes(name);
