/**
 * The schema's history, in order. Each entry is a numbered file that is never edited once it has
 * shipped (STYLE.md habit 7); PRAGMA user_version records how many have been applied on SQLite,
 * table schema_migrations on PostgreSQL (db.ts).
 *
 * A migration's SQL is written once where both dialects accept it. Where they differ (type names:
 * SQLite's REAL is 8 bytes, PostgreSQL's 4, so DOUBLE PRECISION there; BLOB is bytea; an integer
 * primary key is an identity column; triggers are PL/pgSQL functions), the file gives PostgreSQL's
 * text beside SQLite's, which stays as it shipped.
 */
import type { Dialect, SqlHandle } from '../handle.js';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-audit-chain.js';
import * as m0003 from './0003-patient-sex-age.js';
import * as m0004 from './0004-prediction-model-file.js';
import * as m0005 from './0005-provisional-scores.js';
import * as m0006 from './0006-series-choice.js';
import * as m0007 from './0007-lesion-maps.js';
import * as m0008 from './0008-change-notices.js';
import * as m0009 from './0009-job-leases.js';
import * as m0010 from './0010-workstation-settings.js';
import * as m0011 from './0011-series-contrast.js';
import * as m0012 from './0012-hu-correction.js';

/** SQL both dialects run as it is, or each dialect's own. */
export type MigrationSql = string | Readonly<Record<Dialect, string>>;

export interface Migration {
  version: number;
  name: string;
  /** SQL run first. */
  up: MigrationSql;
  /** Data the SQL cannot compute (e.g. hashes), run after `up` in the same transaction. */
  fill?: (db: SqlHandle) => void;
  /** SQL run last (e.g. triggers that would have refused `fill`). */
  finish?: MigrationSql;
}

/** The text of `sql` for one dialect. */
export function sqlFor(sql: MigrationSql, dialect: Dialect): string {
  return typeof sql === 'string' ? sql : sql[dialect];
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: '0001-initial', up: { sqlite: m0001.up, postgres: m0001.upPostgres } },
  {
    version: 2,
    name: '0002-audit-chain',
    up: { sqlite: m0002.up, postgres: m0002.upPostgres },
    fill: m0002.fill,
    finish: { sqlite: m0002.finish, postgres: m0002.finishPostgres },
  },
  { version: 3, name: '0003-patient-sex-age', up: m0003.up },
  { version: 4, name: '0004-prediction-model-file', up: m0004.up },
  { version: 5, name: '0005-provisional-scores', up: m0005.up },
  { version: 6, name: '0006-series-choice', up: { sqlite: m0006.up, postgres: m0006.upPostgres } },
  { version: 7, name: '0007-lesion-maps', up: { sqlite: m0007.up, postgres: m0007.upPostgres } },
  { version: 8, name: '0008-change-notices', up: { sqlite: m0008.up, postgres: m0008.upPostgres } },
  { version: 9, name: '0009-job-leases', up: m0009.up },
  { version: 10, name: '0010-workstation-settings', up: { sqlite: m0010.up, postgres: m0010.upPostgres } },
  { version: 11, name: '0011-series-contrast', up: m0011.up },
  { version: 12, name: '0012-hu-correction', up: m0012.up },
];
