import { Command, CommanderError, Option } from 'commander';
import { UserError } from '../errors';
import { output, type Output } from './output';

/** One CLI command: its arguments, options, an example for --help, and what it does (loaded only when it runs). */
export interface CommandSpec {
  name: string;
  args?: string;
  description: string;
  /** Runs when its parent is called without a subcommand (`innosocial budget` lists every call's budget). */
  default?: boolean;
  example: string | string[];
  options?: (Option | [flags: string, description: string])[];
  /** Returns the exit code (0 when nothing says otherwise). */
  run: (args: string[], options: Record<string, unknown>, out: Output) => Promise<number | void>;
}

/** The exit code the last command asked for (commander's actions cannot return one). */
export const outcome = { code: 0 };

export function addCommand(parent: Command, spec: CommandSpec): Command {
  const cmd = parent
    .command(spec.args ? `${spec.name} ${spec.args}` : spec.name, { isDefault: spec.default ?? false })
    .description(spec.description);
  for (const o of spec.options ?? []) cmd.addOption(Array.isArray(o) ? new Option(o[0], o[1]) : o);
  if (spec.default && !spec.args) {
    // A misspelt subcommand would reach the default one as an argument ("too many arguments for 'list'"): it is an
    // unknown command, and commander's own message says so with its suggestion ("Did you mean set?").
    parent.hook('preSubcommand', (group, sub) => {
      const first = group.args[0];
      // Named explicitly (`budget list`), the first argument is the subcommand itself.
      if (sub === cmd && first !== undefined && first !== cmd.name() && !first.startsWith('-')) {
        (group as unknown as { unknownCommand(): never }).unknownCommand();
      }
    });
  }
  const examples = Array.isArray(spec.example) ? spec.example : [spec.example];
  cmd.addHelpText('after', `\nExample:\n${examples.map((e) => `  ${e}`).join('\n')}`);
  cmd.action(async (...received: unknown[]) => {
    const self = received[received.length - 1] as Command;
    const positionals = received
      .slice(0, -2)
      .flatMap((a) => (Array.isArray(a) ? a : a === undefined ? [] : [String(a)]));
    const opts = self.optsWithGlobals();
    outcome.code = (await spec.run(positionals, opts, output(Boolean(opts.json)))) ?? 0;
  });
  return cmd;
}

/**
 * Commander's own errors (unknown command or option, a missing argument) are usage errors: exit 2, one line,
 * with its "did you mean" folded in; JSON on stderr under --json.
 */
export function usageError(err: CommanderError): UserError {
  const message = err.message
    .replace(/^error: /, '')
    .replace(/\n+/g, ' ')
    .trim();
  return new UserError('invalid_input', message);
}

export { CommanderError };
