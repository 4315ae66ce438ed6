/**
 * The PostgreSQL connection's own thread (postgres.ts starts it). node-postgres only answers
 * asynchronously; this thread holds the one connection, runs each request the store's thread sends
 * and wakes that thread, which waits on a shared word (Atomics.wait) so that its calls stay
 * synchronous. One request at a time: the store's thread waits for each answer before the next.
 *
 * Messages are a tagged union with sequence numbers; errors come back serialised (message, SQLSTATE
 * code, detail), since an Error does not cross threads whole.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import pg from 'pg';

type ConnectRequest = { kind: 'connect'; url: string; connectTimeoutMs: number; statementTimeoutMs: number; listen: string };

export type PgRequest =
  | ConnectRequest
  /** A new connection like the last one, after that one was lost. */
  | { kind: 'reconnect' }
  | { kind: 'query'; sql: string; values: unknown[] }
  | { kind: 'exec'; sql: string }
  | { kind: 'close' };

export interface PgError {
  message: string;
  /** SQLSTATE, when the server refused (e.g. 23505 unique violation, P0001 a trigger's RAISE). */
  code?: string | undefined;
  detail?: string | undefined;
}

export type PgReply =
  | { seq: number; ok: true; rows: Record<string, unknown>[]; rowCount: number }
  | { seq: number; ok: false; error: PgError };

export interface PgWorkerData {
  /**
   * Word 0 is set to 1 and notified once a reply has been posted; word 1 counts the notices on the
   * listened channel sent by other connections (read without a round trip by the store's thread).
   */
  signal: Int32Array;
  port: MessagePort;
}

/**
 * BIGINT (COUNT(*), ids) and NUMERIC (SUM of BIGINT) arrive as text so that no precision is lost
 * silently; the store's numbers are JavaScript numbers, as better-sqlite3 gives them, and a value
 * past 2^53 is refused rather than rounded.
 */
function exactNumber(text: string): number {
  const n = Number(text);
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) throw new RangeError(`integer ${text} is too large for a JavaScript number`);
  return n;
}
pg.types.setTypeParser(pg.types.builtins.INT8, exactNumber);
pg.types.setTypeParser(pg.types.builtins.NUMERIC, exactNumber);

/** A Buffer crosses threads as a plain Uint8Array; node-postgres sends a Buffer as bytea. */
function asBind(v: unknown): unknown {
  return v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
}

function serialise(err: unknown): PgError {
  if (err instanceof Error) {
    const { code, detail } = err as Error & { code?: unknown; detail?: unknown };
    return {
      message: err.message,
      code: typeof code === 'string' ? code : undefined,
      detail: typeof detail === 'string' ? detail : undefined,
    };
  }
  return { message: String(err) };
}

const { signal, port } = workerData as PgWorkerData;
let client: pg.Client | undefined;
/** Set when the server closed the connection or the network dropped: every later request says so. */
let lost: Error | undefined;
/** How the connection was made, to make it again (reconnect). */
let made: ConnectRequest | undefined;

/** SQLSTATE class 08 (connection exception): what a request on a lost connection answers. */
export const CONNECTION_LOST = '08006';

async function handle(req: PgRequest): Promise<{ rows: Record<string, unknown>[]; rowCount: number }> {
  if (req.kind === 'reconnect') {
    if (!made) throw new Error('The database connection was never open');
    const old = client;
    client = undefined;
    lost = undefined;
    // The old socket is dead or dying: drop it without waiting for a goodbye.
    if (old) void old.end().catch(() => {});
    return handle(made);
  }
  if (req.kind === 'connect') {
    made = req;
    client = new pg.Client({
      connectionString: req.url,
      connectionTimeoutMillis: req.connectTimeoutMs,
      // The server ends a statement that runs too long; query_timeout ends the wait for a server
      // that no longer answers at all (gone, or the network between).
      statement_timeout: req.statementTimeoutMs,
      query_timeout: req.statementTimeoutMs + 2_000,
      keepAlive: true,
      application_name: 'ich-triage',
    });
    const own = client;
    client.on('error', (err) => {
      if (client === own) lost = err;
    });
    try {
      await client.connect();
    } catch (err) {
      lost = err as Error;
      throw err;
    }
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const ownPid = rows[0]?.pid;
    client.on('notification', (n) => {
      // A connection's own notices come back to it too; SQLite's data_version ignores one's own writes.
      if (n.processId !== ownPid) Atomics.add(signal, 1, 1);
    });
    await client.query(`LISTEN ${req.listen}`);
    return { rows: [], rowCount: 0 };
  }
  if (req.kind === 'close') {
    const c = client;
    client = undefined;
    // A server that vanished without closing the socket would keep end() waiting: give it a
    // moment, then let the thread's termination drop the socket.
    if (c && !lost) await Promise.race([c.end(), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    return { rows: [], rowCount: 0 };
  }
  if (!client) throw new Error('The database connection is not open');
  if (lost) throw new Error(`the connection to PostgreSQL was lost: ${lost.message}`);
  // Without binds the simple protocol runs several statements (migrations); with binds, one.
  const result = req.kind === 'exec' ? await client.query(req.sql) : await client.query(req.sql, req.values.map(asBind));
  const last = Array.isArray(result) ? (result.at(-1) as pg.QueryResult | undefined) : result;
  return { rows: (last?.rows ?? []) as Record<string, unknown>[], rowCount: last?.rowCount ?? 0 };
}

port.on('message', (msg: { seq: number; request: PgRequest }) => {
  void handle(msg.request).then(
    (r) => reply({ seq: msg.seq, ok: true, ...r }),
    (err: unknown) => {
      const error = serialise(err);
      // The connection itself failed (not the statement): say so with SQLSTATE's connection class.
      reply({ seq: msg.seq, ok: false, error: lost && !error.code?.startsWith('08') ? { ...error, code: CONNECTION_LOST } : error });
    },
  );
});

function reply(r: PgReply): void {
  port.postMessage(r);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}
