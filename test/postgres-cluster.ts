/**
 * A throwaway PostgreSQL cluster for one test run (vitest globalSetup), so that the store's tests
 * run against PostgreSQL as well as SQLite on a real server, never a mock. It is made in a temp
 * folder, listens on a Unix socket in that folder only (no TCP port to collide with), runs without
 * fsync (a test cluster need not survive power loss), and is stopped and removed after the run.
 * Each test file makes its own databases in it (test/fixtures/store.ts).
 *
 * Where PostgreSQL's server binaries are absent the PostgreSQL half of the store's tests is
 * skipped, and the run says so and what is missing. `TRIAGE_TEST_POSTGRES_BIN` names another
 * bin folder. initdb and postgres refuse to run as root: as root the cluster runs as the
 * `postgres` system user that Debian's package makes.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test cluster's admin URL (database `postgres`), or null with why there is none. */
    postgres: { url: string } | { url: null; missing: string };
  }
}

const USER = 'triage';

/** The newest installed server's bin folder (Debian: /usr/lib/postgresql/<major>/bin). */
function serverBin(): string | null {
  const named = process.env.TRIAGE_TEST_POSTGRES_BIN;
  if (named) return existsSync(join(named, 'initdb')) ? named : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length ? join(root, majors[0]!, 'bin') : null;
}

export default function postgresCluster(project: TestProject): (() => void) | undefined {
  const bin = serverBin();
  if (!bin) {
    const missing = 'PostgreSQL server binaries (initdb, pg_ctl: Debian package `postgresql`, or TRIAGE_TEST_POSTGRES_BIN)';
    process.stderr.write(`${missing} not found: the store's tests on PostgreSQL are SKIPPED; they run on SQLite only.\n`);
    project.provide('postgres', { url: null, missing });
    return undefined;
  }
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'triage-pg-'));
  const data = join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const run = (tool: string, args: string[]) =>
    execFileSync(asRoot ? 'runuser' : join(bin, tool), asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args, {
      stdio: 'pipe',
      cwd: dir,
    });
  // C collation: ISO-8601 times order by their bytes, as in SQLite.
  run('initdb', ['-D', data, '-U', USER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const serverOptions = [
    "-c listen_addresses=''",
    `-c unix_socket_directories=${dir}`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  run('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', 'start']);
  const url = `postgresql://${USER}@localhost/postgres?host=${encodeURIComponent(dir)}`;
  process.stderr.write(`PostgreSQL test cluster (${bin}) at ${dir}: the store's tests run on PostgreSQL too.\n`);
  project.provide('postgres', { url });
  return () => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
