import { readFileSync } from 'node:fs';
import { UserError } from '../errors';

/** Reads a file a person named: a clear error saying which file and why, never a stack trace. */
export function readFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UserError(
      'invalid_input',
      `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export function readJsonFile(file: string, what: string): unknown {
  const text = readFile(file, what).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError('invalid_input', `${file} is not valid JSON: ${(err as Error).message}`);
  }
}
