import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.data/**',
      '.tools/**',
      'coverage/**',
      'eslint.config.mjs',
      'jest.config.js',
      'bin/**',
      'scripts/bootstrap.mjs',
      'scratch/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, and activities only as types.
    files: ['workflows/**/*.ts', 'machines/**/*.ts', 'domain/**/*.ts'],
    ignores: ['domain/media-type.ts'],
    rules: { 'no-restricted-imports': ['error', sandboxImports()] },
  },
  {
    // ...and no zod at run time: commands are validated at the door; workflow code checks them against the JSON
    // Schemas generated from the door's schemas (workflows/check.ts). Types from the schema modules are fine.
    // tests/unit/command-check.test.ts greps the built bundle for what this rule cannot see (transitive imports).
    files: ['workflows/**/*.ts', 'machines/**/*.ts'],
    ignores: ['machines/events.ts', 'machines/project.events.ts'],
    rules: { 'no-restricted-imports': ['error', sandboxImports({ zod: true })] },
  },
  {
    // prettier formats to 120 columns; this catches what it cannot break (long strings, comments).
    files: ['**/*.ts'],
    rules: {
      'max-len': [
        'error',
        {
          code: 120,
          ignoreUrls: true,
          ignoreRegExpLiterals: true,
          ignoreStrings: true,
          ignoreTemplateLiterals: true,
          ignorePattern: '^import ',
        },
      ],
    },
  },
);

/** The sandbox's import restrictions; one rule setting per file (a later block replaces, never merges, options). */
function sandboxImports({ zod = false } = {}) {
  const door = 'validates at the door with zod; import its types only (`import type`)';
  return {
    paths: [
      ...nodeBuiltins.map((name) => ({
        name,
        message: 'Node built-ins are not deterministic; not in workflow code.',
      })),
      ...(zod
        ? [
            {
              name: 'zod',
              message: 'No zod in the workflow bundle: check with workflows/check.ts.',
              allowTypeImports: true,
            },
          ]
        : []),
    ],
    patterns: [
      {
        group: ['**/activities', '**/activities/*'],
        message: 'Import activities with `import type` and call them through proxyActivities.',
        allowTypeImports: true,
      },
      ...(zod
        ? [
            { group: ['zod/*'], message: 'No zod in the workflow bundle.', allowTypeImports: true },
            {
              group: ['**/machines/events', '**/machines/project.events', './events', './project.events'],
              message: `machines/events.ts ${door}.`,
              allowTypeImports: true,
            },
            {
              group: ['**/domain/application', '**/domain/rules', '**/domain/themes'],
              message: `This module ${door}.`,
              allowTypeImports: true,
            },
          ]
        : []),
    ],
  };
}
