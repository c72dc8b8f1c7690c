import path from 'node:path';
import { Option, type Command } from 'commander';
import type { ApplicationView } from '../service/register';
import { UserError } from '../errors';
import { readFile, readJsonFile } from './files';
import { applicationId, callApi, path_ } from './http';
import { addCommand } from './program';
import { table } from './output';

const DATE_HINT = 'a date as YYYY-MM-DD, e.g. 2026-11-25';
const date = (value: unknown, flag: string) => {
  const v = String(value ?? '');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new UserError('invalid_input', `${flag}: "${v}" is not ${DATE_HINT}`);
  return v;
};
const need = (value: unknown, flag: string) => {
  if (typeof value !== 'string' || value === '') throw new UserError('invalid_input', `${flag} is required`);
  return value;
};

/** Posts a command route for an application and reports where it now stands. */
async function act(id: string, route: string, body: unknown, out: import('./output').Output, what: string) {
  const view = await callApi<ApplicationView>('POST', `${path_('applications', applicationId(id))}/${route}`, body);
  out.print(view, `${what} accepted: ${id} is now ${view.state}`);
}

export function accompanimentCommands(program: Command) {
  addCommand(program, {
    name: 'assign',
    args: '<id>',
    description:
      'assign an implementing body and its consultant (who joins the registry on first assignment); --date is the ' +
      'day the assignment was decided (default today; not before the submission, never in the future)',
    example:
      'innosocial assign <id> --body socialfare --consultant-name "Marco Bianchi" ' +
      '--consultant-email marco@socialfare.example.org --date 2026-11-25',
    options: [
      ['--body <id>', 'the implementing body (innosocial bodies lists them)'],
      ['--consultant-name <name>', "the consultant's name"],
      ['--consultant-email <address>', "the consultant's e-mail: their identity in the registry"],
      ['--date <YYYY-MM-DD>', 'when the assignment was decided'],
    ],
    run: async ([id], o, out) =>
      act(
        id!,
        'assignment',
        {
          implementingBody: need(o.body, '--body'),
          consultant: {
            name: need(o.consultantName, '--consultant-name'),
            email: need(o.consultantEmail, '--consultant-email'),
          },
          ...(o.date ? { effectiveOn: date(o.date, '--date') } : {}),
        },
        out,
        'ASSIGN_BODY',
      ),
  });

  addCommand(program, {
    name: 'log-session',
    args: '<id>',
    description: 'log an accompaniment session (it must have taken place); the company is e-mailed how to confirm it',
    example:
      'innosocial log-session <id> --date 2026-11-25 --start 09:00 --end 13:00 --topic "impact map" --attendee "Giulia Ferraris"',
    options: [
      ['--date <YYYY-MM-DD>', 'the day of the session'],
      ['--start <HH:MM>', 'when it started (Italian time)'],
      ['--end <HH:MM>', 'when it ended'],
      ['--topic <text>', 'what it was about'],
      new Option('--attendee <name>', 'who attended (repeat for each)').argParser((v: string, prev: string[] = []) => [
        ...prev,
        v,
      ]),
    ],
    run: async ([id], o, out) =>
      act(
        id!,
        'sessions',
        {
          session: {
            date: date(o.date, '--date'),
            start: need(o.start, '--start'),
            end: need(o.end, '--end'),
            topic: need(o.topic, '--topic'),
            attendees: (o.attendee as string[] | undefined) ?? [],
          },
        },
        out,
        'LOG_SESSION',
      ),
  });

  for (const [name, event, what] of [
    ['confirm-session', 'CONFIRM_SESSION', 'confirms'],
    ['dispute-session', 'DISPUTE_SESSION', 'says did not take place'],
  ] as const) {
    addCommand(program, {
      name,
      args: '<id>',
      description: `record what the company ${what}, with the code it received by e-mail (it told you the code)`,
      example: `innosocial ${name} <id> --date 2026-11-25 --start 09:00 --code 042917`,
      options: [
        ['--date <YYYY-MM-DD>', 'the day of the session'],
        ['--start <HH:MM>', 'when it started'],
        ['--code <NNNNNN>', 'the 6-digit code from the e-mail'],
      ],
      run: async ([id], o, out) => {
        const body = {
          type: event,
          date: date(o.date, '--date'),
          start: need(o.start, '--start'),
          code: need(o.code, '--code'),
        };
        const view = await callApi<ApplicationView>(
          'POST',
          `${path_('applications', applicationId(id!))}/commands`,
          body,
        );
        out.print(view, `${event} accepted: ${id} is now ${view.state}`);
      },
    });
  }

  addCommand(program, {
    name: 'resend-code',
    args: '<id>',
    description: 'issue a new confirmation code and link for a session (the old ones stop working, attempts reset)',
    example: 'innosocial resend-code <id> --date 2026-11-25 --start 09:00',
    options: [
      ['--date <YYYY-MM-DD>', 'the day of the session'],
      ['--start <HH:MM>', 'when it started'],
    ],
    run: async ([id], o, out) =>
      act(
        id!,
        'sessions/resend-code',
        { date: date(o.date, '--date'), start: need(o.start, '--start') },
        out,
        'RESEND_SESSION_CODE',
      ),
  });

  addCommand(program, {
    name: 'complete',
    args: '<id>',
    description:
      'close the accompaniment (refused, naming the sessions not counted, until the minimum hours are confirmed)',
    example: 'innosocial complete <id>',
    run: async ([id], _o, out) => act(id!, 'accompaniment/complete', undefined, out, 'COMPLETE_ACCOMPANIMENT'),
  });

  addCommand(program, {
    name: 'attach',
    args: '<id> <file>',
    description: 'upload a document (PDF, ODT, DOCX or signed P7M) to an application',
    example: 'innosocial attach <id> pre-progetto.pdf --kind pre_project',
    options: [
      ['--kind <kind>', 'pre_project, attachment, integration, funding, evidence or invoice (default attachment)'],
    ],
    run: async ([id, file], o, out) => {
      const bytes = readFile(file!, 'document');
      const document = {
        kind: String(o.kind ?? 'attachment'),
        filename: path.basename(file!),
        contentBase64: bytes.toString('base64'),
      };
      await act(id!, 'documents', { document }, out, 'ATTACH_DOCUMENT');
    },
  });

  addCommand(program, {
    name: 'submit-pre-project',
    args: '<id> <pre-project.json>',
    description: 'submit (a new version of) the pre-project, see examples/pre-project.json',
    example: 'innosocial submit-pre-project <id> examples/pre-project.json',
    run: async ([id, file], _o, out) => {
      const data = readJsonFile(file!, 'pre-project file') as { preProject?: unknown };
      await act(id!, 'pre-project', { preProject: data.preProject ?? data }, out, 'SUBMIT_PRE_PROJECT');
    },
  });

  addCommand(program, {
    name: 'forward',
    args: '<id>',
    description: 'forward the latest pre-project to the commission (that version becomes immutable)',
    example: 'innosocial forward <id>',
    run: async ([id], _o, out) => act(id!, 'forward', undefined, out, 'FORWARD_TO_COMMISSION'),
  });

  addCommand(program, {
    name: 'bodies',
    description: 'the implementing bodies and their consultants (the registry)',
    example: 'innosocial bodies',
    run: async (_a, _o, out) => {
      type Body = { id: string; name: string; active: boolean; consultants: { name: string; email: string }[] };
      const bodies = await callApi<Body[]>('GET', '/bodies');
      out.print(bodies, () =>
        bodies
          .map(
            (b) =>
              `${b.id}  ${b.name}${b.active ? '' : ' (inactive)'}` +
              (b.consultants.length ? `\n${table(b.consultants.map((c) => ['   ', c.name, c.email]))}` : ''),
          )
          .join('\n'),
      );
    },
  });
}
