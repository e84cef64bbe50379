import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test-output/**', 'bench-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', __dirname: 'readonly', window: 'readonly', document: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // Only the Electron shell, the IPC registrar and the preload may value-import electron.
    files: ['main/**/*.ts', 'renderer/**/*.ts', 'renderer/**/*.tsx', 'test/**/*.ts'],
    ignores: ['main/electron/**', 'main/ipc/register.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Only main/electron/, main/ipc/register.ts and preload/ may value-import electron.', allowTypeImports: true }] },
      ],
    },
  },
  {
    // The renderer is a web page: of main/ it may value-import only main/common/ (pure code that runs anywhere).
    // The IPC contract stays type-only: its zod schemas are the main process's door check, not the page's.
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer never imports electron.', allowTypeImports: true }],
          patterns: [
            {
              regex: '^(\\.\\./)+main/(?!common/)',
              message: 'The renderer may value-import only main/common/ from main/ (type-only imports of main/ipc/contract are fine).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // main/common/ runs anywhere (main, CLI, renderer): it imports nothing but itself.
    files: ['main/common/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./|node:|[a-z@])', message: 'main/common/ is pure: import only from main/common/.' }] },
      ],
    },
  },
);
