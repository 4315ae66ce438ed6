/**
 * The worklist query on a large database: a real SQLite file opened with the app's
 * openDatabase() (so the schema is the app's migrations), filled with `rows` studies by direct
 * INSERTs into that schema, then the store's worklist query timed as the app calls it.
 *
 * Input: a folder for the database, a row count, repetitions. Output: median and p95 ms of
 * (a) the app's default worklist request (sort by score, limit 1000: src/shared/api.ts
 * WorklistFilterSchema) and (b) the same query with no limit (every study), plus fill time.
 */
import { openDatabase, Store, type Db } from '../src/main/store/index.js';
import { quantile } from './stats.js';

export interface WorklistBench {
  studies: number;
  series: number;
  scoredStudies: number;
  fillSeconds: number;
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

const REVIEW = ['new', 'new', 'new', 'new', 'new', 'new', 'new', 'in_review', 'confirmed', 'dismissed'] as const;
const UNSCORED = ['receiving', 'ready', 'awaiting_model', 'failed'] as const;

export function fillWorklist(db: Db, studies: number): { series: number; scored: number } {
  const rand = rng(8);
  const insStudy = db.prepare(
    `INSERT INTO studies (study_uid, patient_name, patient_id, accession, description, study_date, study_time,
       first_arrival_at, last_arrival_at, review_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insSeries = db.prepare(
    `INSERT INTO series (series_uid, study_uid, series_number, description, state, state_reason, last_arrival_at, ready_at, slice_count)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insScore = db.prepare(
    `INSERT INTO study_scores (study_uid, model_id, p_any, p_epidural, p_intraparenchymal, p_intraventricular,
       p_subarachnoid, p_subdural, key_slices, computed_at) VALUES (?, 'ranking', ?, ?, ?, ?, ?, ?, '[]', ?)`,
  );
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  let series = 0;
  let scored = 0;
  db.transaction(() => {
    for (let i = 0; i < studies; i++) {
      const uid = `2.25.9${String(i).padStart(12, '0')}`;
      // One study every 3 minutes, around the clock: 100,000 studies is about seven months.
      const at = new Date(start + i * 180_000).toISOString();
      const date = at.slice(0, 10).replaceAll('-', '');
      insStudy.run(uid, `PHANTOM^${i}`, `P${i}`, `A${i}`, 'CT HEAD WO CONTRAST', date, '120000', at, at, REVIEW[i % REVIEW.length]!);
      const nSeries = rand() < 0.2 ? 2 : 1;
      let allScored = true;
      for (let s = 0; s < nSeries; s++) {
        const state = rand() < 0.97 ? 'scored' : UNSCORED[Math.floor(rand() * UNSCORED.length)]!;
        if (state !== 'scored') allScored = false;
        insSeries.run(`${uid}.${s + 1}`, uid, s + 1, 'AXIAL 5mm', state, state === 'failed' ? 'inference failed (will retry): bench' : null, at, at, 40);
        series++;
      }
      if (allScored) {
        const p = Array.from({ length: 6 }, () => rand());
        insScore.run(uid, ...p, at);
        scored++;
      }
    }
    db.prepare(`INSERT INTO settings (key, value) VALUES ('rankingModelInUse', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(
      JSON.stringify('ensemble'),
    );
  })();
  return { series, scored };
}

export function benchWorklist(dataDir: string, studies: number, reps: { limited: number; full: number }): WorklistBench {
  const t0 = performance.now();
  const db = openDatabase(dataDir);
  let filled: { series: number; scored: number };
  let pageCount: number;
  let pageSize: number;
  try {
    filled = fillWorklist(db, studies);
    db.pragma('wal_checkpoint(TRUNCATE)');
    pageCount = db.pragma('page_count', { simple: true }) as number;
    pageSize = db.pragma('page_size', { simple: true }) as number;
  } finally {
    db.close();
  }
  const fillSeconds = (performance.now() - t0) / 1000;
  // Timed as the app runs it: the store's worklist repository on the filled database.
  const store = Store.open(dataDir);
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
    return { studies, series: filled.series, scoredStudies: filled.scored, fillSeconds, databaseBytes: pageCount * pageSize, queries };
  } finally {
    store.close();
  }
}
