/**
 * `--exclude`, `--include` (repeatable, in the order typed: the last that
 * matches a key decides, as in `aws s3`), `--storage-class`, `--min-size`,
 * `--max-size`: the request's filters (lambdas/core/restore/filters.ts).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { KeyFilter } from '#core/restore/filters.ts';

/** A filter with the position it was typed at (commander keeps each flag's values apart). */
export interface TypedFilter {
  readonly filter: KeyFilter;
  readonly position: number;
}

let typed = 0;
const collect =
  (kind: 'exclude' | 'include') =>
  (value: string, previous: TypedFilter[] | undefined): TypedFilter[] => [
    ...(previous ?? []),
    { filter: kind === 'exclude' ? { exclude: value } : { include: value }, position: typed++ },
  ];

const UNITS: Record<string, number> = { '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3, TIB: 1024 ** 4 };

/** `1048576`, `512KiB`, `10MB`, `1.5GiB` → bytes. */
export function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?$/i.exec(value.trim());
  const unit = UNITS[(match?.[2] ?? '').toUpperCase()];
  if (!match || unit === undefined) throw new InvalidArgumentError('give bytes, or a size like 512KiB, 10MB, 1.5GiB.');
  return Math.round(Number(match[1]) * unit);
}

export function filterOptions(command: Command): Command {
  return command
    .option(
      '--exclude <pattern>',
      'leave out keys matching the pattern (relative to the prefix; * ? [seq] [!seq]; repeatable, the last matching filter wins)',
      collect('exclude'),
    )
    .option('--include <pattern>', 'take keys matching the pattern again after an --exclude (repeatable, in order with --exclude)', collect('include'))
    .option('--storage-class <class>', 'only keys whose version at the restore point is in this storage class (STANDARD, STANDARD_IA, GLACIER_IR...)')
    .option('--min-size <size>', 'only keys whose version at the restore point has at least this size (bytes, or 512KiB, 10MB...)', parseSize)
    .option('--max-size <size>', 'only keys whose version at the restore point has at most this size', parseSize);
}

/** The filters options, as commander parsed them. */
export interface FilterArgs {
  readonly exclude?: readonly TypedFilter[];
  readonly include?: readonly TypedFilter[];
  readonly storageClass?: string;
  readonly minSize?: number;
  readonly maxSize?: number;
}

/** The request fields of the filter flags, filters in the order typed. */
export function filterFieldsOf(args: FilterArgs): { filters?: KeyFilter[]; storageClass?: string; minSize?: number; maxSize?: number } {
  const filters = [...(args.exclude ?? []), ...(args.include ?? [])].sort((a, b) => a.position - b.position).map((t) => t.filter);
  return {
    ...(filters.length ? { filters } : {}),
    ...(args.storageClass !== undefined ? { storageClass: args.storageClass } : {}),
    ...(args.minSize !== undefined ? { minSize: args.minSize } : {}),
    ...(args.maxSize !== undefined ? { maxSize: args.maxSize } : {}),
  };
}
