/**
 * Which keys a restore takes, as `aws s3` users expect (`--exclude`, `--include`):
 * every key is taken unless a filter says otherwise, filters apply in the order
 * given and the last one that matches a key decides. A pattern matches the key
 * relative to the request's prefix (the whole key for a key restore or a
 * manifest), as Python's `fnmatch` does for the AWS CLI: `*` any characters,
 * `/` included; `?` one character; `[seq]` one of seq; `[!seq]` one not in seq;
 * an unclosed `[` is a literal. Case-sensitive.
 *
 * Version filters (`storageClass`, `minSize`, `maxSize`) look at the version the
 * restore would make current (the key's version at the restore point): a key
 * whose version there doesn't match, or that is absent there (nothing to size),
 * is left alone. Pure: no I/O.
 */
import type { HistoryEntry, RestorePoint } from './model.ts';
import { targetAtPoint } from './planner.ts';

export type KeyFilter = { readonly exclude: string } | { readonly include: string };

/** The filters part of a request (see request.ts). */
export interface FilterFields {
  readonly prefix?: string | undefined;
  readonly filters?: readonly KeyFilter[] | undefined;
  readonly storageClass?: string | undefined;
  readonly minSize?: number | undefined;
  readonly maxSize?: number | undefined;
}

/** A glob of `aws s3 --exclude/--include` as a regular expression over the whole (relative) key. */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  const n = pattern.length;
  for (let i = 0; i < n; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      out += '.*';
    } else if (c === '?') {
      out += '.';
    } else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < n && pattern[j] !== ']') j++;
      if (j >= n) {
        out += '\\[';
        continue;
      }
      let set = pattern.slice(i + 1, j).replace(/\\/g, '\\\\');
      if (set.startsWith('!')) set = '^' + set.slice(1);
      else if (set.startsWith('^')) set = '\\' + set;
      // A `]` first in a set is a member, as in fnmatch; `[` needs no escape in a JS class.
      if (set.startsWith(']')) set = '\\' + set;
      else if (set.startsWith('^]')) set = '^\\' + set.slice(1);
      out += `[${set}]`;
      i = j;
    } else {
      out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`, 's');
}

/** Whether `relativeKey` is taken by `filters` (aws s3 order: the last filter that matches decides). */
export function passesFilters(relativeKey: string, filters: readonly KeyFilter[], compiled = filters.map(compile)): boolean {
  let taken = true;
  for (const { include, re } of compiled) if (re.test(relativeKey)) taken = include;
  return taken;
}

const compile = (f: KeyFilter) => ('include' in f ? { include: true, re: globToRegExp(f.include) } : { include: false, re: globToRegExp(f.exclude) });

export interface KeySelector {
  /** Whether any filter is set at all. */
  readonly active: boolean;
  /** Whether the key's name is taken (the patterns). */
  takesKey(key: string): boolean;
  /** Whether the key is taken once its history is known (the version filters, at the key's restore point). */
  takesHistory(entries: readonly HistoryEntry[], point: RestorePoint): boolean;
}

/** The selector of a request's filters; `prefix` is what patterns are relative to. */
export function keySelectorOf(fields: FilterFields): KeySelector {
  const filters = fields.filters ?? [];
  const compiled = filters.map(compile);
  const prefix = fields.prefix ?? '';
  const versionFilters = fields.storageClass !== undefined || fields.minSize !== undefined || fields.maxSize !== undefined;
  return {
    active: filters.length > 0 || versionFilters,
    takesKey: (key) => filters.length === 0 || passesFilters(key.startsWith(prefix) ? key.slice(prefix.length) : key, filters, compiled),
    takesHistory: (entries, point) => {
      if (!versionFilters) return true;
      const target = targetAtPoint(entries, point);
      // Unknown (a version id the key lacks): the planner says why; absent: nothing to size.
      if (target === undefined) return true;
      if (target === null) return false;
      if (fields.storageClass !== undefined && (target.storageClass ?? 'STANDARD') !== fields.storageClass) return false;
      const size = target.size ?? 0;
      if (fields.minSize !== undefined && size < fields.minSize) return false;
      if (fields.maxSize !== undefined && size > fields.maxSize) return false;
      return true;
    },
  };
}

/** `--exclude 'a*' --include 'a.txt' --min-size 1024`: the filters in the words of the flags, for a plan's header. */
export function describeFilters(fields: FilterFields): string | undefined {
  const parts = [
    ...(fields.filters ?? []).map((f) => ('include' in f ? `--include '${f.include}'` : `--exclude '${f.exclude}'`)),
    ...(fields.storageClass !== undefined ? [`--storage-class ${fields.storageClass}`] : []),
    ...(fields.minSize !== undefined ? [`--min-size ${fields.minSize}`] : []),
    ...(fields.maxSize !== undefined ? [`--max-size ${fields.maxSize}`] : []),
  ];
  return parts.length ? parts.join(' ') : undefined;
}
