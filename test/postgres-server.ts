/**
 * A throwaway PostgreSQL cluster: made in a temp folder, listening on a Unix socket in that folder
 * only (no TCP port to collide with), run without fsync (it need not survive power loss), stopped
 * and removed by `stop()`. A fault test halts and restarts its own cluster (`halt`, `restart`) as a
 * server restart or crash would, on the same data and socket. The store's tests run on one (test/postgres-cluster.ts, a vitest
 * globalSetup) and so does the benchmark's PostgreSQL half (bench/worklist.ts), so both measure
 * and test a real server, never a mock.
 *
 * Where PostgreSQL's server binaries are absent there is no cluster, and the answer says what is
 * missing. `TRIAGE_TEST_POSTGRES_BIN` names another bin folder. initdb and postgres refuse to run
 * as root: as root the cluster runs as the `postgres` system user that Debian's package makes.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ThrowawayCluster {
  /** The admin URL (superuser, database `postgres`) over the cluster's Unix socket. */
  url: string;
  /** The server's bin folder, and the folder that holds the cluster, its socket and its log. */
  bin: string;
  dir: string;
  /** Stops the server at once and removes its folder. */
  stop(): void;
  /**
   * Stops the server and keeps its data: 'fast' as an administrator's restart does (sessions are
   * ended), 'immediate' as a crash does (no shutdown checkpoint; recovery at the next start).
   */
  halt(mode: 'fast' | 'immediate'): void;
  /** Starts a halted server again on the same data folder and socket; returns once it accepts connections. */
  restart(): void;
}

export interface ClusterOptions {
  /**
   * Keep every acknowledged commit through a server crash (halt('immediate')): commits wait for
   * their WAL to be written (synchronous_commit on). fsync stays off: the machine itself does not
   * crash in a test, and the WAL the server wrote is in the page cache.
   */
  crashSafe?: boolean;
}

export const POSTGRES_BINARIES_MISSING =
  'PostgreSQL server binaries (initdb, pg_ctl: Debian package `postgresql`, or TRIAGE_TEST_POSTGRES_BIN)';

const USER = 'triage';

/** The newest installed server's bin folder (Debian: /usr/lib/postgresql/<major>/bin). */
export function serverBin(): string | null {
  const named = process.env.TRIAGE_TEST_POSTGRES_BIN;
  if (named) return existsSync(join(named, 'initdb')) ? named : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length ? join(root, majors[0]!, 'bin') : null;
}

/** A started cluster, or what is missing for one. */
export function startThrowawayCluster(options: ClusterOptions = {}): ThrowawayCluster | { missing: string } {
  const bin = serverBin();
  if (!bin) return { missing: POSTGRES_BINARIES_MISSING };
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
  const serverOptions = [
    "-c listen_addresses=''",
    `-c unix_socket_directories=${dir}`,
    '-c fsync=off',
    ...(options.crashSafe ? [] : ['-c synchronous_commit=off']),
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  const start = () => run('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', 'start']);
  try {
    // C collation: ISO-8601 times order by their bytes, as in SQLite.
    run('initdb', ['-D', data, '-U', USER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `postgresql://${USER}@localhost/postgres?host=${encodeURIComponent(dir)}`,
    bin,
    dir,
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Halted already (a fault test that failed between halt and restart).
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    halt: (mode) => void run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']),
    restart: () => void start(),
  };
}
