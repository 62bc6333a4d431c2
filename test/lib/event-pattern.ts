/**
 * Just enough of EventBridge's matching to test our rules against sample events
 * (no event-ruler library is installed): literal values (an event array matches
 * if any element does), `prefix`, `exists`, nested objects; and the input
 * transformer's `<name>` substitution of JSON values.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function matchesPattern(pattern: Record<string, Json>, event: Record<string, Json>): boolean {
  return Object.entries(pattern).every(([field, rule]) => matchesField(rule, event[field]));
}

function matchesField(rule: Json, value: Json | undefined): boolean {
  if (Array.isArray(rule)) {
    const values = Array.isArray(value) ? value : [value];
    return rule.some((condition) => {
      if (condition !== null && typeof condition === 'object' && !Array.isArray(condition)) {
        if ('exists' in condition) return condition.exists === (value !== undefined);
        if ('prefix' in condition) {
          const prefix = condition.prefix;
          if (typeof prefix !== 'string') throw new Error(`matcher ${JSON.stringify(condition)} is not supported here`);
          return values.some((v) => typeof v === 'string' && v.startsWith(prefix));
        }
        throw new Error(`matcher ${JSON.stringify(condition)} is not supported here`);
      }
      return values.some((v) => v === condition);
    });
  }
  if (rule !== null && typeof rule === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      // A nested pattern on an absent field only matches if every leaf asks for absence.
      return Object.values(rule).every((inner) => matchesField(inner, undefined));
    }
    return matchesPattern(rule, value);
  }
  throw new Error(`pattern value ${JSON.stringify(rule)} must be an array or an object`);
}

/** The input an `InputTransformer` makes of `event` (paths are `$.a.b.c`). */
export function transformInput(transformer: { InputPathsMap?: Record<string, string>; InputTemplate: string }, event: Json): Json {
  let text = transformer.InputTemplate;
  for (const [name, path] of Object.entries(transformer.InputPathsMap ?? {})) {
    const value = path
      .replace(/^\$\.?/, '')
      .split('.')
      .filter(Boolean)
      .reduce<Json | undefined>((node, key) => (node && typeof node === 'object' && !Array.isArray(node) ? node[key] : undefined), event);
    text = text.split(`<${name}>`).join(value === undefined ? 'null' : JSON.stringify(value));
  }
  return JSON.parse(text) as Json;
}
