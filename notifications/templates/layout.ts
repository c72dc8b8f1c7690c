import type { Locale } from '../../domain/format';
import type { Message } from './common';

/** A message as it goes out: the plain-text part and the HTML part of one multipart/alternative mail. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const FOOTER: Record<Locale, string> = {
  it:
    'Messaggio inviato automaticamente da InnoSocialMetro (Città metropolitana di Torino, gestione Finpiemonte). ' +
    'Per informazioni si rivolga al soggetto attuatore o a Finpiemonte; non risponda a questo indirizzo.',
  en:
    'This message was sent automatically by InnoSocialMetro (Città metropolitana di Torino, managed by ' +
    'Finpiemonte). For information contact your implementing body or Finpiemonte; do not reply to this address.',
};

const COPY_HINT: Record<Locale, string> = {
  it: 'Se il pulsante non funziona, copi questo indirizzo nel browser:',
  en: 'If the button does not work, copy this address into your browser:',
};

/** Text for an HTML element or a double- or single-quoted attribute. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function layOut(locale: Locale, m: Message): RenderedMail {
  return { subject: m.subject, text: plainText(locale, m), html: html(locale, m) };
}

function plainText(locale: Locale, m: Message): string {
  const lines: string[] = [m.greeting, ''];
  for (const p of m.paragraphs) lines.push(p, '');
  if (m.action) {
    lines.push(`${m.action.label}:`, m.action.href, '');
    if (m.action.note) lines.push(m.action.note, '');
  }
  for (const [label, value] of m.facts) lines.push(`${label}: ${value}`);
  for (const s of m.sections ?? []) {
    lines.push('', `${s.title}:`);
    if (s.text !== undefined) lines.push(s.text.trim());
    for (const item of s.items ?? []) lines.push(`- ${item.trim()}`);
  }
  lines.push('', '-- ', FOOTER[locale], '');
  return lines.join('\n');
}

// Inline styles only: most mail clients drop <style> blocks. Colours keep a contrast of at least 7:1.
const STYLE = {
  body: 'margin:0;padding:0;background-color:#f3f4f6;',
  main:
    'max-width:600px;margin:0 auto;padding:24px;background-color:#ffffff;color:#1f2937;' +
    'font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;',
  h1: 'margin:0 0 16px;font-size:22px;line-height:1.3;color:#111827;',
  h2: 'margin:24px 0 8px;font-size:18px;color:#111827;',
  p: 'margin:0 0 16px;',
  button:
    'display:inline-block;padding:12px 24px;background-color:#1e40af;color:#ffffff;font-weight:bold;' +
    'text-decoration:none;border-radius:6px;',
  small: 'margin:0 0 16px;font-size:14px;color:#374151;word-break:break-all;',
  dl: 'margin:24px 0;padding:16px;background-color:#f9fafb;border-left:4px solid #1e40af;',
  dt: 'margin:0;font-weight:bold;',
  dd: 'margin:0 0 8px;',
  hr: 'border:none;border-top:1px solid #d1d5db;margin:24px 0;',
  footer: 'margin:0;font-size:13px;color:#374151;',
};

// Headings are the subject's words ("ammessa all'agevolazione"), which follow a colon there: capitalised here.
const capitalised = (text: string, locale: Locale) => text.charAt(0).toLocaleUpperCase(locale) + text.slice(1);

const paragraph = (text: string, style = STYLE.p) =>
  `<p style="${style}">${escapeHtml(text).replace(/\r?\n/g, '<br>')}</p>`;

function html(locale: Locale, m: Message): string {
  const out: string[] = [
    '<!DOCTYPE html>',
    `<html lang="${locale}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(m.subject)}</title>`,
    '</head>',
    `<body style="${STYLE.body}">`,
    `<main style="${STYLE.main}">`,
    `<h1 style="${STYLE.h1}">${escapeHtml(capitalised(m.heading, locale))}</h1>`,
    paragraph(m.greeting),
    ...m.paragraphs.map((p) => paragraph(p)),
  ];
  if (m.action) {
    const href = escapeHtml(m.action.href);
    out.push(
      `<p style="margin:24px 0;"><a href="${href}" style="${STYLE.button}">${escapeHtml(m.action.label)}</a></p>`,
      `<p style="${STYLE.small}">${escapeHtml(COPY_HINT[locale])}<br><a href="${href}">${href}</a></p>`,
    );
    if (m.action.note) out.push(paragraph(m.action.note));
  }
  if (m.facts.length > 0) {
    out.push(`<dl style="${STYLE.dl}">`);
    for (const [label, value] of m.facts)
      out.push(`<dt style="${STYLE.dt}">${escapeHtml(label)}</dt><dd style="${STYLE.dd}">${escapeHtml(value)}</dd>`);
    out.push('</dl>');
  }
  for (const s of m.sections ?? []) {
    out.push(`<h2 style="${STYLE.h2}">${escapeHtml(s.title)}</h2>`);
    if (s.text !== undefined) out.push(paragraph(s.text.trim()));
    if (s.items?.length) out.push(`<ul>${s.items.map((i) => `<li>${escapeHtml(i.trim())}</li>`).join('')}</ul>`);
  }
  out.push(`<hr style="${STYLE.hr}">`, paragraph(FOOTER[locale], STYLE.footer), '</main>', '</body>', '</html>', '');
  return out.join('\n');
}
