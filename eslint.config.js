import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Logs must never carry what a person typed: all logging goes through bot/privacy/logger.ts.
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Command-line tools talk to a person on a terminal; that is their job.
    files: ['bot/cli/**', 'tests/bench/**'],
    rules: { 'no-console': 'off' },
  },
);
