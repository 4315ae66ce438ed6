/**
 * What every repository holds: the database handle's type, and the clock rows are stamped with.
 * Apart from db.ts (which opens and migrates the database) so that the migrations and the
 * repositories can name the handle without importing the code that runs them.
 */
import type Database from 'better-sqlite3';

export type Db = Database.Database;

export function nowIso(): string {
  return new Date().toISOString();
}
