/**
 * `--quiet` and `--only-show-errors`, as `aws s3` has them, for scripts that
 * read the exit code: nothing on stdout and no progress; `--only-show-errors`
 * keeps warnings and errors on stderr, `--quiet` keeps errors only. An error is
 * never silenced.
 */
export type Verbosity = 'normal' | 'onlyErrors' | 'quiet';

let verbosity: Verbosity = 'normal';

export interface VerbosityOptions {
  readonly quiet?: boolean;
  readonly onlyShowErrors?: boolean;
}

export function setVerbosity(options: VerbosityOptions): void {
  verbosity = options.quiet === true ? 'quiet' : options.onlyShowErrors === true ? 'onlyErrors' : 'normal';
}

/** Whether the results on stdout and the progress display are shown. */
export const showsOutput = (): boolean => verbosity === 'normal';

/** Whether a message for stderr is shown: errors always, warnings unless --quiet, other notices only normally. */
export function showsMessage(text: string): boolean {
  if (verbosity === 'normal' || /^\n?(error|interrupted):/.test(text)) return true;
  return verbosity === 'onlyErrors' && /^\n?warning:/.test(text);
}
