// ESLint flat config: typescript-eslint with type information for the TypeScript sources, React's hook
// rules for the components, Node globals for the build scripts. `npm run lint` runs it (scripts/test too).
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // contract.gen.ts is generated from the server's JSON Schemas (scripts/gen-types.mjs).
  { ignores: ['dist/', 'node_modules/', 'src/api/contract.gen.ts'] },
  js.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    extends: [tseslint.configs.recommendedTypeChecked, reactHooks.configs.flat.recommended],
    languageOptions: {
      globals: globals.browser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // An event handler may start a promise that handles its own errors (onClick={() => void run()}).
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
    },
  },
  {
    files: ['test/**/*.{ts,tsx}'],
    rules: {
      // Vitest's expect(obj.method).toHaveBeenCalled() passes methods unbound on purpose.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.{js,mjs}'],
    languageOptions: { globals: globals.node },
  },
);
