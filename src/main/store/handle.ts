/**
 * What every repository holds: the database handle's interface, and the clock rows are stamped with.
 * Apart from db.ts (which opens and migrates the database) so that the migrations and the
 * repositories can name the handle without importing the code that runs them.
 *
 * The store has two backends behind one synchronous interface: SQLite (better-sqlite3, the
 * default) and PostgreSQL (postgres.ts, for several workstations on one database). Every caller
 * (core, scorer, API, CLI) calls the store synchronously, so the handle stays synchronous; the
 * PostgreSQL handle makes its driver synchronous in a worker thread instead of turning every
 * caller async. `SqlHandle` is the part of better-sqlite3's Database the repositories use, so a
 * better-sqlite3 Database is a `SqlHandle` as it is: SQLite pays no wrapper.
 */
import type Database from 'better-sqlite3';

/** An SQLite database as better-sqlite3 opens it (db.ts): what SQLite-only code and tests hold. */
export type Db = Database.Database;

/** Binds by name: `@name` in the SQL, `{ name: value }` here. */
export type SqlParams = Readonly<Record<string, unknown>>;

export interface SqlStatement {
  /** `changes`: the rows the statement inserted, updated or deleted. */
  run(params?: SqlParams): { changes: number };
  /** The first row, or undefined when there is none. */
  get(params?: SqlParams): unknown;
  all(params?: SqlParams): unknown[];
}

export type Dialect = 'sqlite' | 'postgres';

export interface SqlHandle {
  /** Which SQL the handle speaks; better-sqlite3's Database has no such field, so absent is SQLite. */
  readonly dialect?: Dialect;
  prepare(sql: string): SqlStatement;
  /** Runs SQL without binds, several statements allowed (migrations). */
  exec(sql: string): unknown;
  /** `fn` as one transaction; called inside another, a savepoint (undone alone when it throws). */
  transaction<T>(fn: () => T): () => T;
  close(): unknown;
}

export function dialectOf(db: SqlHandle): Dialect {
  return db.dialect ?? 'sqlite';
}

export function nowIso(): string {
  return new Date().toISOString();
}
