/**
 * A plan as the operator reads it first: the summary (scope, restore point,
 * totals, estimate), then a compact listing of the keys that change, grouped by
 * what happens to them and by sub-prefix, with the first few keys of each
 * group. A plan of 2,000 keys fits on a screen; the per-key table comes with
 * `--all`, and `--report FILE` writes every key's action to a file.
 */
import type { DestinationAction } from '#core/restore/destination-plan.ts';
import type { KeyAction } from '#core/restore/model.ts';
import { actionLabel, describeAction } from './output.ts';

type PlannedAction = KeyAction | DestinationAction;

/** Keys named per group, and groups per action, in the compact listing. */
export const KEYS_SHOWN = 3;
export const GROUPS_SHOWN = 8;

const fmt = (n: number) => n.toLocaleString('en-US');
const keys = (n: number) => `${fmt(n)} ${n === 1 ? 'key' : 'keys'}`;

/** The action labels in the order the listing shows them. */
const LABELS = ['restore', 'undelete', 'hide', 'delete', 'unchanged'] as const;

/**
 * The sub-prefix a key is grouped under: the scope's prefix plus the key's next
 * path segment (`site/img/a.png` under `site/` → `site/img/`); a key directly
 * under the scope's prefix is grouped under that prefix itself.
 */
export function subPrefixOf(key: string, scopePrefix: string): string {
  if (!key.startsWith(scopePrefix)) return '';
  const rest = key.slice(scopePrefix.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? scopePrefix : scopePrefix + rest.slice(0, slash + 1);
}

interface Group {
  readonly prefix: string;
  readonly keys: string[];
}

/** Groups in the order their first key comes (a prefix's keys may come on both sides of a sub-prefix's). */
function groupsOf(actions: readonly PlannedAction[], scopePrefix: string): Group[] {
  const groups = new Map<string, Group>();
  for (const action of actions) {
    const prefix = subPrefixOf(action.key, scopePrefix);
    const group = groups.get(prefix);
    if (group) group.keys.push(action.key);
    else groups.set(prefix, { prefix, keys: [action.key] });
  }
  return [...groups.values()];
}

const groupName = (bucket: string, prefix: string) => `s3://${bucket}/${prefix}`;

/**
 * `restore 2,000 keys` then one line per sub-prefix: its count and its first
 * keys (relative to the sub-prefix); unchanged keys as a count only.
 */
export function formatCompactPlan(actions: readonly PlannedAction[], bucket: string, scopePrefix: string): string {
  if (actions.length === 0) return '';
  const byLabel = new Map<string, PlannedAction[]>();
  for (const action of actions) {
    const label = actionLabel(action);
    byLabel.set(label, [...(byLabel.get(label) ?? []), action]);
  }
  const lines: string[] = [];
  for (const label of LABELS) {
    const those = byLabel.get(label);
    if (!those?.length) continue;
    if (label === 'unchanged') {
      lines.push(`unchanged ${keys(those.length)} (already as at the restore point)`);
      continue;
    }
    lines.push(`${label} ${keys(those.length)}:`);
    const groups = groupsOf(those, scopePrefix);
    const shown = groups.slice(0, GROUPS_SHOWN);
    const names = shown.map((g) => groupName(bucket, g.prefix));
    const width = Math.max(...names.map((n) => n.length));
    const countWidth = Math.max(...shown.map((g) => keys(g.keys.length).length));
    shown.forEach((group, i) => {
      const first = group.keys.slice(0, KEYS_SHOWN).map((k) => k.slice(group.prefix.length) || k);
      const more = group.keys.length > KEYS_SHOWN ? ', …' : '';
      lines.push(`  ${names[i]!.padEnd(width)}  ${keys(group.keys.length).padStart(countWidth)}: ${first.join(', ')}${more}`);
    });
    const rest = groups.slice(GROUPS_SHOWN);
    if (rest.length) {
      const n = rest.reduce((sum, g) => sum + g.keys.length, 0);
      lines.push(`  … and ${keys(n)} in ${fmt(rest.length)} more ${rest.length === 1 ? 'prefix' : 'prefixes'}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** The closing line of a compact listing: where the per-key list is. */
export function fullListHint(command: string): string {
  return command === 'plan' ? 'every key with its action: add --all, or --report FILE (.csv or JSON lines)\n' : 'every key with its action: add --all\n';
}

/** Epoch-millisecond `lastModified` fields as ISO strings, as `versions --json` gives them: one format everywhere. */
export function withIsoTimes<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withIsoTimes) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    out[name] = name === 'lastModified' && typeof field === 'number' ? new Date(field).toISOString() : withIsoTimes(field);
  }
  return out as T;
}

const csvCell = (text: string) => (/[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

/** Every key's action, for `plan --report FILE`: CSV (Action,Key,Detail) or JSON lines (as `--json`'s actions). */
export function planReportText(actions: readonly PlannedAction[], format: 'csv' | 'jsonl'): string {
  if (format === 'jsonl') return actions.map((a) => JSON.stringify(withIsoTimes(a))).join('\n') + (actions.length ? '\n' : '');
  const rows = actions.map((a) => [actionLabel(a), a.key, describeAction(a)].map(csvCell).join(','));
  return ['Action,Key,Detail', ...rows].join('\n') + '\n';
}
