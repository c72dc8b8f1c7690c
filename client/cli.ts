import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../config/env';
import { formatEuro } from '../domain/format';
import { APPLICATION_STATES, type ApplicationState } from '../machines/application.machine';
import { mermaidDiagram } from '../machines/diagram';
import type { ApplicationView } from '../workflows/messages';
import { listSinkMessages, readSinkMessage } from '../notifications/sink';
import { ApplicationService } from './applications';
import { adminCommand, exportCsv, importCsv, IMPORT_COLUMNS, progressBar, SHORTCUTS } from './cli-more';
import type { BudgetOverview } from '../db/repositories/budget';
import { UserError, type ErrorCode } from './errors';
import { connectClient } from './temporal';

const HELP: Record<string, string> = {
  main: `innosocial: operate InnoSocialMetro applications

Usage: innosocial <command> [options]

Commands:
  apply <file.json>                     register an application (the form as JSON)
  show <id>                             state, facts and the commands possible now
  list [--state S] [--call C] [--body B] [--theme T] [--id-prefix P]
                                        applications, from Temporal visibility
  assign | log-session | confirm-session | complete | attach | submit-pre-project | forward | fund | withdraw
                                        the operator's daily commands (each has --help)
  send <id> <EVENT> [--data file.json]  any command as JSON (as an Update; --signal for fire-and-forget)
  import <file.csv>                     register many applications, with a per-row report
  export [filters]                      the register as CSV on stdout
  budget [--call C]                     a call's budget: committed, available, reserve list
  users add|list|revoke                 people and their bearer tokens
  diagram                               the state machine as Mermaid
  mail [--to ADDRESS] [--show FILE]     e-mails caught by the local mail sink of \`npm start\`

Options: --json (machine-readable output), --help (per command)
Environment: TEMPORAL_ADDRESS (default 127.0.0.1:7233), INNOSOCIAL_ACTOR (default: your user name),
             INNOSOCIAL_TOKEN (for users and budget; default: the token \`npm start\` wrote in .data/operator.token)
Exit codes: 0 ok, 1 system unavailable or internal error, 2 bad usage or input, 3 not found, 4 refused or conflict,
            5 not allowed for your role

Example:
  innosocial apply examples/application.json && innosocial list --state submitted`,
  apply: `Usage: innosocial apply <file.json> [--json]
Registers the application in <file.json> (see examples/application.json) under the current rules of its call.
A company applies once per call; a second attempt exits 4 naming the existing application.

Example: innosocial apply examples/application.json`,
  show: `Usage: innosocial show <id> [--json]
Prints the state, the deadline, the key facts, the commands the application accepts now, and its timeline.

Example: innosocial show innosocialmetro-2023.0123456789abcdef0123`,
  list: `Usage: innosocial list [--state S] [--call C] [--body B] [--theme T] [--id-prefix P] [--limit N] [--json]
States: ${APPLICATION_STATES.join(', ')}

Example: innosocial list --state commission --theme environment`,
  import: `Usage: innosocial import <file.csv> [--json]
Registers one application per row. Columns: ${IMPORT_COLUMNS.join(',')}
(amounts in euro, themes separated by ;). Shows progress on stderr and reports every row: registered with its id,
or what was wrong and where. Exits 0 when every row was registered, 4 when some were not.

Example: innosocial import examples/applications.csv`,
  export: `Usage: innosocial export [--state S] [--call C] [--body B] [--theme T] > register.csv
Writes the register (id, call, state, body, themes, amounts, deadline, submission time) as CSV; no personal data.

Example: innosocial export --call innosocialmetro-2023 > registro.csv`,
  budget: `Usage: innosocial budget [--call C] [--json]
The call's budget: total, committed, available, the reservations and the FIFO reserve list.

Example: innosocial budget --call innosocialmetro-2023`,
  users: `Usage: innosocial users add --role operator|consultant|commission|auditor --name N [--body B] [--chair]
       innosocial users list
       innosocial users revoke <user-id>
add prints the new user's bearer token once (only its hash is stored). A consultant needs --body, the implementing
body they work for; --chair marks the commission's chair.

Example: innosocial users add --role commission --name "Chiara Rossi" --chair`,
  ...Object.fromEntries(
    Object.entries(SHORTCUTS).map(([name, s]) => [
      name,
      `Usage: innosocial ${s.usage} [--json]\n\nExample: ${s.example}`,
    ]),
  ),
  send: `Usage: innosocial send <id> <EVENT> [--data file.json] [--signal] [--update-id KEY] [--json]
Sends a command to the application. The payload comes from --data (a JSON object without "type").
As an Update (default) it answers with the new state or exits 4 with the reason of the refusal;
--signal delivers it without waiting; --update-id makes a retried send count once.

Example: innosocial send <id> ASSIGN_BODY --data assign.json
         innosocial send <id> COMPLETE_ACCOMPANIMENT`,
  mail: `Usage: innosocial mail [--to ADDRESS] [--show FILE] [--json]
Lists the e-mails the system sent to the local mail sink that \`npm start\` runs (MAIL_SINK_DIR), oldest first;
--show prints one message with its decoded text.

Example: innosocial mail --to giulia.ferraris@example.org`,
  diagram: `Usage: innosocial diagram
Prints the application state machine as a Mermaid stateDiagram.

Example: innosocial diagram > docs/lifecycle.mmd`,
};

const exitCodes: Record<ErrorCode, number> = {
  invalid_input: 2,
  unauthorized: 5,
  forbidden: 5,
  rate_limited: 1,
  document_unavailable: 1,
  not_found: 3,
  already_applied: 4,
  event_refused: 4,
  temporal_unavailable: 1,
  internal: 1,
};

const ListArgs = z.object({
  state: z.enum(APPLICATION_STATES as [ApplicationState, ...ApplicationState[]]).optional(),
  call: z.string().min(1).optional(),
  limit: z.coerce.number().int().positive().max(10_000).optional(),
});

function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(
      'invalid_input',
      `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError('invalid_input', `${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function budgetText(b: BudgetOverview): string {
  const e = (c: number) => formatEuro(c, 'en');
  return [
    `call ${b.callId}: total ${e(b.totalCents)}, committed ${e(b.committedCents)}, available ${e(b.availableCents)}`,
    `reserved: ${b.reserved.length}, disbursed: ${b.consumed.length}, waiting: ${b.waiting.length}`,
    ...b.waiting.map((w) => `  #${w.position}  ${w.applicationId}  ${e(w.amountCents)}`),
  ].join('\n');
}

const euro = (cents: number | null) => (cents === null ? '-' : formatEuro(cents, 'en'));

function printView(v: ApplicationView): string {
  const f = v.facts;
  const rows: [string, string | number | null][] = [
    ['application', v.applicationId],
    ['call', `${v.callId} (rules v${v.rulesVersion})`],
    ['state', v.final ? `${v.state} (final)` : v.state],
    ['deadline', v.deadline ? `${v.deadline.kind} by ${v.deadline.dueAt}` : '-'],
    ['themes', f.themes.join(', ') || '-'],
    ['implementing body', f.implementingBody ? `${f.implementingBody} (${f.consultant})` : '-'],
    ['accompaniment', `${f.verifiedHours} of ${f.requiredHours} h verified, ${f.sessionsLogged} session(s) logged`],
    ['documents', f.documents.map((d) => `${d.kind}:${d.filename}`).join(', ') || '-'],
    [
      'pre-project',
      f.preProject
        ? `v${f.preProject.version} "${f.preProject.title}", grant ${euro(f.preProject.grantCents)} of ${euro(f.preProject.eligibleCostCents)}`
        : '-',
    ],
    ['admitted', euro(f.admittedCents)],
    ['funded', euro(f.fundedCents)],
  ];
  if (f.ineligibilityReasons.length) rows.push(['not eligible', f.ineligibilityReasons.join('; ')]);
  if (f.motivation) rows.push(['motivation', f.motivation]);
  if (f.closingReason) rows.push(['closing reason', f.closingReason]);
  rows.push(['next', v.allowedCommands.join(', ') || '(none)']);
  for (const s of v.refusedSignals) rows.push(['refused signal', `${s.at} ${s.type}: ${s.reason}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const facts = rows.map(([k, val]) => `${k.padEnd(width)}  ${val ?? '-'}`).join('\n');
  const timeline = v.timeline.map(
    (t) =>
      `  ${t.at.replace('T', ' ').slice(0, 19)}  ${t.event.padEnd(22)} ${(t.from ?? '-').padEnd(13)} -> ${t.to.padEnd(13)} ${t.actor} (${t.role})`,
  );
  return `${facts}\n\ntimeline\n${timeline.join('\n')}`;
}

async function mailCommand(
  dir: string,
  opts: { to?: string | undefined; show?: string | undefined; json: boolean },
  out: (s: string) => void,
): Promise<number> {
  if (opts.show) {
    if (basename(opts.show) !== opts.show || !opts.show.endsWith('.eml'))
      throw new UserError(
        'invalid_input',
        `--show takes a file name from the list, such as 20261125T231012.345Z-3f2a9c81d0.eml`,
      );
    const message = await readSinkMessage(join(dir, opts.show)).catch(() => {
      throw new UserError('not_found', `no message ${opts.show} in ${dir}`);
    });
    out(
      opts.json
        ? JSON.stringify(message, null, 2)
        : `From: ${message.from}\nTo: ${message.to}\nDate: ${message.date}\nSubject: ${message.subject}\n\n${message.text}`,
    );
    return 0;
  }
  const messages = (await listSinkMessages(dir)).filter(
    (m) => !opts.to || m.to.toLowerCase().includes(opts.to.toLowerCase()),
  );
  out(
    opts.json
      ? JSON.stringify(messages, null, 2)
      : messages.length
        ? messages.map((m) => `${m.file}  ${m.to.padEnd(36)}  ${m.subject}`).join('\n')
        : `(no messages in ${dir})`,
  );
  return 0;
}

export async function run(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      state: { type: 'string' },
      call: { type: 'string' },
      limit: { type: 'string' },
      data: { type: 'string' },
      signal: { type: 'boolean', default: false },
      'update-id': { type: 'string' },
      to: { type: 'string' },
      show: { type: 'string' },
      body: { type: 'string' },
      theme: { type: 'string' },
      'id-prefix': { type: 'string' },
      'consultant-name': { type: 'string' },
      'consultant-email': { type: 'string' },
      date: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      topic: { type: 'string' },
      attendee: { type: 'string', multiple: true },
      code: { type: 'string' },
      kind: { type: 'string' },
      amount: { type: 'string' },
      reason: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      chair: { type: 'boolean' },
    },
  });
  const [command, ...rest] = positionals;
  if (!command || values.help) {
    out(HELP[command ?? 'main'] ?? HELP.main!);
    return command && !HELP[command] ? 2 : 0;
  }
  if (!HELP[command])
    throw new UserError('invalid_input', `unknown command "${command}" (innosocial --help lists them)`);
  if (command === 'diagram') {
    out(mermaidDiagram());
    return 0;
  }
  const need = (n: number, usage: string) => {
    if (rest.length !== n) throw new UserError('invalid_input', `usage: ${usage}`);
  };
  const config = loadConfig();
  if (command === 'users' || command === 'budget') {
    const result = await adminCommand(config, command, rest, values);
    const human =
      command === 'budget'
        ? budgetText(result as BudgetOverview)
        : rest[0] === 'add'
          ? `created ${(result as { user: { id: string } }).user.id}; its token (shown this once):\n${(result as { token: string }).token}`
          : JSON.stringify(result, null, 2);
    out(values.json ? JSON.stringify(result, null, 2) : human);
    return 0;
  }
  if (command === 'mail') {
    need(0, 'innosocial mail [--to ADDRESS] [--show FILE]');
    return mailCommand(config.MAIL_SINK_DIR, { to: values.to, show: values.show, json: values.json }, out);
  }
  const meta = { actor: config.INNOSOCIAL_ACTOR ?? userInfo().username, role: 'operator' as const };
  const { client, close } = await connectClient(config);
  const service = new ApplicationService(client, config);
  const print = (value: unknown, human: string) => out(values.json ? JSON.stringify(value, null, 2) : human);
  try {
    switch (command) {
      case 'apply': {
        need(1, 'innosocial apply <file.json>');
        const { applicationId, view } = await service.apply(readJsonFile(rest[0]!, 'application file'), meta);
        print(view, `registered ${applicationId} (state ${view.state})`);
        return 0;
      }
      case 'show': {
        need(1, 'innosocial show <id>');
        const view = await service.view(rest[0]!);
        print(view, printView(view));
        return 0;
      }
      case 'list':
      case 'export': {
        need(0, `innosocial ${command} [--state S] [--call C] [--body B] [--theme T]`);
        const args = ListArgs.safeParse({ state: values.state, call: values.call, limit: values.limit });
        if (!args.success) {
          const i = args.error.issues[0]!;
          throw new UserError('invalid_input', `--${i.path.join('.')}: ${i.message}`);
        }
        const rows = await service.list({
          state: args.data.state,
          callId: args.data.call,
          body: values.body,
          theme: values.theme as never,
          idPrefix: values['id-prefix'],
          limit: args.data.limit,
        });
        if (command === 'export') {
          out(exportCsv(rows).trimEnd());
          return 0;
        }
        print(
          rows,
          rows.length
            ? rows
                .map(
                  (r) =>
                    `${r.applicationId}  ${r.state.padEnd(13)}  ${(r.implementingBody ?? '-').padEnd(16)}  ${r.startTime.toISOString()}`,
                )
                .join('\n')
            : '(no applications)',
        );
        return 0;
      }
      case 'import': {
        need(1, 'innosocial import <file.csv>');
        let text: string;
        try {
          text = readFileSync(rest[0]!, 'utf8');
        } catch (err) {
          throw new UserError('invalid_input', `cannot read ${rest[0]}: ${(err as NodeJS.ErrnoException).code}`);
        }
        const reports = await importCsv(service, text, meta, progressBar());
        const failed = reports.filter((r) => !r.ok);
        print(
          reports,
          [
            ...reports.map((r) =>
              r.ok ? `row ${r.row}: registered ${r.applicationId}` : `row ${r.row}: NOT registered: ${r.error}`,
            ),
            `${reports.length - failed.length} registered, ${failed.length} not`,
          ].join('\n'),
        );
        return failed.length ? 4 : 0;
      }
      case 'assign':
      case 'log-session':
      case 'confirm-session':
      case 'complete':
      case 'attach':
      case 'submit-pre-project':
      case 'forward':
      case 'fund':
      case 'withdraw': {
        const shortcut = SHORTCUTS[command]!;
        if (rest.length < 1) throw new UserError('invalid_input', `usage: innosocial ${shortcut.usage}`);
        const event = shortcut.build(values, rest.slice(1));
        const view = await service.send(
          rest[0]!,
          event,
          meta,
          values['update-id'] ? { updateId: values['update-id'] } : {},
        );
        print(view, `${event.type} accepted: ${rest[0]} is now ${view!.state}`);
        return 0;
      }
      case 'send': {
        need(2, 'innosocial send <id> <EVENT> [--data file.json]');
        const data = values.data ? readJsonFile(values.data, 'data file') : {};
        if (typeof data !== 'object' || data === null || Array.isArray(data)) {
          throw new UserError('invalid_input', `${values.data}: the payload must be a JSON object`);
        }
        const view = await service.send(rest[0]!, { ...data, type: rest[1] }, meta, {
          mode: values.signal ? 'signal' : 'update',
          ...(values['update-id'] ? { updateId: values['update-id'] } : {}),
        });
        if (view) print(view, `${rest[1]} accepted: ${rest[0]} is now ${view.state}`);
        else print({ delivered: true }, `${rest[1]} delivered as a signal to ${rest[0]}`);
        return 0;
      }
    }
    return 2;
  } finally {
    await close();
  }
}

/** Runs the command line and exits with its code; the `innosocial` bin calls this. */
export function main(argv = process.argv.slice(2)): void {
  run(argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UserError) {
        console.error(`innosocial: ${err.message}`);
        process.exit(exitCodes[err.code]);
      }
      if (err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        console.error(`innosocial: ${(err as Error).message}`);
        process.exit(2);
      }
      console.error(`innosocial: internal error: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}

if (require.main === module) main();
