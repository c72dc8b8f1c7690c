import type { Command } from 'commander';
import { parseEuro } from '../../domain/format';
import { UserError } from '../errors';
import type { Registration } from './answers';
import { readFile } from './files';
import { request } from './http';
import { filterOptions, filterQuery } from './filters';
import { addCommand } from './program';

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
type Column = (typeof IMPORT_COLUMNS)[number];

export interface ImportReport {
  line: number;
  registered: boolean;
  applicationId?: string;
  eligible?: boolean;
  error?: string;
}

/**
 * The rows of an import file as Excel writes them: UTF-8 with or without BOM, comma- or semicolon-separated (the
 * header says which: Italian Excel writes semicolons and decimal commas), quoted fields. Each row keeps its line.
 */
export async function readRows(text: string): Promise<{ line: number; get: (c: Column) => string; width: number }[]> {
  const { parse } = await import('csv-parse/sync');
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const delimiter = firstLine.includes(';') && !firstLine.includes(',') ? ';' : ',';
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = (parse as (input: string, options: object) => typeof records)(text, {
      bom: true,
      delimiter,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    });
  } catch (err) {
    throw new UserError('invalid_input', `the file is not valid CSV: ${(err as Error).message}`);
  }
  const [header, ...rows] = records;
  if (!header) throw new UserError('invalid_input', 'the file is empty');
  const names = header.record.map((h) => h.toLowerCase());
  const missing = IMPORT_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length)
    throw new UserError(
      'invalid_input',
      `missing columns: ${missing.join(', ')} (expected: ${IMPORT_COLUMNS.join(',')})`,
    );
  return rows.map((r) => ({
    line: r.info.lines,
    width: r.record.length,
    get: (c: Column) => r.record[names.indexOf(c)] ?? '',
  }));
}

function formOf(row: Awaited<ReturnType<typeof readRows>>[number]) {
  const { get } = row;
  const whole = (c: Column) => {
    if (!/^\d+$/.test(get(c))) throw new UserError('invalid_input', `${c}: "${get(c)}" is not a whole number`);
    return Number(get(c));
  };
  const euro = (c: Column) => {
    try {
      return parseEuro(get(c));
    } catch (err) {
      throw new UserError('invalid_input', `${c}: ${(err as Error).message}`);
    }
  };
  return {
    callId: get('call_id'),
    company: {
      legalName: get('legal_name'),
      vatNumber: get('vat_number'),
      atecoCode: get('ateco_code'),
      headcount: whole('headcount'),
      turnoverCents: euro('turnover_eur'),
      balanceSheetCents: euro('balance_sheet_eur'),
      operatingSite: { comune: get('comune'), address: get('address') },
      legalRepresentative: {
        name: get('representative_name'),
        email: get('representative_email'),
        locale: get('locale') || 'it',
      },
    },
    themes: get('themes')
      ? get('themes')
          .split(/[;|]/)
          .map((t) => t.trim())
      : [],
    deMinimisReceivedCents: get('de_minimis_received_eur') ? euro('de_minimis_received_eur') : 0,
  };
}

/** A progress bar on stderr when it is a terminal; a line every tenth of the way otherwise. */
function progressBar(stream: NodeJS.WriteStream = process.stderr) {
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

export function importExportCommands(program: Command) {
  addCommand(program, {
    name: 'import',
    args: '<file.csv>',
    description:
      `register one application per row (columns: ${IMPORT_COLUMNS.join(',')}; amounts in euro, themes separated ` +
      'by ;); reports every row by its line: registered and eligible, rejected with the reasons, or what was wrong. ' +
      'Exits 0 when every row was registered and eligible, 4 otherwise',
    example: 'innosocial import examples/applications.csv',
    run: async ([file], _o, out) => {
      const rows = await readRows(readFile(file!, 'import file').toString('utf8'));
      const progress = progressBar();
      const reports: ImportReport[] = [];
      for (const [i, row] of rows.entries()) {
        try {
          if (row.width !== IMPORT_COLUMNS.length && row.width < IMPORT_COLUMNS.length) {
            throw new UserError('invalid_input', `has ${row.width} fields, the header ${IMPORT_COLUMNS.length}`);
          }
          const { body } = await request<Registration>('POST', '/applications', formOf(row));
          reports.push({
            line: row.line,
            registered: true,
            applicationId: body.applicationId,
            eligible: body.eligible,
            ...(body.eligible ? {} : { error: body.reasons.map((r) => r.message).join('; ') }),
          });
        } catch (err) {
          if (err instanceof UserError && (err.code === 'api_unavailable' || err.code === 'unauthorized')) throw err;
          reports.push({ line: row.line, registered: false, error: err instanceof Error ? err.message : String(err) });
        }
        progress(i + 1, rows.length);
      }
      const failed = reports.filter((r) => !r.registered || !r.eligible);
      out.print(reports, () =>
        [
          ...reports.map((r) =>
            !r.registered
              ? `line ${r.line}: NOT registered: ${r.error}`
              : r.eligible
                ? `line ${r.line}: registered ${r.applicationId}, eligible`
                : `line ${r.line}: registered ${r.applicationId}, NOT eligible: ${r.error}`,
          ),
          `${reports.filter((r) => r.registered).length} registered (${reports.filter((r) => r.eligible).length} eligible), ` +
            `${reports.filter((r) => !r.registered).length} not registered`,
        ].join('\n'),
      );
      return failed.length ? 4 : 0;
    },
  });

  addCommand(program, {
    name: 'export',
    description: "the register as CSV on stdout (company's legal name and comune; no people): every page, filtered",
    example: 'innosocial export --call innosocialmetro-2023 > registro.csv',
    options: filterOptions(),
    run: async (_a, o) => {
      const { text } = await request<string>('GET', `/applications.csv?${await filterQuery(o, false)}`);
      process.stdout.write(text);
    },
  });
}
