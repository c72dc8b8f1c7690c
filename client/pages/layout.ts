import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLocale, type Locale } from '../../domain/format';
import type { PublicUser } from '../../db/repositories/users';
import { html, type Html, type Part } from './html';

/** The language cookie: Italian unless a person chose English (?lang=en sets it). */
export const LANG_COOKIE = 'lang';

/** The page's language: ?lang= (remembered in a cookie), the cookie, or the given default (the company's own). */
export function localeOf(req: FastifyRequest, reply: FastifyReply, fallback: Locale = 'it'): Locale {
  const asked = (req.query as Record<string, unknown> | undefined)?.lang;
  if (isLocale(asked)) {
    void reply.setCookie(LANG_COOKIE, asked, { path: '/', sameSite: 'lax', httpOnly: true, maxAge: 365 * 86_400 });
    return asked;
  }
  const kept = req.cookies?.[LANG_COOKIE];
  return isLocale(kept) ? kept : fallback;
}

/** Picks the sentence of the page's language: t('Conferma', 'Confirm'). */
export const words = (locale: Locale) => (it: string, en: string) => (locale === 'en' ? en : it);

export interface Shell {
  locale: Locale;
  title: string;
  user?: PublicUser | null | undefined;
  csrf?: string | undefined;
  /** The current path, for the language switch. */
  path: string;
  body: Part;
}

/** Every page: a header with who is signed in, the language switch, and the content in a <main>. */
export function page(s: Shell): Html {
  const t = words(s.locale);
  const other: Locale = s.locale === 'it' ? 'en' : 'it';
  const switchHref = `${s.path.split('?')[0]}?lang=${other}`;
  const home = s.user
    ? s.user.role === 'commission'
      ? '/commissione'
      : s.user.role === 'consultant'
        ? '/consulente'
        : '/area'
    : '/';
  return html`<!doctype html>
    <html lang="${s.locale}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${s.title} · InnoSocialMetro</title>
        <link rel="stylesheet" href="/pages/style.css" />
      </head>
      <body>
        <a class="skip" href="#main">${t('Vai al contenuto', 'Skip to content')}</a>
        <header class="top">
          <div class="bar">
            <a class="brand" href="${home}"
              >InnoSocialMetro<small>${t('Città metropolitana di Torino', 'Metropolitan City of Turin')}</small></a
            >
            <nav aria-label="${t('Account e lingua', 'Account and language')}">
              <a href="${switchHref}" lang="${other}" hreflang="${other}">${other === 'en' ? 'English' : 'Italiano'}</a>
              ${
                s.user
                  ? html`<span class="who">${s.user.name}</span>
                      <form method="post" action="/esci">
                        <input type="hidden" name="_csrf" value="${s.csrf ?? ''}" /><button
                          class="linklike"
                          type="submit"
                        >
                          ${t('Esci', 'Sign out')}
                        </button>
                      </form>`
                  : ''
              }
            </nav>
          </div>
        </header>
        <main id="main">${s.body}</main>
        <footer class="bottom">
          ${t(
            'InnoSocialMetro · misura della Città metropolitana di Torino gestita da Finpiemonte',
            'InnoSocialMetro · a measure of the Metropolitan City of Turin managed by Finpiemonte',
          )}
        </footer>
      </body>
    </html>`;
}

/** Problems with what a person entered, by field (the JSON path: `scores.innovation`, `indicators.0.target`). */
export type FieldErrors = Record<string, string[]>;

export const addError = (errors: FieldErrors, field: string, message: string) => {
  (errors[field] ??= []).push(message);
};

const fieldId = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** The messages for one field, announced with it (aria-describedby). */
export function errorText(errors: FieldErrors, name: string): Html {
  const list = errors[name];
  if (!list?.length) return html``;
  return html`<span class="error" id="${fieldId(name)}-error">${list.join(' ')}</span>`;
}

export interface InputSpec {
  name: string;
  label: string;
  value?: string | undefined;
  type?: 'text' | 'email' | 'date' | 'time' | 'number' | 'password';
  hint?: string | undefined;
  required?: boolean;
  attrs?: { min?: number; max?: number; step?: string; inputmode?: string; autocomplete?: string };
  errors: FieldErrors;
  /** Rows of a repeated group label their fields visibly small; false hides nothing, just styles. */
  className?: string;
}

/** A labelled input, with its hint and its error next to it, keeping what the person typed. */
export function input(s: InputSpec): Html {
  const id = fieldId(s.name);
  const bad = Boolean(s.errors[s.name]?.length);
  const described = [s.hint ? `${id}-hint` : '', bad ? `${id}-error` : ''].filter(Boolean).join(' ');
  const a = s.attrs ?? {};
  return html`<div class="field${bad ? ' invalid' : ''}${s.className ? ` ${s.className}` : ''}">
    <label for="${id}">${s.label}</label>${s.hint ? html`<span class="hint" id="${id}-hint">${s.hint}</span>` : ''}
    <input
      id="${id}"
      name="${s.name}"
      type="${s.type ?? 'text'}"
      value="${s.value ?? ''}"
      ${s.required ? html` required` : ''}${
        a.min !== undefined ? html` min="${a.min}"` : ''
      }${a.max !== undefined ? html` max="${a.max}"` : ''}${a.step ? html` step="${a.step}"` : ''}${
        a.inputmode ? html` inputmode="${a.inputmode}"` : ''
      }${a.autocomplete ? html` autocomplete="${a.autocomplete}"` : ''}${bad ? html` aria-invalid="true"` : ''}${
        described ? html` aria-describedby="${described}"` : ''
      }
    />
    ${errorText(s.errors, s.name)}
  </div>`;
}

export function textarea(s: Omit<InputSpec, 'type' | 'attrs'>): Html {
  const id = fieldId(s.name);
  const bad = Boolean(s.errors[s.name]?.length);
  const described = [s.hint ? `${id}-hint` : '', bad ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field${bad ? ' invalid' : ''}">
    <label for="${id}">${s.label}</label>${s.hint ? html`<span class="hint" id="${id}-hint">${s.hint}</span>` : ''}
    <textarea
      id="${id}"
      name="${s.name}"
      ${s.required ? html` required` : ''}${bad ? html` aria-invalid="true"` : ''}${
        described ? html` aria-describedby="${described}"` : ''
      }
    >
${s.value ?? ''}</textarea>
    ${errorText(s.errors, s.name)}
  </div>`;
}

export function select(
  s: Omit<InputSpec, 'type' | 'attrs'> & { options: readonly (readonly [value: string, label: string])[] },
): Html {
  const id = fieldId(s.name);
  const bad = Boolean(s.errors[s.name]?.length);
  return html`<div class="field${bad ? ' invalid' : ''}${s.className ? ` ${s.className}` : ''}">
    <label for="${id}">${s.label}</label>
    <select
      id="${id}"
      name="${s.name}"
      ${s.required ? html` required` : ''}${bad ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}
    >
      ${s.options.map(([v, l]) => html`<option value="${v}" ${v === (s.value ?? '') ? html` selected` : ''}>${l}</option>`)}
    </select>
    ${errorText(s.errors, s.name)}
  </div>`;
}

/** A group of radio buttons or checkboxes in a fieldset, its error under the legend. */
export function choices(s: {
  name: string;
  legend: string;
  kind: 'radio' | 'checkbox';
  options: readonly (readonly [value: string, label: string])[];
  checked: readonly string[];
  errors: FieldErrors;
  hint?: string;
}): Html {
  const id = fieldId(s.name);
  const bad = Boolean(s.errors[s.name]?.length);
  return html`<fieldset class="${bad ? 'invalid' : ''}" ${bad ? html` aria-describedby="${id}-error"` : ''}>
    <legend>${s.legend}</legend>
    ${s.hint ? html`<span class="hint">${s.hint}</span>` : ''}
    <div class="choices">
      ${s.options.map(
        ([v, l], i) =>
          html`<label
            ><input
              type="${s.kind}"
              name="${s.name}"
              value="${v}"
              id="${id}-${i}"
              ${s.checked.includes(v) ? html` checked` : ''}
            />
            ${l}</label
          >`,
      )}
    </div>
    ${errorText(s.errors, s.name)}
  </fieldset>`;
}

/** A message at the top of a form or page: what went wrong in general, or what just succeeded. */
export const notice = (kind: 'ok' | 'bad' | 'info', lines: readonly Part[]) =>
  lines.length
    ? html`<div class="notice ${kind}" role="${kind === 'bad' ? 'alert' : 'status'}">
        ${lines.map((l) => html`<p>${l}</p>`)}
      </div>`
    : html``;

export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}" />`;
