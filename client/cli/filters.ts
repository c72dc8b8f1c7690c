import { UserError } from '../errors';
import { LIST_FILTERS, ListFilterSchema } from '../service/filters';

const flag = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The register's filters as options: names and descriptions from the one table (client/service/filters.ts). */
export function filterOptions(): [string, string][] {
  return Object.entries(LIST_FILTERS).map(([name, f]) => [`${flag(name)} <value>`, f.description]);
}

/** The options given, checked with the API's own schema (so `--state sleeping` fails here, naming --state). */
export async function filterQuery(options: Record<string, unknown>, paging: boolean): Promise<string> {
  const picked = Object.fromEntries(
    [...Object.keys(LIST_FILTERS), ...(paging ? ['limit', 'after'] : [])]
      .filter((k) => options[k] !== undefined)
      .map((k) => [k, options[k]]),
  );
  const parsed = ListFilterSchema.safeParse(picked);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new UserError('invalid_input', `${flag(String(i.path[0] ?? 'filter'))}: ${i.message}`);
  }
  const { limit, ...rest } = parsed.data;
  const entries = Object.entries({ ...rest, ...(paging && picked.limit !== undefined ? { limit } : {}) }).filter(
    ([, v]) => v !== undefined,
  );
  return new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString();
}
