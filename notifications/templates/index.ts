/**
 * The e-mails the programme sends. Pure: the same (template, locale, payload) always renders the same message,
 * with no clock and no I/O, so a retried delivery sends exactly what the first attempt would have sent.
 *
 * `TEMPLATES` is the one table of message kinds: each names its payload's zod schema (the contract its senders
 * are typed against, and what a stored payload is parsed with before rendering), the payload fields that are
 * secret, and its wording in every locale. One file per family: application states (their shared payload and
 * frame in transition.ts), the reserve list, sessions, deadlines, sign-in, the project.
 */
import { z } from 'zod';
import { isLocale, LOCALES } from '../../domain/format';
import { APPLICATION_TEMPLATES } from './applications';
import { BUDGET_TEMPLATES } from './budget';
import { TemplateError, type AnyTemplate } from './common';
import { DEADLINE_TEMPLATES } from './deadlines';
import { layOut, type RenderedMail } from './layout';
import { PROJECT_TEMPLATES } from './projects';
import { SESSION_TEMPLATES } from './sessions';
import { SIGN_IN_TEMPLATES } from './sign-in';

export {
  applicationStateSchema,
  AUDIENCES,
  LOCALES,
  roleSchema,
  TemplateError,
  type Audience,
  type Locale,
} from './common';
export type { TransitionPayload } from './transition';
export { escapeHtml, type RenderedMail } from './layout';

export const TEMPLATES = {
  ...APPLICATION_TEMPLATES,
  ...BUDGET_TEMPLATES,
  ...SESSION_TEMPLATES,
  ...DEADLINE_TEMPLATES,
  ...SIGN_IN_TEMPLATES,
  ...PROJECT_TEMPLATES,
} satisfies Record<string, AnyTemplate>;

export type TemplateName = keyof typeof TEMPLATES;
/** What a sender must give for `template`: derived from its schema, checked again at run time. */
export type TemplatePayload<T extends TemplateName> = z.output<(typeof TEMPLATES)[T]['schema']>;

export const TEMPLATE_NAMES = Object.keys(TEMPLATES) as readonly TemplateName[];

export const isTemplateName = (name: string): name is TemplateName => Object.hasOwn(TEMPLATES, name);

function templateNamed(name: string): AnyTemplate {
  if (!isTemplateName(name)) throw new TemplateError(name, `unknown template (known: ${TEMPLATE_NAMES.join(', ')})`);
  return TEMPLATES[name];
}

/** Zod's issues as one line: `deadline.dueAt: Invalid ISO datetime; code: six digits`. */
export const describeIssues = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'payload'}: ${i.message}`).join('; ');

/**
 * Checks a payload against its template's schema and returns what the outbox stores; a payload that does not
 * fit is a programming error of the sender, reported as a `TemplateError`.
 */
export function checkedPayload(template: string, payload: unknown): Record<string, unknown> {
  const parsed = templateNamed(template).schema.safeParse(payload);
  if (!parsed.success) throw new TemplateError(template, `payload does not fit: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The payload fields the dispatcher removes once the message is sent; none for an unknown template. */
export const secretFieldsOf = (template: string): readonly string[] =>
  isTemplateName(template) ? TEMPLATES[template].secret : [];

/**
 * Renders one outbox message as plain text and HTML. Throws `TemplateError` naming the template and the problem
 * when the template or locale is unknown or the payload does not parse: never a blank or half-filled mail.
 */
export function render(template: string, locale: string, payload: unknown): RenderedMail {
  const spec = templateNamed(template);
  if (!isLocale(locale)) throw new TemplateError(template, `unknown locale "${locale}" (known: ${LOCALES.join(', ')})`);
  try {
    return layOut(locale, spec.write(locale, payload));
  } catch (err) {
    if (err instanceof z.ZodError) throw new TemplateError(template, `payload does not fit: ${describeIssues(err)}`);
    throw err;
  }
}
