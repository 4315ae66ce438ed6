// Layer rules (STYLE.md habit 1): where code runs decides what it may import. A rule is never
// loosened case by case; an exception carries its reason in an eslint-disable comment.
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

const nodeBuiltins = [
  'fs', 'fs/promises', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'net', 'http',
  'stream', 'zlib', 'url', 'util', 'events', 'readline', 'buffer',
].flatMap((m) => [m, `node:${m}`]);

const NO_ELECTRON = { name: 'electron', message: 'Only src/main/electron may import electron: the core must run under plain Node.' };
const NO_RENDERER = { group: ['**/renderer/**'], message: 'main never imports the renderer.' };
const NO_SQLITE = { name: 'better-sqlite3', message: 'Only src/main/store speaks SQL: use a repository of the Store.' };
const NO_STORE_HANDLE = {
  group: ['**/store/index.js'],
  importNames: ['Db', 'SqlHandle', 'openDatabase', 'openPostgres'],
  message: 'Only src/main/store holds the database handle: use a repository of the Store.',
};

// The stages of src/main (ARCHITECTURE.md), each a folder whose index.ts is its public face.
const STAGES = ['api', 'assemble', 'cli', 'dicom', 'electron', 'evaluate', 'inference', 'ingest', 'metrics', 'receive', 'server', 'store', 'triage', 'watch', 'workers', 'workstation-thread'];
const SECOND_ENTRY_POINTS = {
  // loads onnxruntime-node: the read-only commands and the API's readers import the stage's index
  // and must not pay for the runtime
  inference: ['./attach.ts'],
  // the `serve` command and the demo screen start the HTTP server with a workstation behind it:
  // server/index.ts is the HTTP layer they build on, so it cannot also re-export them
  server: ['./cli.ts', './demo.ts'],
  // Electron's own entry points, loaded by Electron, not imported
  electron: ['./main.ts', './preload.ts'],
};

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
    // A stage is used through its index.ts: another stage (or a top-level module) never reaches
    // into its files, so a stage can be rearranged inside without breaking its callers. The named
    // second entry points keep heavy modules out of light callers (reasons beside each).
    files: ['src/main/**/*.ts'],
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-restricted-paths': ['error', {
        zones: STAGES.map((stage) => ({
          target: [`./src/main/!(${stage})/**/*`, './src/main/*.ts'],
          from: `./src/main/${stage}`,
          except: ['./index.ts', ...(SECOND_ENTRY_POINTS[stage] ?? [])],
          message: `import the ${stage} stage through its index.ts`,
        })),
      }],
    },
  },
  {
    // The core runs under plain Node: only src/main/electron may touch Electron. Only the store
    // speaks SQL: the rest of main reaches the database through the Store's repositories, never
    // through SQLite or the store's database handle.
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/electron/**', 'src/main/store/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_ELECTRON, NO_SQLITE], patterns: [NO_RENDERER, NO_STORE_HANDLE] }] },
  },
  {
    files: ['src/main/electron/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_SQLITE], patterns: [NO_STORE_HANDLE] }] },
  },
  {
    // SQLite is the store's own business.
    files: ['src/main/store/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_ELECTRON], patterns: [NO_RENDERER] }] },
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
