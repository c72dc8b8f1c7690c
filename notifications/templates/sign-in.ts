import { z } from 'zod';
import { formatDateTime } from '../../domain/format';
import { defineTemplate, greeting, instantSchema, linkSchema, nameSchema } from './common';

const signInSchema = z.strictObject({
  recipientName: nameSchema.nullable(),
  /** Single use: whoever holds it signs in as the recipient until it is used or expires. */
  link: linkSchema,
  expiresAt: instantSchema,
});

export const SIGN_IN_TEMPLATES = {
  /** A single-use link to the staff pages; about a person, not an application. */
  'user.sign-in': defineTemplate({
    schema: signInSchema,
    secret: ['link'],
    words: {
      it: (p) => ({
        subject: 'InnoSocialMetro - il suo link di accesso',
        heading: 'Accesso alle pagine di InnoSocialMetro',
        greeting: greeting('it', p.recipientName, 'user'),
        paragraphs: [
          'ha chiesto di accedere alle pagine di InnoSocialMetro. Per entrare apra il link qui sotto: vale una ' +
            `sola volta, fino al ${formatDateTime(new Date(p.expiresAt), 'it')}.`,
          "Se non ha chiesto lei l'accesso, ignori questo messaggio: senza il link nessuno può entrare al suo posto.",
        ],
        action: { label: 'Accedi', href: p.link },
        facts: [],
      }),
      en: (p) => ({
        subject: 'InnoSocialMetro - your sign-in link',
        heading: 'Sign in to InnoSocialMetro',
        greeting: greeting('en', p.recipientName, 'user'),
        paragraphs: [
          'You asked to sign in to the InnoSocialMetro pages. Open the link below to enter: it works once, until ' +
            `${formatDateTime(new Date(p.expiresAt), 'en')}.`,
          'If you did not ask to sign in, ignore this message: without the link nobody can sign in as you.',
        ],
        action: { label: 'Sign in', href: p.link },
        facts: [],
      }),
    },
  }),
};
