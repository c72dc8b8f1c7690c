import path from 'node:path';
import type { Command } from 'commander';
import { formatEuro } from '../../domain/format';
import { UserError } from '../errors';
import { readFile, readJsonFile } from './files';
import { applicationId, callApi, path_, request } from './http';
import { addCommand } from './program';
import type { Output } from './output';
import { table } from './output';

interface ProjectView {
  state: string;
  status: string;
  deadline: { kind: string; dueOn: string } | null;
  disbursedCents: number;
  recovery: { orderedCents: number; repaidCents: number; outstandingCents: number } | null;
  allowedCommands: string[];
  timeline: { at: string; event: string; from: string | null; to: string; role: string }[];
}

const e = (cents: number) => formatEuro(cents, 'it');
function printProject(id: string, p: ProjectView): string {
  const rows = [
    ['project of', id],
    ['state', `${p.state} (${p.status})`],
    ['deadline', p.deadline ? `${p.deadline.kind} by ${p.deadline.dueOn}` : '-'],
    ['disbursed', e(p.disbursedCents)],
    ['recovery', p.recovery ? `${e(p.recovery.orderedCents)} ordered, ${e(p.recovery.repaidCents)} repaid` : '-'],
    ['next', p.allowedCommands.join(', ') || '(none)'],
  ];
  const timeline = p.timeline.map((t) => [
    `  ${t.at.slice(0, 16).replace('T', ' ')}`,
    t.event,
    `${t.from ?? '-'} -> ${t.to}`,
    t.role,
  ]);
  return `${table(rows)}\n\ntimeline\n${table(timeline)}`;
}

async function post(id: string, route: string, body: unknown, out: Output) {
  const p = await callApi<ProjectView>('POST', `${path_('applications', applicationId(id))}/project/${route}`, body);
  out.print(p, `${id}: the project is now ${p.state}`);
}

const need = (value: unknown, flag: string) => {
  if (typeof value !== 'string' || value === '') throw new UserError('invalid_input', `${flag} is required`);
  return value;
};

export function projectCommands(program: Command) {
  const project = program
    .command('project')
    .description("a funded application's project: reports, verification, money");
  project.addHelpText(
    'after',
    '\nExample:\n  innosocial project show <id>\n  innosocial project final-report <id> report.json',
  );
  addCommand(project, {
    name: 'show',
    args: '<id>',
    description: 'the project: state, deadline, recovery, the commands possible now, and its timeline',
    example: 'innosocial project show innosocialmetro-2023.0123456789abcdef0123',
    run: async ([id], _o, out) => {
      const p = await callApi<ProjectView>('GET', `${path_('applications', applicationId(id!))}/project`);
      out.print(p, () => printProject(id!, p));
    },
  });
  addCommand(project, {
    name: 'upload',
    args: '<id> <file>',
    description: 'upload evidence, an invoice or observations: prints the reference a report names it by',
    example: 'innosocial project upload <id> fattura-12.pdf --kind invoice',
    options: [['--kind <kind>', 'indicator_evidence, invoice, payment_proof, interim_report, observations or other']],
    run: async ([id, file], o, out) => {
      const bytes = readFile(file!, 'document');
      const document = {
        kind: need(o.kind, '--kind'),
        filename: path.basename(file!),
        contentBase64: bytes.toString('base64'),
      };
      const { body } = await request<{ sha256: string; kind: string; sizeBytes: number }>(
        'POST',
        `${path_('applications', applicationId(id!))}/project/documents`,
        { document },
      );
      out.print(body, JSON.stringify({ sha256: body.sha256, kind: body.kind, sizeBytes: body.sizeBytes }));
    },
  });
  for (const [name, route, what, key] of [
    ['interim-report', 'interim-report', 'an interim progress report (SAL), from a JSON file', 'report'],
    [
      'final-report',
      'final-report',
      'the final report: every indicator measured, every cost line spent (JSON file)',
      'report',
    ],
    ['verify', 'verification', 'the verification: accepted amount (and reason) per cost line (JSON file)', 'costLines'],
    [
      'observations',
      'observations',
      "the company's observations on an intended reduction or revocation (JSON file)",
      'observations',
    ],
  ] as const) {
    addCommand(project, {
      name,
      args: '<id> <file.json>',
      description: `record ${what}`,
      example: `innosocial project ${name} <id> ${name}.json`,
      run: async ([id, file], _o, out) => {
        const data = readJsonFile(file!, `${name} file`) as Record<string, unknown>;
        await post(id!, route, { [key]: data[key] ?? data }, out);
      },
    });
  }
  addCommand(project, {
    name: 'revoke',
    args: '<id>',
    description: 'start a revocation: the project was not carried out (an intention; the company may answer)',
    example: 'innosocial project revoke <id> --reason "the workshop never opened"',
    options: [['--reason <text>', 'why (repeat for more)']],
    run: async ([id], o, out) => post(id!, 'revocation', { reasons: [need(o.reason, '--reason')] }, out),
  });
  addCommand(project, {
    name: 'decide',
    args: '<id>',
    description: 'confirm or drop the intended reduction or revocation (confirm: after the observations period)',
    example:
      'innosocial project decide <id> --confirm --motivation "the observations do not change the accepted costs"',
    options: [
      ['--confirm', 'confirm it: the recovery is ordered'],
      ['--drop', 'drop it'],
      ['--motivation <text>', 'why'],
    ],
    run: async ([id], o, out) => {
      if (Boolean(o.confirm) === Boolean(o.drop)) throw new UserError('invalid_input', 'give --confirm or --drop');
      await post(
        id!,
        'decision',
        { decision: o.confirm ? 'confirm' : 'drop', motivation: need(o.motivation, '--motivation') },
        out,
      );
    },
  });
  addCommand(project, {
    name: 'extend',
    args: '<id>',
    description: "extend the realisation period once, on the company's reasoned request",
    example: 'innosocial project extend <id> --months 3 --reason "supplier delays"',
    options: [
      ['--months <n>', 'how many months'],
      ['--reason <text>', "the company's reasons"],
    ],
    run: async ([id], o, out) =>
      post(id!, 'extension', { months: Number(o.months), reason: need(o.reason, '--reason') }, out),
  });
  addCommand(project, {
    name: 'repay',
    args: '<id>',
    description: 'record a repayment of what was recovered: it returns to the call (and may promote the reserve list)',
    example: 'innosocial project repay <id> --amount 5000 --date 2027-03-01',
    options: [
      ['--amount <EUR>', 'the amount repaid, in euro'],
      ['--date <YYYY-MM-DD>', 'when'],
    ],
    run: async ([id], o, out) => {
      const { parseEuro } = await import('../../domain/format');
      let amountCents: number;
      try {
        amountCents = parseEuro(need(o.amount, '--amount'));
      } catch (err) {
        throw new UserError('invalid_input', `--amount: ${(err as Error).message}`);
      }
      await post(id!, 'repayment', { amountCents, repaidOn: need(o.date, '--date') }, out);
    },
  });
  addCommand(project, {
    name: 'withdraw',
    args: '<id>',
    description: "record the company's withdrawal after funding: everything disbursed is recovered",
    example: 'innosocial project withdraw <id> --reason "the company closes"',
    options: [['--reason <text>', 'why']],
    run: async ([id], o, out) => post(id!, 'withdrawal', { reason: need(o.reason, '--reason') }, out),
  });

  addCommand(program, {
    name: 'impact',
    description:
      "the programme's impact per call and theme: funded projects, their indicators (baseline, target, measured, " +
      'achievement) and money granted, disbursed and recovered; no personal data (the CSV can be published)',
    example: [
      'innosocial impact',
      'innosocial impact --call innosocialmetro-2023 --theme environment --format csv > impatto.csv',
    ],
    options: [
      ['--call <id>', 'one call'],
      ['--theme <theme>', 'one impact theme'],
      ['--format <format>', 'table (default), csv, indicators.csv or json'],
    ],
    run: async (_a, o, out) => {
      const format = String(o.format ?? (out.json ? 'json' : 'table'));
      if (!['table', 'csv', 'indicators.csv', 'json'].includes(format))
        throw new UserError('invalid_input', `--format: one of table, csv, indicators.csv, json`);
      const query = new URLSearchParams({
        ...(o.call ? { call: String(o.call) } : {}),
        ...(o.theme ? { theme: String(o.theme) } : {}),
        format: format === 'table' ? 'json' : format,
      });
      const { body, text } = await request<unknown>('GET', `/impact?${query}`);
      if (format === 'table') {
        const { impactTable } = await import('../../domain/impact');
        process.stdout.write(impactTable(body as Parameters<typeof impactTable>[0]));
      } else process.stdout.write(format === 'json' ? `${JSON.stringify(body, null, 2)}\n` : text);
    },
  });
}
