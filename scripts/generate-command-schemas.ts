import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { commandPayloads } from '../machines/events';
import { projectCommandPayloads } from '../machines/project.events';

/**
 * The JSON Schemas of the command payloads, as workflow code checks them (workflows/check.ts) without zod.
 * Generated from machines/events.ts, the one definition; tests/unit/command-check.test.ts fails when they drift.
 */
export function commandSchemas(payloads: Record<string, unknown> = commandPayloads): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(payloads).map(([type, schema]) => {
      const { $schema: _, ...json } = z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' });
      return [type, json];
    }),
  );
}

export const COMMAND_SCHEMAS_FILE = path.join(__dirname, '..', 'workflows', 'command-schemas.json');
export const PROJECT_COMMAND_SCHEMAS_FILE = path.join(__dirname, '..', 'workflows', 'project-command-schemas.json');

/** Each generated file and what it holds: the application's commands and the funded project's. */
export const GENERATED = {
  [COMMAND_SCHEMAS_FILE]: () => commandSchemas(commandPayloads),
  [PROJECT_COMMAND_SCHEMAS_FILE]: () => commandSchemas(projectCommandPayloads),
};

if (require.main === module) {
  for (const [file, schemas] of Object.entries(GENERATED)) {
    writeFileSync(file, `${JSON.stringify(schemas(), null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}
