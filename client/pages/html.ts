/**
 * HTML with automatic escaping: every value interpolated into an html`` template is escaped (text and quoted
 * attributes alike) unless it is itself the result of an html`` template. There is no way to pass a raw string,
 * so data (company names, motivations, refusal reasons) can never become markup.
 *
 * Why not a template library: the pages are a handful of small server-rendered forms; a 40-line tag keeps the
 * escaping rule in one place, type-checked with the data, with no template language to learn or keep up to date.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/** Markup built by html``: safe to interpolate as is. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString() {
    return this.value;
  }
}

export type Html = SafeHtml;
/** What a template accepts: markup, text and numbers (escaped), lists of them; null, undefined and false vanish. */
export type Part = SafeHtml | string | number | null | undefined | false | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

/** A list joined with a separator, each item escaped as any value is. */
export const join = (parts: readonly Part[], separator: Part) =>
  new SafeHtml(parts.map(render).join(render(separator)));
