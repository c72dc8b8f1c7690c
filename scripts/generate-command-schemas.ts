import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { commandPayloads } from '../machines/events';

/**
 * The JSON Schemas of the command payloads, as workflow code checks them (workflows/check.ts) without zod.
 * Generated from machines/events.ts, the one definition; tests/unit/command-check.test.ts fails when they drift.
 */
export function commandSchemas(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(commandPayloads).map(([type, schema]) => {
      const { $schema: _, ...json } = z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' });
      return [type, json];
    }),
  );
}

export const COMMAND_SCHEMAS_FILE = path.join(__dirname, '..', 'workflows', 'command-schemas.json');

if (require.main === module) {
  writeFileSync(COMMAND_SCHEMAS_FILE, `${JSON.stringify(commandSchemas(), null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), COMMAND_SCHEMAS_FILE)}`);
}
