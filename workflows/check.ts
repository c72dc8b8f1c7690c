import { COMMAND_RULES } from '../domain/command-rules';
import type { FieldProblem } from './messages';

/** The subset of JSON Schema that z.toJSONSchema writes for the command payloads (machines/events.ts). */
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  propertyNames?: Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}

const typeOf = (v: unknown) =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : typeof v === 'number' && Number.isInteger(v)
        ? 'integer'
        : typeof v;
const fits = (actual: string, wanted: string) => actual === wanted || (wanted === 'number' && actual === 'integer');
const patterns = new Map<string, RegExp>();
const regex = (p: string) => patterns.get(p) ?? patterns.set(p, new RegExp(p, 'u')).get(p)!;

/**
 * Checks a value against a schema and says every problem with its path. Small on purpose: workflow code keeps zod
 * out of its bundle, yet a handler must refuse (never trip over) whatever the door's validation would refuse.
 */
export function check(schema: Schema, value: unknown, path = ''): FieldProblem[] {
  const at = (message: string): FieldProblem[] => [{ path: path || '(root)', message }];
  if (schema.anyOf || schema.oneOf) {
    const options = (schema.anyOf ?? schema.oneOf)!.map((s) => check(s, value, path));
    return options.some((p) => p.length === 0) ? [] : (options[0] ?? at('matches no allowed form'));
  }
  if (schema.allOf) return schema.allOf.flatMap((s) => check(s, value, path));
  if (schema.const !== undefined && value !== schema.const) return at(`must be ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) return at(`must be one of ${schema.enum.join(', ')}`);
  const actual = typeOf(value);
  const wanted = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (wanted.length && !wanted.some((t) => fits(actual, t))) return at(`must be ${wanted.join(' or ')}`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      return at(`too short (at least ${schema.minLength})`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      return at(`too long (at most ${schema.maxLength})`);
    if (schema.pattern !== undefined && !regex(schema.pattern).test(value)) return at('is not in the expected format');
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return at('must be a finite number');
    if (schema.minimum !== undefined && value < schema.minimum) return at(`must be at least ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) return at(`must be at most ${schema.maximum}`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum)
      return at(`must be more than ${schema.exclusiveMinimum}`);
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum)
      return at(`must be less than ${schema.exclusiveMaximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      return at(`needs at least ${schema.minItems} item(s)`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      return at(`takes at most ${schema.maxItems} item(s)`);
    const items = schema.items;
    return items ? value.flatMap((v, i) => check(items, v, path ? `${path}.${i}` : String(i))) : [];
  }
  if (actual === 'object') return checkObject(schema, value as Record<string, unknown>, path);
  return [];
}

function checkObject(schema: Schema, value: Record<string, unknown>, path: string): FieldProblem[] {
  const join = (key: string) => (path ? `${path}.${key}` : key);
  const problems: FieldProblem[] = [];
  for (const key of schema.required ?? []) {
    if (!(key in value)) problems.push({ path: join(key), message: 'is required' });
  }
  for (const [key, v] of Object.entries(value)) {
    const known = schema.properties?.[key];
    if (known) problems.push(...check(known, v, join(key)));
    else if (schema.additionalProperties === false) problems.push({ path: join(key), message: 'is not a known field' });
    else if (typeof schema.additionalProperties === 'object')
      problems.push(...check(schema.additionalProperties, v, join(key)));
    if (schema.propertyNames && check(schema.propertyNames, key).length) {
      problems.push({ path: join(key), message: 'is not an allowed name' });
    }
  }
  return problems;
}

type Fields = Record<string, unknown>;
const asFields = (v: unknown): Fields => (typeof v === 'object' && v !== null ? (v as Fields) : {});
const rule = (name: keyof typeof COMMAND_RULES, value: Fields, at: string): FieldProblem[] => {
  const r = COMMAND_RULES[name];
  return r.holds(value) ? [] : [{ path: at ? `${at}.${r.path}` : r.path, message: r.message }];
};

/**
 * An application command's payload as the workflow checks it: its generated schema, then the rules that compare one
 * field with another (run only once the schema holds, so every field they read has its type).
 */
export function checkCommand(schema: Schema, type: string, payload: Fields): FieldProblem[] {
  const problems = check(schema, payload);
  return problems.length ? problems : commandRuleProblems(type, payload);
}

/** The rules of domain/command-rules.ts, where each application command has them. */
function commandRuleProblems(type: string, payload: Fields): FieldProblem[] {
  switch (type) {
    case 'LOG_SESSION':
      return rule('sessionTimesInOrder', asFields(payload.session), 'session');
    case 'CONFIRM_SESSION':
    case 'DISPUTE_SESSION':
      return rule('oneCredential', payload, '');
    case 'SUBMIT_PRE_PROJECT': {
      const indicators = asFields(payload.preProject).indicators;
      return (Array.isArray(indicators) ? indicators : []).flatMap((i, n) =>
        rule('targetDiffersFromBaseline', asFields(i), `preProject.indicators.${n}`),
      );
    }
    default:
      return [];
  }
}
