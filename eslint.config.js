// Type-checked lint: typescript-eslint's strictest preset, plus the fence that keeps the
// core pure (the same rule src/core/purity.test.ts checks).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/results/', 'coverage/'] },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'pino', 'p-retry', 'dns-packet', 'prom-client', '../*'],
              message: 'src/core stays pure: do I/O in an adapter.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'process', 'console'],
    },
  },
  {
    // The pass's decisions: values from the core (and each other) only, types from anywhere.
    files: ['src/agent/decide.ts', 'src/agent/checks.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                'pino',
                'p-retry',
                'dns-packet',
                'prom-client',
                '../haproxy/*',
                '../dns/*',
                '../config/*',
                '../cli/*',
                '../observability/*',
                '../errors.ts',
                './*',
                '!./checks.ts',
                '!./decide.ts',
              ],
              allowTypeImports: true,
              message: 'the pass decisions stay pure: observe and act in the lanes.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'process', 'console'],
    },
  },
  {
    // V8 puts every spread argument on the stack: a spread of a collection sized by DNS, a
    // socket, a file or a client can end the process (RangeError). Loops instead; a spread of
    // a fixed, small size says why in a disable comment.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression > SpreadElement',
          message: 'no spread into call arguments (each element goes on the stack): use a loop, or say why the size is small and fixed.',
        },
        {
          selector: 'NewExpression > SpreadElement',
          message:
            'no spread into constructor arguments (each element goes on the stack): use a loop, or say why the size is small and fixed.',
        },
      ],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
