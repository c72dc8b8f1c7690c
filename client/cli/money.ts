import type { Command } from 'commander';
import type { BudgetOverview } from '../../db/repositories/budget';
import { formatEuro, parseEuro } from '../../domain/format';
import type { ApplicationView } from '../service/register';
import { UserError } from '../errors';
import { applicationId, callApi, path_ } from './http';
import { addCommand } from './program';

/** An amount as people write it; one that is not is a usage error naming the option (parseEuro throws). */
const euros = (value: unknown, flag: string) => {
  try {
    return parseEuro(String(value ?? ''));
  } catch {
    throw new UserError(
      'invalid_input',
      `${flag}: "${String(value ?? '')}" is not an amount in euro such as 40000, 40000.50 or 40.000,50`,
    );
  }
};
const e = (cents: number) => formatEuro(cents, 'it');

function budgetText(b: BudgetOverview): string {
  return [
    `call ${b.callId}: total ${e(b.totalCents)}, committed ${e(b.committedCents)}, available ${e(b.availableCents)}`,
    `  reserved: ${b.reserved.length}, disbursed: ${b.consumed.length}, waiting: ${b.waiting.length}`,
    ...b.waiting.map((w) => `  #${w.position}  ${w.applicationId}  ${e(w.amountCents)}`),
  ].join('\n');
}

export function moneyCommands(program: Command) {
  addCommand(program, {
    name: 'fund',
    args: '<id>',
    description: 'record the disbursement: at most the admitted amount, once the money is reserved',
    example: 'innosocial fund <id> --amount 40000 --date 2026-11-25',
    options: [
      ['--amount <EUR>', 'the amount disbursed, in euro (40000 or 40000,50)'],
      ['--date <YYYY-MM-DD>', 'the day it was disbursed'],
    ],
    run: async ([id], o, out) => {
      const body = { amountCents: euros(o.amount, '--amount'), disbursedOn: String(o.date ?? '') };
      const view = await callApi<ApplicationView>('POST', `${path_('applications', applicationId(id!))}/funding`, body);
      out.print(view, `RECORD_FUNDING accepted: ${id} is now ${view.state}`);
    },
  });

  addCommand(program, {
    name: 'withdraw',
    args: '<id>',
    description: "record the company's withdrawal (rinuncia); money reserved for it goes back to the call",
    example: 'innosocial withdraw <id> --reason "the company renounces"',
    options: [['--reason <text>', 'why, in the company’s words']],
    run: async ([id], o, out) => {
      const view = await callApi<ApplicationView>('POST', `${path_('applications', applicationId(id!))}/withdrawal`, {
        reason: String(o.reason ?? ''),
      });
      out.print(view, `WITHDRAW accepted: ${id} is now ${view.state}`);
    },
  });

  const budget = program.command('budget').description("calls' budgets: every call's, one call's, or set one");
  budget.addHelpText('after', '\nExample:\n  innosocial budget\n  innosocial budget show --call innosocialmetro-2023');
  addCommand(budget, {
    name: 'list',
    default: true,
    description: "every call's budget (the default): total, committed, available, the reserve list",
    example: 'innosocial budget list',
    run: async (_a, _o, out) => {
      const all = await callApi<BudgetOverview[]>('GET', '/budgets');
      out.print(all, () => (all.length ? all.map(budgetText).join('\n') : '(no call has a budget yet)'));
    },
  });
  addCommand(budget, {
    name: 'show',
    description: "one call's budget",
    example: 'innosocial budget show --call innosocialmetro-2023',
    options: [['--call <id>', 'the call']],
    run: async (_a, o, out) => {
      const b = await callApi<BudgetOverview>('GET', `${path_('calls', String(o.call ?? ''))}/budget`);
      out.print(b, () => budgetText(b));
    },
  });
  addCommand(budget, {
    name: 'set',
    description:
      "set a call's budget: raising it promotes the reserve list; lowering it below what is committed is refused",
    example: 'innosocial budget set --call innosocialmetro-2024 --total 490000',
    options: [
      ['--call <id>', 'the call'],
      ['--total <EUR>', 'the new total, in euro'],
    ],
    run: async (_a, o, out) => {
      const b = await callApi<BudgetOverview & { promoted: string[] }>(
        'PUT',
        `${path_('calls', String(o.call ?? ''))}/budget`,
        {
          totalCents: euros(o.total, '--total'),
        },
      );
      out.print(
        b,
        () =>
          `${budgetText(b)}${b.promoted.length ? `\npromoted from the reserve list: ${b.promoted.join(', ')}` : ''}`,
      );
    },
  });
}
