/**
 * Read queries for the study viewer (issue 6): a study's series and ordered slices, the models'
 * per-slice predictions, the per-model study scores and which model runs produced them. Read
 * only: the ingest and inference stages own the writes to these tables (store/index.ts).
 */
import type { Db } from './db.js';
import { scoreFromRow } from './score-columns.js';
import { probabilitiesFromArray } from '../../shared/labels.js';
import { studyPredictionRows } from './predictions.js';
import type { ModelPredictions, PriorStudy, Producer, SeriesDetail, StudyScoreEntry } from '../../shared/api.js';
import { RANKING_SCORE_ID } from '../../shared/api.js';

export function studyExists(db: Db, studyUid: string): boolean {
  return db.prepare('SELECT 1 FROM studies WHERE study_uid = ?').get(studyUid) !== undefined;
}

export function studySeries(db: Db, studyUid: string): SeriesDetail[] {
  const series = db
    .prepare('SELECT * FROM series WHERE study_uid = ? ORDER BY series_number IS NULL, series_number, series_uid')
    .all(studyUid) as Record<string, unknown>[];
  const slices = db.prepare(
    // Until a series settles its slices have no index yet: show them in arrival order.
    `SELECT id, sop_uid, slice_index, instance_number, slice_position, window_center, window_width, window_source,
            resampled, original_rows, original_columns, orientation, pixel_spacing
     FROM instances WHERE series_uid = ? ORDER BY slice_index IS NULL, slice_index, instance_number, id`,
  );
  return series.map((s) => ({
    seriesUid: s.series_uid as string,
    seriesNumber: (s.series_number as number | null) ?? null,
    description: (s.description as string | null) ?? null,
    state: s.state as SeriesDetail['state'],
    stateReason: (s.state_reason as string | null) ?? null,
    skippedReason: (s.skipped_reason as string | null) ?? null,
    slices: (slices.all(s.series_uid) as Record<string, unknown>[]).map((r, i) => ({
      instanceId: r.id as number,
      sopUid: r.sop_uid as string,
      sliceIndex: (r.slice_index as number | null) ?? i,
      instanceNumber: (r.instance_number as number | null) ?? null,
      slicePosition: (r.slice_position as number | null) ?? null,
      window: {
        center: r.window_center as number,
        width: r.window_width as number,
        source: r.window_source as 'tags' | 'default',
      },
      resampled: r.resampled === 1,
      originalRows: r.original_rows as number,
      originalColumns: r.original_columns as number,
      orientation: numbers(r.orientation, 6),
      pixelSpacing: numbers(r.pixel_spacing, 2),
    })),
  }));
}

/** A JSON array of `n` finite numbers from a TEXT column, else null (absent or unreadable). */
function numbers(text: unknown, n: number): number[] | null {
  if (typeof text !== 'string') return null;
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (v as number[]) : null;
  } catch {
    return null;
  }
}

export function studyPredictions(db: Db, studyUid: string): ModelPredictions[] {
  return [...studyPredictionRows(db, studyUid, { scoredSeriesOnly: false }).values()].map((rows) => ({
    modelId: rows[0]!.modelId,
    modelVersion: rows[0]!.modelVersion,
    provider: rows[0]!.provider,
    slices: rows.map((r) => ({ instanceId: r.instanceId, p: probabilitiesFromArray(r.probabilities) })),
  }));
}

export function studyScores(db: Db, studyUid: string): StudyScoreEntry[] {
  const rows = db
    .prepare(`SELECT * FROM study_scores WHERE study_uid = ? ORDER BY model_id`)
    .all(studyUid) as Record<string, unknown>[];
  return rows.map((r) => ({
    modelId: r.model_id as string,
    score: scoreFromRow(r),
    keySlices: parseIdList(r.key_slices),
    computedAt: r.computed_at as string,
  }));
}

function parseIdList(v: unknown): number[] {
  try {
    const parsed: unknown = JSON.parse(String(v ?? '[]'));
    return Array.isArray(parsed) ? parsed.filter((x): x is number => Number.isInteger(x)) : [];
  } catch {
    return [];
  }
}

/** Which model runs (id, version, execution provider) produced predictions, per study. */
export function studyProducers(db: Db, studyUids: readonly string[]): Map<string, Producer[]> {
  const out = new Map<string, Producer[]>();
  if (!studyUids.length) return out;
  const rows = db
    .prepare(
      `SELECT DISTINCT i.study_uid, p.model_id, p.model_version, p.provider
       FROM predictions p JOIN instances i ON i.id = p.instance_id
       WHERE i.study_uid IN (SELECT value FROM json_each(?)) ORDER BY p.model_id`,
    )
    .all(JSON.stringify(studyUids)) as Record<string, unknown>[];
  for (const r of rows) {
    const uid = r.study_uid as string;
    const list = out.get(uid) ?? [];
    list.push({ modelId: r.model_id as string, modelVersion: String(r.model_version), provider: r.provider as string });
    out.set(uid, list);
  }
  return out;
}

/**
 * The patient's other studies in this store (same PatientID; none when the study has no PatientID),
 * newest first: what a reader compares a new head CT with. Matched on PatientID alone, which holds
 * where one issuer assigns the IDs (one hospital's PACS).
 */
export function patientPriors(db: Db, studyUid: string, limit = 10): PriorStudy[] {
  const rows = db
    .prepare(
      `SELECT o.study_uid, o.study_date, o.study_time, o.description, o.first_arrival_at, o.review_status, sc.p_any
       FROM studies me JOIN studies o ON o.patient_id = me.patient_id AND o.study_uid <> me.study_uid
       LEFT JOIN study_scores sc ON sc.study_uid = o.study_uid AND sc.model_id = ?
       WHERE me.study_uid = ? AND me.patient_id IS NOT NULL AND TRIM(me.patient_id) <> ''
       ORDER BY COALESCE(o.study_date, '') DESC, COALESCE(o.study_time, '') DESC, o.first_arrival_at DESC LIMIT ?`,
    )
    .all(RANKING_SCORE_ID, studyUid, limit) as Record<string, unknown>[];
  return rows.map((r) => ({
    studyUid: r.study_uid as string,
    studyDate: (r.study_date as string | null) ?? null,
    studyTime: (r.study_time as string | null) ?? null,
    description: (r.description as string | null) ?? null,
    firstArrivalAt: r.first_arrival_at as string,
    reviewStatus: r.review_status as PriorStudy['reviewStatus'],
    scoreAny: (r.p_any as number | null) ?? null,
  }));
}

/** Where a slice's HU file lives (relative to the data folder). */
export function instanceHuPath(db: Db, instanceId: number): string | undefined {
  const row = db.prepare('SELECT hu_path FROM instances WHERE id = ?').get(instanceId) as { hu_path: string } | undefined;
  return row?.hu_path;
}

/** SQLite's commit counter for other connections: it changes when another process writes. */
export function dataVersion(db: Db): number {
  return db.pragma('data_version', { simple: true }) as number;
}
