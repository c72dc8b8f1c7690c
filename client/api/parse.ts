import type { z } from 'zod';
import { issuesOf, UserError } from '../errors';

/** Validates one part of a request with its route's schema: a 400 naming every offending field otherwise. */
export function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = issuesOf(result.error, where);
  throw new UserError('invalid_input', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}
