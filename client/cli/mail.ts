import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors';
import { callApi } from './http';
import { addCommand } from './program';
import { table } from './output';

interface OutboxRow {
  id: string;
  applicationId: string | null;
  recipient: string;
  template: string;
  status: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

export function mailCommands(program: Command) {
  const mail = program.command('mail').description('the notification outbox, and the local mail sink of `npm start`');
  mail.addHelpText('after', '\nExample:\n  innosocial mail --status failed\n  innosocial mail requeue --all-failed');
  addCommand(mail, {
    name: 'list',
    default: true,
    description: 'the outbox (the default): recipient, template, status, attempts and last error',
    example: 'innosocial mail list --status failed',
    options: [
      ['--status <status>', 'pending, sent or failed'],
      ['--application <id>', "one application's messages"],
    ],
    run: async (_a, o, out) => {
      const query = new URLSearchParams(
        Object.entries({ status: o.status, application: o.application }).filter(
          (e): e is [string, string] => typeof e[1] === 'string',
        ),
      );
      const rows = await callApi<OutboxRow[]>('GET', `/mail?${query}`);
      out.print(rows, () =>
        rows.length
          ? table(rows.map((r) => [r.id, r.status, r.template, r.recipient, String(r.attempts), r.lastError ?? '']))
          : '(no messages)',
      );
    },
  });
  addCommand(mail, {
    name: 'requeue',
    args: '[message-id]',
    description: 'put a failed message (or, with --all-failed, every failed one) back in the queue',
    example: ['innosocial mail requeue 42', 'innosocial mail requeue --all-failed'],
    options: [['--all-failed', 'every failed message']],
    run: async ([id], o, out) => {
      if (!id && !o.allFailed) throw new UserError('invalid_input', 'give a message id or --all-failed');
      const r = id
        ? await callApi<{ requeued: string[] }>('POST', `/mail/${encodeURIComponent(id)}/requeue`)
        : await callApi<{ requeued: string[] }>('POST', '/mail/requeue', { allFailed: true });
      out.print(r, `requeued ${r.requeued.length} message(s)${r.requeued.length ? `: ${r.requeued.join(', ')}` : ''}`);
    },
  });
  addCommand(mail, {
    name: 'sink',
    description:
      'the e-mails the local mail sink of `npm start` caught (MAIL_SINK_DIR; development only), oldest first; ' +
      '--show prints one with its text',
    example: [
      'innosocial mail sink --to giulia.ferraris@example.org',
      'innosocial mail sink --show 20261125T231012.345Z-3f2a9c81d0.eml',
    ],
    options: [
      ['--to <address>', 'only the messages to this address'],
      ['--show <file>', 'one message, decoded'],
    ],
    run: async (_a, o, out) => {
      const { loadConfig } = await import('../../config/env');
      const { listSinkMessages, readSinkMessage } = await import('../../notifications/sink');
      const dir = loadConfig().MAIL_SINK_DIR;
      if (typeof o.show === 'string') {
        if (basename(o.show) !== o.show || !o.show.endsWith('.eml')) {
          throw new UserError(
            'invalid_input',
            '--show takes a file name from the list, such as 20261125T231012.345Z-3f2a9c81d0.eml',
          );
        }
        const m = await readSinkMessage(join(dir, o.show)).catch(() => {
          throw new UserError('not_found', `no message ${String(o.show)} in ${dir}`);
        });
        out.print(m, `From: ${m.from}\nTo: ${m.to}\nDate: ${m.date}\nSubject: ${m.subject}\n\n${m.text}`);
        return;
      }
      const to = typeof o.to === 'string' ? o.to.toLowerCase() : null;
      const messages = (await listSinkMessages(dir)).filter((m) => !to || m.to.toLowerCase().includes(to));
      out.print(messages, () =>
        messages.length ? table(messages.map((m) => [m.file, m.to, m.subject])) : `(no messages in ${dir})`,
      );
    },
  });
}
