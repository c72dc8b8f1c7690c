import { ERRORS, UserError } from '../errors';

/** How a command speaks: JSON under --json (errors too, on stderr), words otherwise; one line per error. */
export interface Output {
  json: boolean;
  print(value: unknown, human: string | (() => string)): void;
}

export const output = (json: boolean, write: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Output => ({
  json,
  print: (value, human) => write(json ? JSON.stringify(value, null, 2) : typeof human === 'function' ? human() : human),
});

/** The exit code of an error: from the one table of error codes (client/errors.ts). */
export const exitCodeOf = (err: UserError) => ERRORS[err.code].exit;

export function reportError(err: UserError, json: boolean) {
  process.stderr.write(
    json
      ? `${JSON.stringify({ error: { code: err.code, message: err.message, errors: err.details } })}\n`
      : `innosocial: ${err.message}\n`,
  );
}

/** A table for the terminal: columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
