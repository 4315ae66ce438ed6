// Layer rules (STYLE.md habit 1): where code runs decides what it may import. A rule is never
// loosened case by case; an exception carries its reason in an eslint-disable comment.
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

const nodeBuiltins = [
  'fs', 'fs/promises', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'net', 'http',
  'stream', 'zlib', 'url', 'util', 'events', 'readline', 'buffer',
].flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'out/**', 'models/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // No import cycles anywhere in src: a stage that imports back into its caller cannot be
    // understood, tested or replaced on its own. Imports name './x.js' for './x.ts' (NodeNext).
    files: ['src/**/*.ts', 'src/**/*.tsx', 'bench/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js'], extensionAlias: { '.js': ['.ts', '.tsx', '.js'] } })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // The core runs under plain Node: only src/main/electron may touch Electron.
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/electron/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Only src/main/electron may import electron: the core must run under plain Node.' }], patterns: [{ group: ['**/renderer/**'], message: 'main never imports the renderer.' }] }],
    },
  },
  {
    // The shared contract is pure TypeScript that both processes compile against.
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['electron', ...nodeBuiltins], patterns: [{ group: ['**/main/**', '**/renderer/**', '**/preload/**'], message: 'src/shared depends on nothing but itself.' }] }],
    },
  },
  {
    // The renderer sees only the typed API: no Node, no files, no SQL, no main-process code.
    files: ['src/renderer/**/*.ts', 'src/renderer/**/*.tsx'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['electron', 'better-sqlite3', 'onnxruntime-node', ...nodeBuiltins], patterns: [{ group: ['**/main/**', '**/preload/**'], message: 'The renderer talks to main only through the API in src/shared.' }] }],
    },
  },
);
