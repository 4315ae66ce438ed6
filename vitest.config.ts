import { defineConfig } from 'vitest/config';

// One test runner for the TypeScript side (STYLE.md: "three test runners where one will do" is an
// anti-pattern). Python's own tests run with unittest from `npm test` as well (see package.json).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real files, real SQLite, real child processes: give them time on a 2-core CI machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    // Says whether the shared corpus is present, so a fresh clone's skipped tests are explained;
    // starts the PostgreSQL cluster the store's tests also run on (or says why they cannot).
    globalSetup: ['test/corpus-notice.ts', 'test/postgres-cluster.ts'],
  },
});
