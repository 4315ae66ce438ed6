/**
 * The worklist query on a large database, on SQLite and on PostgreSQL: a database opened with the
 * app's openDatabase() or openPostgres() (so the schema is the app's migrations), filled with
 * `rows` studies by direct INSERTs into that schema through the store's SqlHandle (the same rows on
 * both), then the store's worklist query timed as the app calls it.
 *
 * Input: where the database lives (an SQLite data folder, or an empty PostgreSQL database), a row
 * count, repetitions. Output: median and p95 ms of (a) the app's default worklist request (sort by
 * score, limit 1000: src/shared/api.ts WorklistFilterSchema) and (b) the same query with no limit
 * (every study), plus fill time and the database's size.
 */
import { openDatabase, openPostgres, Store, type SqlHandle } from '../src/main/store/index.js';
import { quantile } from './stats.js';

export type WorklistDatabase = { backend: 'sqlite'; dataDir: string } | { backend: 'postgres'; url: string };

export interface WorklistBench {
  /** Absent in results written before PostgreSQL was measured: SQLite. */
  backend?: 'sqlite' | 'postgres';
  studies: number;
  series: number;
  scoredStudies: number;
  fillSeconds: number;
  /** SQLite: the file after a WAL checkpoint; PostgreSQL: pg_database_size after VACUUM. */
  databaseBytes: number;
  queries: { name: string; limit: number | null; rowsReturned: number; reps: number; medianMs: number; p95Ms: number }[];
}

/** Deterministic pseudo-random numbers (mulberry32), so every run fills the same database. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type SqlStatement = ReturnType<SqlHandle['prepare']>;

const REVIEW = ['new', 'new', 'new', 'new', 'new', 'new', 'new', 'in_review', 'confirmed', 'dismissed'] as const;
const UNSCORED = ['receiving', 'ready', 'awaiting_model', 'failed'] as const;

/**
 * Rows per INSERT. PostgreSQL: many, since each statement is a message to the server and back (one
 * row at a time, 100,000 studies take minutes); past about a hundred rows a statement, binding and
 * planning the longer statement cost more than the round trips saved (measured: 500 and 2,000
 * rows were no faster, 2,000 four times slower). SQLite: a statement is a function call in this
 * process, and binding thousands of names into one costs more than it saves.
 */
const ROWS_PER_INSERT = { sqlite: 1, postgres: 100 } as const;

/** `INSERT INTO t (cols) VALUES (…), (…)` for `rows` rows, binds named by row and column. */
function insertRows(db: SqlHandle, into: string, rows: readonly (readonly unknown[])[], prepared: Map<string, SqlStatement>): void {
  if (!rows.length) return;
  const key = `${into}\n${rows.length}`;
  let statement = prepared.get(key);
  if (!statement) {
    const tuples = rows.map((row, r) => `(${row.map((_, c) => `@r${r}c${c}`).join(', ')})`);
    statement = db.prepare(`INSERT INTO ${into} VALUES ${tuples.join(', ')}`);
    prepared.set(key, statement);
  }
  const params: Record<string, unknown> = {};
  rows.forEach((row, r) => row.forEach((value, c) => (params[`r${r}c${c}`] = value)));
  statement.run(params);
}

export function fillWorklist(db: SqlHandle, studies: number): { series: number; scored: number } {
  const rowsPerInsert = ROWS_PER_INSERT[db.dialect ?? 'sqlite'];
  const prepared = new Map<string, SqlStatement>();
  const rand = rng(8);
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  let series = 0;
  let scored = 0;
  let studyRows: unknown[][] = [];
  let seriesRows: unknown[][] = [];
  let scoreRows: unknown[][] = [];
  const flush = () => {
    // Parents first: series and scores name their study.
    insertRows(
      db,
      `studies (study_uid, patient_name, patient_id, accession, description, study_date, study_time,
         first_arrival_at, last_arrival_at, review_status)`,
      studyRows,
      prepared,
    );
    insertRows(db, 'series (series_uid, study_uid, series_number, description, state, state_reason, last_arrival_at, ready_at, slice_count)', seriesRows, prepared);
    insertRows(
      db,
      `study_scores (study_uid, model_id, p_any, p_epidural, p_intraparenchymal, p_intraventricular,
         p_subarachnoid, p_subdural, key_slices, computed_at)`,
      scoreRows,
      prepared,
    );
    studyRows = [];
    seriesRows = [];
    scoreRows = [];
  };
  db.transaction(() => {
    for (let i = 0; i < studies; i++) {
      const uid = `2.25.9${String(i).padStart(12, '0')}`;
      // One study every 3 minutes, around the clock: 100,000 studies is about seven months.
      const at = new Date(start + i * 180_000).toISOString();
      const date = at.slice(0, 10).replaceAll('-', '');
      studyRows.push([uid, `PHANTOM^${i}`, `P${i}`, `A${i}`, 'CT HEAD WO CONTRAST', date, '120000', at, at, REVIEW[i % REVIEW.length]!]);
      const nSeries = rand() < 0.2 ? 2 : 1;
      let allScored = true;
      for (let s = 0; s < nSeries; s++) {
        const state = rand() < 0.97 ? 'scored' : UNSCORED[Math.floor(rand() * UNSCORED.length)]!;
        if (state !== 'scored') allScored = false;
        seriesRows.push([`${uid}.${s + 1}`, uid, s + 1, 'AXIAL 5mm', state, state === 'failed' ? 'inference failed (will retry): bench' : null, at, at, 40]);
        series++;
      }
      if (allScored) {
        const p = Array.from({ length: 6 }, () => rand());
        scoreRows.push([uid, 'ranking', ...p, '[]', at]);
        scored++;
      }
      if (studyRows.length === rowsPerInsert) flush();
    }
    flush();
    db.prepare(`INSERT INTO settings (key, value) VALUES ('rankingModelInUse', @value) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run({
      value: JSON.stringify('ensemble'),
    });
  })();
  return { series, scored };
}

function openMigrated(where: WorklistDatabase): SqlHandle {
  return where.backend === 'sqlite' ? openDatabase(where.dataDir) : openPostgres(where.url);
}

function openStore(where: WorklistDatabase): Store {
  return where.backend === 'sqlite' ? Store.open(where.dataDir) : Store.connect(where.url);
}

/** The database's size once the fill is settled (see WorklistBench.databaseBytes). */
function settledSize(db: SqlHandle, backend: WorklistDatabase['backend']): number {
  if (backend === 'sqlite') {
    db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get();
    const { page_count: pages } = db.prepare('PRAGMA page_count').get() as { page_count: number };
    const { page_size: size } = db.prepare('PRAGMA page_size').get() as { page_size: number };
    return pages * size;
  }
  // A server's autovacuum analyses tables this size long before anyone reads them; without
  // statistics the planner would guess, and the timings would be of a database no site has.
  db.exec('VACUUM ANALYZE');
  return Number((db.prepare('SELECT pg_database_size(current_database()) AS bytes').get() as { bytes: number | string }).bytes);
}

export function benchWorklist(where: WorklistDatabase, studies: number, reps: { limited: number; full: number }): WorklistBench {
  const t0 = performance.now();
  const db = openMigrated(where);
  let filled: { series: number; scored: number };
  let databaseBytes: number;
  try {
    filled = fillWorklist(db, studies);
    databaseBytes = settledSize(db, where.backend);
  } finally {
    db.close();
  }
  const fillSeconds = (performance.now() - t0) / 1000;
  // Timed as the app runs it: the store's worklist repository on the filled database.
  const store = openStore(where);
  try {
    const queries: WorklistBench['queries'] = [];
    for (const [name, limit, n] of [
      ['app default: sort by score, limit 1000', 1000, reps.limited],
      ['every study, no limit', null, reps.full],
    ] as const) {
      const q = limit === null ? {} : { limit, sort: 'score' as const };
      store.worklist.query(q); // warm the page cache and the statement
      const ms: number[] = [];
      let rowsReturned = 0;
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        rowsReturned = store.worklist.query(q).length;
        ms.push(performance.now() - t);
      }
      queries.push({ name, limit, rowsReturned, reps: n, medianMs: quantile(ms, 0.5), p95Ms: quantile(ms, 0.95) });
    }
    return { backend: where.backend, studies, series: filled.series, scoredStudies: filled.scored, fillSeconds, databaseBytes, queries };
  } finally {
    store.close();
  }
}
