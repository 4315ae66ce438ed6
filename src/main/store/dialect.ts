/**
 * The few places where SQLite and PostgreSQL need different SQL, each a named fragment chosen by
 * the handle's dialect, so that a repository is written once. Everything else the repositories
 * write is SQL both accept (upserts with ON CONFLICT, RETURNING, IS DISTINCT FROM, string_agg:
 * SQLite ≥ 3.44, which better-sqlite3 12 bundles).
 */
import { dialectOf, type SqlHandle } from './handle.js';

/**
 * A subquery over the elements of a JSON array bound as text at `@bind` (one statement whatever the
 * list's length): SQLite's json_each, PostgreSQL's jsonb_array_elements_text, cast for integers
 * because PostgreSQL does not compare text with a number.
 */
export function jsonListValues(db: SqlHandle, bind: string, of: 'text' | 'integer'): string {
  if (dialectOf(db) === 'sqlite') return `(SELECT value FROM json_each(@${bind}))`;
  const value = of === 'integer' ? 'CAST(value AS BIGINT)' : 'value';
  return `(SELECT ${value} FROM jsonb_array_elements_text(CAST(@${bind} AS jsonb)))`;
}

/**
 * Ends a SELECT that picks a row to take (a job to claim). On PostgreSQL several workstations
 * claim from one queue: the row picked is locked until the claim commits, and rows another
 * workstation has locked are passed over rather than waited for, so each job goes to one of them
 * and none waits on another. SQLite has one writer per data folder (lock.ts): nothing to add.
 */
export function claimRowLock(db: SqlHandle): string {
  return dialectOf(db) === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
}

/**
 * Ends a SELECT that reads a row a change is decided on (a study before a decision is recorded on
 * it). On PostgreSQL the row stays locked until the transaction ends, so another workstation
 * deciding on the same row waits and then reads what this one wrote. SQLite has one writer at a
 * time: nothing to add.
 */
export function decideRowLock(db: SqlHandle): string {
  return dialectOf(db) === 'postgres' ? 'FOR UPDATE' : '';
}
