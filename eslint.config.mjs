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
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Node built-ins are not deterministic; not in workflow code.',
          })),
          patterns: [
            {
              group: ['**/activities', '**/activities/*'],
              message: 'Import activities with `import type` and call them through proxyActivities.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // Commands are validated at the doors and re-checked in the workflow against generated JSON schemas
    // (workflows/check.ts): the zod schemas stay out of the workflow bundle, which every cached workflow pays for.
    files: ['workflows/**/*.ts', 'machines/**/*.ts'],
    ignores: ['machines/events.ts', 'machines/project.events.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Node built-ins are not deterministic; not in workflow code.',
          })),
          patterns: [
            {
              group: ['**/activities', '**/activities/*'],
              message: 'Import activities with `import type` and call them through proxyActivities.',
              allowTypeImports: true,
            },
            {
              group: [
                'zod',
                '**/events',
                '**/project.events',
                '**/domain/application',
                '**/domain/themes',
                '**/domain/rules',
              ],
              message: 'zod schemas stay out of the workflow bundle; import their types only (`import type`).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
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
