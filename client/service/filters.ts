import { z } from 'zod';
import { THEMES } from '../../domain/themes';
import { APPLICATION_STATES, type ApplicationState } from '../../machines/application.machine';

const slug = (what: string) => z.string().regex(/^[a-z0-9][a-z0-9._-]{0,60}$/, what);

/**
 * The filters of the register, once: the CLI's options (`--state`, `--vat`...), the API's query parameters and the
 * service's query all come from this table.
 */
export const LIST_FILTERS = {
  state: {
    schema: z.enum(APPLICATION_STATES as [ApplicationState, ...ApplicationState[]]),
    description: `the state (${APPLICATION_STATES.join(', ')})`,
  },
  call: { schema: slug('a call id such as innosocialmetro-2023'), description: 'the call' },
  body: { schema: slug('an implementing body id such as socialfare'), description: 'the implementing body' },
  theme: { schema: z.enum(THEMES), description: `an impact theme (${THEMES.join(', ')})` },
  vat: { schema: z.string().regex(/^\d{11}$/, 'a partita IVA: 11 digits'), description: "the company's partita IVA" },
  name: { schema: z.string().trim().min(2).max(100), description: "part of the company's legal name" },
  due: {
    schema: z.iso.date({ error: 'a date as YYYY-MM-DD' }),
    description: 'a running deadline falls due before this day',
  },
} as const;

export type ListFilterName = keyof typeof LIST_FILTERS;

const cursor = z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, 'the `next` cursor of a previous page');

export const ListFilterSchema = z
  .object({
    ...(Object.fromEntries(Object.entries(LIST_FILTERS).map(([k, f]) => [k, f.schema.optional()])) as {
      [K in ListFilterName]: z.ZodOptional<(typeof LIST_FILTERS)[K]['schema']>;
    }),
    limit: z.coerce.number().int().min(1).max(1_000).default(100),
    after: cursor.optional(),
  })
  .strict();

export type ListFilter = z.output<typeof ListFilterSchema>;
