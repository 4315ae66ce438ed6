/** SQL for the predictions and study_scores tables (per instance and model; per study and model). */
import { SCORE_COLUMNS } from './score-columns.js';
import type { Db } from './db.js';
import { nowIso } from './db.js';

const P_COLUMNS = SCORE_COLUMNS;

export interface SlicePrediction {
  instanceId: number;
  probabilities: ArrayLike<number>;
}

/**
 * `modelSha256`: the file that made them (null for an ensemble, which is recomputed from its
 * members every time).
 */
export function savePredictions(
  db: Db,
  modelId: string,
  version: string,
  provider: string,
  rows: SlicePrediction[],
  modelSha256: string | null = null,
): void {
  const at = nowIso();
  const stmt = db.prepare(
    `INSERT OR REPLACE INTO predictions (instance_id, model_id, model_version, provider, ${P_COLUMNS.join(', ')}, created_at, model_sha256)
     VALUES (?, ?, ?, ?, ${P_COLUMNS.map(() => '?').join(', ')}, ?, ?)`,
  );
  db.transaction(() => {
    for (const r of rows) stmt.run(r.instanceId, modelId, version, provider, ...Array.from(r.probabilities), at, modelSha256);
  })();
}

/**
 * The stored probabilities of these slices made by exactly this model file: a slice's pixels never
 * change once stored (a conflicting resend is kept as another instance), so they need no rerun.
 */
export function predictionsByFile(db: Db, modelId: string, modelSha256: string, instanceIds: readonly number[]): Map<number, Float32Array> {
  const out = new Map<number, Float32Array>();
  const rows = db
    .prepare(
      `SELECT instance_id, ${P_COLUMNS.join(', ')} FROM predictions
       WHERE model_id = ? AND model_sha256 = ? AND instance_id IN (SELECT value FROM json_each(?))`,
    )
    .all(modelId, modelSha256, JSON.stringify(instanceIds)) as Record<string, number>[];
  for (const r of rows) out.set(r.instance_id!, Float32Array.from(P_COLUMNS.map((c) => r[c]!)));
  return out;
}

/**
 * Every model's per-slice probabilities for one study, in series then slice order: for the
 * scorer, only series whose scoring finished; for the viewer, all of them.
 */
export function studyPredictionRows(
  db: Db,
  studyUid: string,
  opts: { scoredSeriesOnly: boolean; withReceiving?: boolean; includingSeries?: string },
): Map<string, StoredPrediction[]> {
  // withReceiving: series still arriving count too (a provisional score), in their interim order;
  // includingSeries: the series being scored now counts too (its ranking networks are done)
  const states = opts.withReceiving ? "('scored', 'receiving')" : "('scored')";
  const scored = opts.scoredSeriesOnly
    ? `JOIN series s ON s.series_uid = i.series_uid AND (s.state IN ${states} OR s.series_uid = @including) AND s.skipped_reason IS NULL`
    : '';
  return groupByModel(
    db
      .prepare(`${SELECT_PREDICTIONS} ${scored} WHERE i.study_uid = @study ORDER BY p.model_id, i.series_uid, i.slice_index, i.id`)
      .all(opts.scoredSeriesOnly ? { study: studyUid, including: opts.includingSeries ?? null } : { study: studyUid }) as Record<
      string,
      unknown
    >[],
  );
}

/** `provisional`: made while a series of the study was still arriving, from `slicesScored` slices. */
export function saveStudyScore(
  db: Db,
  studyUid: string,
  modelId: string,
  probabilities: ArrayLike<number>,
  keySlices: number[],
  provisional: { slicesScored: number } | null = null,
): void {
  db.prepare(
    `INSERT OR REPLACE INTO study_scores (study_uid, model_id, ${P_COLUMNS.join(', ')}, key_slices, computed_at, provisional, slices_scored)
     VALUES (?, ?, ${P_COLUMNS.map(() => '?').join(', ')}, ?, ?, ?, ?)`,
  ).run(
    studyUid,
    modelId,
    ...Array.from(probabilities),
    JSON.stringify(keySlices),
    nowIso(),
    provisional ? 1 : 0,
    provisional?.slicesScored ?? null,
  );
}

export function clearStudyScores(db: Db, studyUid: string): void {
  db.prepare('DELETE FROM study_scores WHERE study_uid = ?').run(studyUid);
}

export interface StoredPrediction {
  modelId: string;
  modelVersion: string;
  instanceId: number;
  sopUid: string;
  sourcePath: string;
  studyUid: string;
  seriesUid: string;
  sliceIndex: number;
  provider: string;
  probabilities: number[];
}

const SELECT_PREDICTIONS = `SELECT p.*, i.sop_uid, i.source_path, i.study_uid, i.series_uid, i.slice_index
  FROM predictions p JOIN instances i ON i.id = p.instance_id`;

function groupByModel(rows: Record<string, unknown>[]): Map<string, StoredPrediction[]> {
  const out = new Map<string, StoredPrediction[]>();
  for (const r of rows) {
    const list = out.get(r.model_id as string) ?? [];
    list.push({
      modelId: r.model_id as string,
      modelVersion: String(r.model_version),
      instanceId: r.instance_id as number,
      sopUid: r.sop_uid as string,
      sourcePath: r.source_path as string,
      studyUid: r.study_uid as string,
      seriesUid: r.series_uid as string,
      sliceIndex: r.slice_index as number,
      provider: r.provider as string,
      probabilities: P_COLUMNS.map((c) => r[c] as number),
    });
    out.set(r.model_id as string, list);
  }
  return out;
}

/** Every stored prediction, grouped by model, each list in study, series, slice order. */
export function allPredictions(db: Db): Map<string, StoredPrediction[]> {
  return groupByModel(
    db.prepare(`${SELECT_PREDICTIONS} ORDER BY p.model_id, i.study_uid, i.series_uid, i.slice_index, i.id`).all() as Record<
      string,
      unknown
    >[],
  );
}
