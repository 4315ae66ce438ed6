/**
 * The run's PostgreSQL test cluster (vitest globalSetup): a throwaway cluster (postgres-server.ts)
 * for one test run, so that the store's tests run against PostgreSQL as well as SQLite on a real
 * server, never a mock; stopped and removed after the run. Each test file makes its own databases
 * in it (test/fixtures/store.ts).
 *
 * Where PostgreSQL's server binaries are absent the PostgreSQL half of the store's tests is
 * skipped, and the run says so and what is missing.
 */
import type { TestProject } from 'vitest/node';
import { startThrowawayCluster } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test cluster's admin URL (database `postgres`), or null with why there is none. */
    postgres: { url: string } | { url: null; missing: string };
  }
}

export default function postgresCluster(project: TestProject): (() => void) | undefined {
  const cluster = startThrowawayCluster();
  if ('missing' in cluster) {
    process.stderr.write(`${cluster.missing} not found: the store's tests on PostgreSQL are SKIPPED; they run on SQLite only.\n`);
    project.provide('postgres', { url: null, missing: cluster.missing });
    return undefined;
  }
  process.stderr.write(`PostgreSQL test cluster (${cluster.bin}) at ${cluster.dir}: the store's tests run on PostgreSQL too.\n`);
  project.provide('postgres', { url: cluster.url });
  return () => cluster.stop();
}
