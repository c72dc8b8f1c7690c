import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/env';
import { centsToDecimal, parseEuro } from '../domain/format';
import { connectDb } from '../db/connect';
import { budgetOverview } from '../db/repositories/budget';
import { createUser, listUsers, revokeUser } from '../db/repositories/users';
import type { ApplicationCommand } from '../machines/events';
import type { ApplicationService, ApplicationSummary } from './applications';
import { callApi } from './api-client';
import { NewUserBody } from './api/routes';
import { parseCsv, toCsv } from './csv';
import { UserError } from './errors';

export type Options = Record<string, string | boolean | string[] | undefined>;

const euroToCents = (value: string, where: string): number => {
  try {
    return parseEuro(value);
  } catch (err) {
    throw new UserError('invalid_input', `${where}: ${(err as Error).message}`);
  }
};
const need = (opts: Options, name: string): string => {
  const v = opts[name];
  if (typeof v !== 'string' || v === '') throw new UserError('invalid_input', `--${name} is required`);
  return v;
};
const readJson = (file: string): unknown => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError('invalid_input', `${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
};

/** Operator shortcuts: each builds one command from named options, so nobody writes JSON for a daily task. */
export const SHORTCUTS: Record<
  string,
  { usage: string; example: string; build: (opts: Options, args: string[]) => ApplicationCommand }
> = {
  assign: {
    usage: 'assign <id> --body B --consultant-name N --consultant-email E',
    example:
      'innosocial assign <id> --body socialfare --consultant-name "Marco Bianchi" --consultant-email marco@socialfare.example.org',
    build: (o) => ({
      type: 'ASSIGN_BODY',
      implementingBody: need(o, 'body'),
      consultant: { name: need(o, 'consultant-name'), email: need(o, 'consultant-email') },
    }),
  },
  'log-session': {
    usage: 'log-session <id> --date YYYY-MM-DD --start HH:MM --end HH:MM --topic T --attendee NAME [--attendee NAME…]',
    example:
      'innosocial log-session <id> --date 2026-11-25 --start 09:00 --end 13:00 --topic "impact map" --attendee "Giulia Ferraris"',
    build: (o) => ({
      type: 'LOG_SESSION',
      session: {
        date: need(o, 'date'),
        start: need(o, 'start'),
        end: need(o, 'end'),
        topic: need(o, 'topic'),
        attendees: (o.attendee as string[] | undefined) ?? [],
      },
    }),
  },
  'confirm-session': {
    usage: 'confirm-session <id> --date YYYY-MM-DD --start HH:MM --code NNNNNN',
    example: 'innosocial confirm-session <id> --date 2026-11-25 --start 09:00 --code 042917',
    build: (o) => ({ type: 'CONFIRM_SESSION', date: need(o, 'date'), start: need(o, 'start'), code: need(o, 'code') }),
  },
  complete: {
    usage: 'complete <id>',
    example: 'innosocial complete <id>',
    build: () => ({ type: 'COMPLETE_ACCOMPANIMENT' }),
  },
  attach: {
    usage: 'attach <id> <file> [--kind pre_project|attachment|integration|funding]',
    example: 'innosocial attach <id> pre-progetto.pdf --kind pre_project',
    build: (o, args) => {
      const file = args[0];
      if (!file) throw new UserError('invalid_input', 'usage: innosocial attach <id> <file>');
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (err) {
        throw new UserError('invalid_input', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
      }
      return {
        type: 'ATTACH_DOCUMENT',
        document: {
          kind: ((o.kind as string) ?? 'attachment') as 'attachment',
          filename: path.basename(file),
          contentBase64: bytes.toString('base64'),
        },
      };
    },
  },
  'submit-pre-project': {
    usage: 'submit-pre-project <id> <pre-project.json>',
    example: 'innosocial submit-pre-project <id> examples/pre-project.json',
    build: (_o, args) => {
      if (!args[0]) throw new UserError('invalid_input', 'usage: innosocial submit-pre-project <id> <file.json>');
      const data = readJson(args[0]) as { preProject?: unknown };
      return { type: 'SUBMIT_PRE_PROJECT', preProject: (data.preProject ?? data) as never };
    },
  },
  forward: {
    usage: 'forward <id>',
    example: 'innosocial forward <id>',
    build: () => ({ type: 'FORWARD_TO_COMMISSION' }),
  },
  fund: {
    usage: 'fund <id> --amount EUR --date YYYY-MM-DD',
    example: 'innosocial fund <id> --amount 40000 --date 2026-11-25',
    build: (o) => ({
      type: 'RECORD_FUNDING',
      amountCents: euroToCents(need(o, 'amount'), '--amount'),
      disbursedOn: need(o, 'date'),
    }),
  },
  withdraw: {
    usage: 'withdraw <id> --reason R',
    example: 'innosocial withdraw <id> --reason "the company renounces"',
    build: (o) => ({ type: 'WITHDRAW', reason: need(o, 'reason') }),
  },
};

const euro = (cents: number | null) => (cents === null ? '' : centsToDecimal(cents));

/** The register as CSV, from Temporal visibility: no personal data leaves through it. */
export function exportCsv(rows: ApplicationSummary[]): string {
  return toCsv(
    [
      'application_id',
      'call_id',
      'state',
      'implementing_body',
      'themes',
      'requested_eur',
      'admitted_eur',
      'deadline_at',
      'submitted_at',
    ],
    rows.map((r) => [
      r.applicationId,
      r.callId,
      r.state,
      r.implementingBody ?? '',
      r.themes.join(';'),
      euro(r.requestedCents),
      euro(r.admittedCents),
      r.deadlineAt ?? '',
      r.startTime.toISOString(),
    ]),
  );
}

export const IMPORT_COLUMNS = [
  'call_id',
  'legal_name',
  'vat_number',
  'ateco_code',
  'headcount',
  'turnover_eur',
  'balance_sheet_eur',
  'comune',
  'address',
  'representative_name',
  'representative_email',
  'locale',
  'themes',
  'de_minimis_received_eur',
] as const;

export interface ImportReport {
  row: number;
  ok: boolean;
  applicationId?: string;
  error?: string;
}

/**
 * Registers one application per CSV row, reporting per row what happened: a bad row is named with its line and
 * field, and does not stop the others. `progress` is called after each row.
 */
export async function importCsv(
  service: ApplicationService,
  text: string,
  meta: { actor: string; role: 'operator' },
  progress: (done: number, total: number) => void,
): Promise<ImportReport[]> {
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new UserError('invalid_input', 'the file is empty');
  const missing = IMPORT_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length)
    throw new UserError(
      'invalid_input',
      `missing columns: ${missing.join(', ')} (expected: ${IMPORT_COLUMNS.join(',')})`,
    );
  const reports: ImportReport[] = [];
  for (const [i, cells] of rows.entries()) {
    const line = i + 2;
    const get = (c: (typeof IMPORT_COLUMNS)[number]) => (cells[header.indexOf(c)] ?? '').trim();
    try {
      if (cells.length !== header.length)
        throw new UserError('invalid_input', `has ${cells.length} fields, the header ${header.length}`);
      const int = (c: (typeof IMPORT_COLUMNS)[number]) => {
        if (!/^\d+$/.test(get(c))) throw new UserError('invalid_input', `${c}: "${get(c)}" is not a whole number`);
        return Number(get(c));
      };
      const form = {
        callId: get('call_id'),
        company: {
          legalName: get('legal_name'),
          vatNumber: get('vat_number'),
          atecoCode: get('ateco_code'),
          headcount: int('headcount'),
          turnoverCents: euroToCents(get('turnover_eur'), 'turnover_eur'),
          balanceSheetCents: euroToCents(get('balance_sheet_eur'), 'balance_sheet_eur'),
          operatingSite: { comune: get('comune'), address: get('address') },
          legalRepresentative: {
            name: get('representative_name'),
            email: get('representative_email'),
            locale: get('locale') || 'it',
          },
        },
        themes: get('themes')
          ? get('themes')
              .split(';')
              .map((t) => t.trim())
          : [],
        deMinimisReceivedCents: get('de_minimis_received_eur')
          ? euroToCents(get('de_minimis_received_eur'), 'de_minimis_received_eur')
          : 0,
      };
      const { applicationId } = await service.apply(form, meta);
      reports.push({ row: line, ok: true, applicationId });
    } catch (err) {
      reports.push({ row: line, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
    progress(i + 1, rows.length);
  }
  return reports;
}

/** A progress bar on stderr when it is a terminal; a line every tenth of the way otherwise. */
export function progressBar(stream: NodeJS.WriteStream = process.stderr) {
  let lastTenth = -1;
  return (done: number, total: number) => {
    const share = total ? done / total : 1;
    if (stream.isTTY) {
      const width = 30;
      stream.write(
        `\r[${'#'.repeat(Math.round(share * width)).padEnd(width, '.')}] ${done}/${total}${done === total ? '\n' : ''}`,
      );
    } else if (Math.floor(share * 10) !== lastTenth) {
      lastTenth = Math.floor(share * 10);
      stream.write(`imported ${done}/${total}\n`);
    }
  };
}

/**
 * Users and budget: straight to PostgreSQL when DATABASE_URL names it (how the first operator is created in
 * production); otherwise through the running API with the operator's token (the embedded PGlite belongs to
 * the `npm start` process).
 */
export async function adminCommand(
  config: Config,
  command: 'users' | 'budget',
  args: string[],
  opts: Options,
): Promise<unknown> {
  // `return await` throughout: the finally below closes the connection, which must outlive the query.
  const direct = config.DATABASE_URL
    ? await connectDb({ databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR })
    : null;
  try {
    if (command === 'budget') {
      const callId = (opts.call as string | undefined) ?? 'innosocialmetro-2023';
      if (!direct) return await callApi(config, 'GET', `/calls/${encodeURIComponent(callId)}/budget`);
      const overview = await budgetOverview(direct, callId);
      if (!overview) throw new UserError('not_found', `call ${callId} has no budget yet (no admission so far)`);
      return overview;
    }
    const [sub, ...rest] = args;
    if (sub === 'list') return direct ? await listUsers(direct) : await callApi(config, 'GET', '/users');
    if (sub === 'revoke') {
      const id = rest[0];
      if (!id) throw new UserError('invalid_input', 'usage: innosocial users revoke <user-id>');
      if (!direct) return await callApi(config, 'DELETE', `/users/${encodeURIComponent(id)}`);
      if (!(await revokeUser(direct, id))) throw new UserError('not_found', `no active user ${id}`);
      return { revoked: id };
    }
    if (sub === 'add') {
      // The same schema as POST /users: the two paths accept exactly the same users.
      const parsed = NewUserBody.safeParse({
        role: opts.role,
        name: opts.name,
        body: opts.body,
        chair: opts.chair ?? false,
      });
      if (!parsed.success)
        throw new UserError(
          'invalid_input',
          `users add: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      const u = parsed.data;
      if (!direct)
        return await callApi(config, 'POST', '/users', {
          name: u.name,
          role: u.role,
          ...(u.body ? { body: u.body } : {}),
          chair: u.chair,
        });
      if (
        u.body &&
        !(await direct.selectFrom('implementing_bodies').select('id').where('id', '=', u.body).executeTakeFirst())
      ) {
        throw new UserError('invalid_input', `--body: "${u.body}" is not a registered implementing body`);
      }
      return await createUser(direct, { name: u.name, role: u.role, bodyId: u.body ?? null, chair: u.chair });
    }
    throw new UserError('invalid_input', 'usage: innosocial users add|list|revoke');
  } finally {
    await direct?.destroy();
  }
}
