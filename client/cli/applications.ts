import type { Command } from 'commander';
import { UserError } from '../errors';
import type { ApplicationList, Registration } from './answers';
import { readJsonFile } from './files';
import { applicationId, callApi, path_ } from './http';
import { addCommand } from './program';
import { filterOptions, filterQuery } from './filters';
import { printList, printView } from './views';
import type { ApplicationView } from '../service/register';

export function applicationCommands(program: Command) {
  addCommand(program, {
    name: 'apply',
    args: '<file.json>',
    description:
      'register an application (the form as JSON, see examples/application.json) and report its eligibility: ' +
      'exit 0 eligible, 4 not eligible (every reason listed) or already applied',
    example: 'innosocial apply examples/application.json',
    run: async ([file], _o, out) => {
      const r = await callApi<Registration>('POST', '/applications', readJsonFile(file!, 'application file'));
      out.print(r, () =>
        r.eligible
          ? `registered ${r.applicationId}: eligible (${r.sizeClass} enterprise)`
          : [
              `registered ${r.applicationId}: NOT eligible, rejected:`,
              ...r.reasons.map((x) => `  ${x.field}: ${x.message}`),
            ].join('\n'),
      );
      return r.eligible ? 0 : 4;
    },
  });

  addCommand(program, {
    name: 'show',
    args: '<id>',
    description: 'state, company, facts, documents, the commands possible now, and the timeline, from the register',
    example: 'innosocial show innosocialmetro-2023.0123456789abcdef0123',
    run: async ([id], _o, out) => {
      const view = await callApi<ApplicationView>('GET', path_('applications', applicationId(id!)));
      out.print(view, () => printView(view));
    },
  });

  addCommand(program, {
    name: 'list',
    description: 'applications in the register, filtered (every filter combines), a page at a time',
    example: ['innosocial list --state commission --theme environment', 'innosocial list --due 2026-12-31'],
    options: [
      ...filterOptions(),
      ['--limit <n>', 'at most this many (default 100)'],
      ['--after <cursor>', 'the page after this cursor'],
    ],
    run: async (_a, o, out) => {
      const page = await callApi<ApplicationList>('GET', `/applications?${await filterQuery(o, true)}`);
      out.print(page, () => printList(page.items) + (page.next ? `\n(more: --after ${page.next})` : ''));
    },
  });

  addCommand(program, {
    name: 'find',
    description: 'the application(s) of a company, by partita IVA or by part of its legal name',
    example: ['innosocial find --vat 01234567897', 'innosocial find --name "officina sociale"'],
    options: [
      ['--vat <partita IVA>', "the company's partita IVA (11 digits)"],
      ['--name <text>', "part of the company's legal name"],
    ],
    run: async (_a, o, out) => {
      if (!o.vat && !o.name) throw new UserError('invalid_input', 'give --vat or --name');
      const page = await callApi<ApplicationList>('GET', `/applications?${await filterQuery(o, true)}`);
      out.print(page.items, () => printList(page.items));
      return page.items.length ? 0 : 3;
    },
  });

  addCommand(program, {
    name: 'send',
    args: '<id> <EVENT>',
    description:
      'any command as JSON (--data: the payload without "type"), as an Update; --signal delivers it without waiting',
    example: ['innosocial send <id> COMPLETE_ACCOMPANIMENT', 'innosocial send <id> WITHDRAW --data withdraw.json'],
    options: [
      ['--data <file.json>', 'the payload, a JSON object'],
      ['--signal', 'fire and forget'],
      ['--update-id <key>', 'a retried send counts once'],
    ],
    run: async ([id, type], o, out) => {
      const data = o.data ? readJsonFile(String(o.data), 'data file') : {};
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw new UserError('invalid_input', `${String(o.data)}: the payload must be a JSON object`);
      }
      const headers = {
        ...(o.signal ? { prefer: 'respond-async' } : {}),
        ...(o.updateId ? { 'idempotency-key': String(o.updateId) } : {}),
      };
      const answer = await callApi<ApplicationView | { delivered: true }>(
        'POST',
        `${path_('applications', applicationId(id!))}/commands`,
        { ...data, type },
        headers,
      );
      out.print(
        answer,
        'state' in answer ? `${type} accepted: ${id} is now ${answer.state}` : `${type} delivered as a signal to ${id}`,
      );
    },
  });

  addCommand(program, {
    name: 'diagram',
    description: "the application's state machine (or, with --project, the funded project's) as a Mermaid diagram",
    example: 'innosocial diagram --project > project.mmd',
    options: [['--project', "the funded project's machine instead of the application's"]],
    run: async (_a, o, out) => {
      const { mermaidDiagram } = await import('../../machines/diagram');
      const machine = o.project ? (await import('../../machines/project.machine')).projectMachine : undefined;
      const diagram = mermaidDiagram(machine);
      out.print(diagram, diagram);
    },
  });
}
