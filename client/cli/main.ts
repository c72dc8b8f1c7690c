import { Command } from 'commander';
import { ERRORS, UserError } from '../errors';
import { accompanimentCommands } from './accompaniment';
import { applicationCommands } from './applications';
import { importExportCommands } from './import-export';
import { keyCommands } from './keys';
import { mailCommands } from './mail';
import { moneyCommands } from './money';
import { projectCommands } from './projects';
import { exitCodeOf, reportError } from './output';
import { CommanderError, outcome, usageError } from './program';
import { userCommands } from './users';

const exitCodes = [...new Set(Object.values(ERRORS).map((e) => e.exit))].sort();
const explained: Record<number, string> = {
  0: 'ok',
  1: 'system unavailable or internal error',
  2: 'bad usage or input',
  3: 'not found',
  4: 'refused, not eligible or already applied',
  5: 'not allowed for your role',
};

export function program(): Command {
  const p = new Command('innosocial')
    .description('operate InnoSocialMetro applications, through the HTTP API, as the operator your token belongs to')
    .option('--json', 'machine-readable output (errors too, on stderr)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .addHelpText(
      'after',
      [
        '',
        'Environment: INNOSOCIAL_API_URL (default http://127.0.0.1:3000), INNOSOCIAL_TOKEN (default: the operator',
        '             token the first `npm start` wrote in .data/operator.token)',
        `Exit codes:  ${exitCodes.map((c) => `${c} ${explained[c] ?? ''}`).join(', ')}`,
        '',
        'Example:',
        '  innosocial apply examples/application.json && innosocial list --state submitted',
      ].join('\n'),
    );
  applicationCommands(p);
  accompanimentCommands(p);
  moneyCommands(p);
  projectCommands(p);
  importExportCommands(p);
  userCommands(p);
  mailCommands(p);
  keyCommands(p);
  return p;
}

/** Runs the command line and exits with its code; the `innosocial` bin calls this. */
export async function main(argv = process.argv.slice(2)): Promise<never> {
  // `innosocial list | head`: the reader has gone, which is no error of ours.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(outcome.code);
  });
  const json = argv.includes('--json');
  try {
    await program().parseAsync(argv, { from: 'user' });
    process.exit(outcome.code);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version')
        process.exit(0);
      const usage = usageError(err);
      reportError(usage, json);
      process.exit(exitCodeOf(usage));
    }
    const known =
      err instanceof UserError
        ? err
        : new UserError('internal', `internal error: ${err instanceof Error ? err.message : String(err)}`);
    reportError(known, json);
    process.exit(exitCodeOf(known));
  }
}

if (require.main === module) void main();
