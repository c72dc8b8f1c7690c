import { z } from 'zod';
import { LOCALES } from './format';
import { ThemeSchema } from './themes';

const cents = z.number().int().nonnegative();

/** What an operator registers: the application form. Strict, so a misspelt field is an error, not ignored. */
export const ApplicationFormSchema = z
  .object({
    callId: z.string().min(1),
    company: z
      .object({
        legalName: z.string().trim().min(1).max(200),
        vatNumber: z.string().regex(/^\d{11}$/, 'must be 11 digits'),
        atecoCode: z.string().regex(/^\d{2}(\.\d{1,2}){0,2}$/, 'an ATECO code such as 62.01 or 62.01.00'),
        headcount: z.number().int().nonnegative(),
        turnoverCents: cents,
        balanceSheetCents: cents,
        operatingSite: z
          .object({
            comune: z.string().trim().min(1).describe('ISTAT code (six digits) or the exact official name'),
            address: z.string().trim().min(1).max(200),
          })
          .strict(),
        legalRepresentative: z
          .object({
            name: z.string().trim().min(1).max(200),
            email: z.email(),
            /** The language of the e-mails the company receives. */
            locale: z.enum(LOCALES).default('it'),
          })
          .strict(),
      })
      .strict(),
    /** The day the company submitted it (its PEC's date, say); today when not given. Never in the future. */
    submittedOn: z.iso.date({ error: 'a date as YYYY-MM-DD' }).optional(),
    themes: z.array(ThemeSchema).default([]),
    deMinimisReceivedCents: cents.default(0),
  })
  .strict();

export type ApplicationForm = z.infer<typeof ApplicationFormSchema>;
