/**
 * The store on PostgreSQL: a `SqlHandle` over one dedicated connection, held by node-postgres in a
 * worker thread (postgres-worker.ts) and made synchronous by waiting on a shared word, as the
 * SQLite handle is synchronous (handle.ts says why the store stays synchronous).
 *
 * One connection, so `transaction(fn)` is BEGIN … COMMIT (ROLLBACK when `fn` throws) on it, and a
 * transaction inside another is a savepoint, as in better-sqlite3. Binds are by name (`@name`),
 * rewritten to PostgreSQL's `$n` once per SQL text (named-binds.ts). BIGINT comes back as a
 * number and bytea as a Buffer, as better-sqlite3 gives INTEGER and BLOB. Every wait is bounded:
 * a server that goes away gives a clear error, never a hung workstation.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import pg from 'pg';
import { startWorker, workerUrl } from '../workers/index.js';
import { migrate } from './db.js';
import { CHANGE_CHANNEL } from './migrations/0008-change-notices.js';
import type { SqlHandle, SqlParams, SqlStatement } from './handle.js';
import { positionalValues, toPositional, type PositionalSql } from './named-binds.js';
import type { PgReply, PgRequest, PgWorkerData } from './postgres-worker.js';

export interface PostgresOptions {
  /** How long to wait for the server to accept the connection. */
  connectTimeoutMs?: number;
  /** How long one statement may run before the server ends it (PostgreSQL's statement_timeout). */
  statementTimeoutMs?: number;
}

/** An error the server or the connection gave, with PostgreSQL's SQLSTATE when it has one. */
export class PostgresError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'PostgresError';
  }

  /**
   * The database could not be reached (the connection was lost, or making it again failed), as
   * opposed to a statement the server refused: the same work done again later may succeed.
   */
  get unreachable(): boolean {
    return this.code?.startsWith('08') === true || this.code === '57P01' || this.code === UNREACHABLE;
  }
}

/** The code of a PostgresError raised when the connection could not be made again. */
const UNREACHABLE = 'unreachable';

/** Distinct SQL texts kept rewritten; the store's are a few dozen, so this bound is never reached in use. */
const REWRITTEN_LIMIT = 1_000;

export class PostgresHandle implements SqlHandle {
  readonly dialect = 'postgres' as const;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly signal = new Int32Array(new SharedArrayBuffer(8));
  private readonly waitMs: number;
  private readonly rewritten = new Map<string, PositionalSql>();
  private seq = 0;
  private depth = 0;
  /** Why the handle can no longer be used (closed, or a reply that never came); null while open. */
  private unusable: string | null = null;
  /** The connection was lost: the next call outside a transaction connects again first. */
  private lost = false;

  constructor(
    private readonly url: string,
    options: PostgresOptions = {},
  ) {
    checkPostgresUrl(url);
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
    // Past the server's own limits: only a thread or a network that no longer answers gets here.
    this.waitMs = Math.max(connectTimeoutMs, statementTimeoutMs) + 5_000;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const data: PgWorkerData = { signal: this.signal, port: port2 };
    this.worker = startWorker(workerUrl(import.meta.url, './postgres-worker.ts'), { workerData: data, transferList: [port2] });
    // The handle is closed explicitly; a forgotten one must not keep the process alive.
    this.worker.unref();
    try {
      this.call({ kind: 'connect', url, connectTimeoutMs, statementTimeoutMs, listen: CHANGE_CHANNEL });
    } catch (err) {
      void this.worker.terminate();
      this.unusable = 'The database connection is not open';
      throw new PostgresError(`cannot connect to PostgreSQL at ${redact(url)}: ${(err as Error).message}`);
    }
  }

  prepare(sql: string): SqlStatement {
    const positional = this.positional(sql);
    const query = (params: SqlParams | undefined) =>
      this.call({ kind: 'query', sql: positional.text, values: positionalValues(positional.names, params) });
    return {
      run: (params) => ({ changes: query(params).rowCount }),
      get: (params) => query(params).rows[0],
      all: (params) => query(params).rows,
    };
  }

  exec(sql: string): this {
    this.call({ kind: 'exec', sql });
    return this;
  }

  transaction<T>(fn: () => T): () => T {
    return () => {
      const savepoint = this.depth > 0 ? `store_${this.depth}` : null;
      this.exec(savepoint ? `SAVEPOINT ${savepoint}` : 'BEGIN');
      this.depth++;
      let result: T;
      try {
        result = fn();
      } catch (err) {
        this.depth--;
        try {
          this.exec(savepoint ? `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}` : 'ROLLBACK');
        } catch {
          // The connection itself failed: the server rolls the transaction back; `err` says why.
        }
        throw err;
      }
      this.depth--;
      this.exec(savepoint ? `RELEASE SAVEPOINT ${savepoint}` : 'COMMIT');
      return result;
    };
  }

  /**
   * How many commits of other connections changed the store's tables since this connection opened
   * (migration 0008's notices, counted as they arrive): PostgreSQL's counterpart of SQLite's
   * data_version, read without a round trip.
   */
  othersCommits(): number {
    if (this.unusable) throw new PostgresError(this.unusable);
    return Atomics.load(this.signal, 1);
  }

  close(): void {
    if (this.unusable) return;
    try {
      this.call({ kind: 'close' });
    } finally {
      this.unusable = 'The database connection is not open';
      void this.worker.terminate();
    }
  }

  private positional(sql: string): PositionalSql {
    let p = this.rewritten.get(sql);
    if (!p) {
      if (this.rewritten.size >= REWRITTEN_LIMIT) this.rewritten.clear();
      p = toPositional(sql);
      this.rewritten.set(sql, p);
    }
    return p;
  }

  /**
   * Sends one request to the connection's thread and waits for its reply. After the connection
   * was lost, a call outside a transaction connects again first (a transaction begun on the lost
   * connection fails to its end); the call that met the loss is never repeated, since it may or
   * may not have committed: its caller hears the error and decides.
   */
  private call(request: PgRequest): { rows: Record<string, unknown>[]; rowCount: number } {
    if (this.lost && this.depth === 0 && request.kind !== 'close') {
      try {
        this.send({ kind: 'reconnect' });
      } catch (err) {
        if (err instanceof PostgresError && this.unusable) throw err;
        throw new PostgresError(`PostgreSQL at ${redact(this.url)} is unreachable: ${(err as Error).message}`, UNREACHABLE);
      }
      this.lost = false;
      // Other workstations may have committed while this one could not hear: the data changed.
      Atomics.add(this.signal, 1, 1);
    }
    try {
      return this.send(request);
    } catch (err) {
      if (err instanceof PostgresError && err.unreachable && !this.unusable) this.lost = true;
      throw err;
    }
  }

  private send(request: PgRequest): { rows: Record<string, unknown>[]; rowCount: number } {
    if (this.unusable) throw new PostgresError(this.unusable);
    const seq = ++this.seq;
    Atomics.store(this.signal, 0, 0);
    this.port.postMessage({ seq, request });
    if (Atomics.wait(this.signal, 0, 0, this.waitMs) === 'timed-out') {
      // The reply may still come later and would answer the wrong request: stop using the handle.
      this.unusable = `PostgreSQL did not answer within ${Math.round(this.waitMs / 1000)} s; the connection was given up`;
      void this.worker.terminate();
      throw new PostgresError(this.unusable);
    }
    const reply = receiveMessageOnPort(this.port)?.message as PgReply | undefined;
    if (!reply || reply.seq !== seq) {
      this.unusable = 'the PostgreSQL connection thread answered out of turn; the connection was given up';
      void this.worker.terminate();
      throw new PostgresError(this.unusable);
    }
    if (!reply.ok) throw new PostgresError(reply.error.message, reply.error.code, reply.error.detail);
    return { rows: reply.rows.map(withBuffers), rowCount: reply.rowCount };
  }
}

/** bytea arrives as a plain Uint8Array (a Buffer does not cross threads as one); the store reads Buffers. */
function withBuffers(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) {
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return row;
}

/**
 * Refuses a database URL that cannot name a PostgreSQL database, before any connection is tried:
 * the message says what is wrong and never carries the password.
 */
export function checkPostgresUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PostgresError('the database is not a URL: give postgres://user:password@host:port/database');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new PostgresError(
      `database ${redact(url)}: only PostgreSQL (postgres://…) can be named; without a database URL the store is SQLite in the data folder`,
    );
  }
  if (parsed.pathname.replace(/^\//, '') === '') {
    throw new PostgresError(`database ${redact(url)} names no database: end the URL with /<database name>`);
  }
}

/** The URL without its password, for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unreadable database URL)';
  }
}

/** Connects to a PostgreSQL database and brings its schema up to date (db.ts, migrations/). */
export function openPostgres(url: string, options: PostgresOptions = {}): PostgresHandle {
  const handle = new PostgresHandle(url, options);
  try {
    migrate(handle);
  } catch (err) {
    handle.close();
    throw err;
  }
  return handle;
}

/**
 * Whether a PostgreSQL database answers: one short connection (connect, `SELECT 1`, close) bounded
 * by `timeoutMs`, so that an administrator choosing a database hears at once whether this PC can
 * reach it and log in. Nothing is created or migrated. The answer never carries the password, even
 * where the driver's message would repeat it.
 */
export async function testPostgresConnection(url: string, timeoutMs = 5_000): Promise<{ ok: boolean; message: string }> {
  const where = redact(url);
  try {
    checkPostgresUrl(url);
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
  const password = (() => {
    try {
      return decodeURIComponent(new URL(url).password);
    } catch {
      return '';
    }
  })();
  const hide = (text: string) => (password ? text.split(password).join('***') : text);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, statement_timeout: timeoutMs });
  // A connection that fails after connect() (the server ends it) must not become an uncaught error.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true, message: `PostgreSQL at ${where} answered` };
  } catch (err) {
    return { ok: false, message: hide(`cannot connect to PostgreSQL at ${where}: ${(err as Error).message || String(err)}`) };
  } finally {
    await client.end().catch(() => {});
  }
}
