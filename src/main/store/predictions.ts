/**
 * Per-slice probabilities (table `predictions`): one row per slice and model (or ensemble), with
 * the execution provider that ran it and, for a network, the model file that made it.
 */
import type { SqlHandle } from './handle.js';
import { nowIso } from './handle.js';
import { jsonListValues } from './dialect.js';
import { countedSeriesJoin } from './read-series.js';
import { SCORE_COLUMNS } from './score-columns.js';
import { probabilitiesFromArray } from '../../shared/labels.js';
import type { ModelPredictions, Producer } from '../../shared/api.js';

export interface SlicePrediction {
  instanceId: number;
  probabilities: ArrayLike<number>;
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

/** Which series of a study count: see PredictionRepository.ofStudy. */
export interface StudyPredictionsFilter {
  scoredSeriesOnly: boolean;
  withReceiving?: boolean;
  includingSeries?: string | undefined;
}

const SELECT_PREDICTIONS = `SELECT p.*, i.sop_uid, i.source_path, i.study_uid, i.series_uid, i.slice_index
  FROM predictions p JOIN instances i ON i.id = p.instance_id`;

function toStoredPrediction(r: Record<string, unknown>): StoredPrediction {
  return {
    modelId: r.model_id as string,
    modelVersion: String(r.model_version),
    instanceId: r.instance_id as number,
    sopUid: r.sop_uid as string,
    sourcePath: r.source_path as string,
    studyUid: r.study_uid as string,
    seriesUid: r.series_uid as string,
    sliceIndex: r.slice_index as number,
    provider: r.provider as string,
    probabilities: SCORE_COLUMNS.map((c) => r[c] as number),
  };
}

function groupByModel(rows: readonly Record<string, unknown>[]): Map<string, StoredPrediction[]> {
  const out = new Map<string, StoredPrediction[]>();
  for (const r of rows) {
    const p = toStoredPrediction(r);
    const list = out.get(p.modelId) ?? [];
    list.push(p);
    out.set(p.modelId, list);
  }
  return out;
}

export class PredictionRepository {
  constructor(private readonly db: SqlHandle) {}

  /**
   * `modelSha256`: the file that made them (null for an ensemble, which is recomputed from its
   * members every time).
   */
  save(modelId: string, version: string, provider: string, rows: readonly SlicePrediction[], modelSha256: string | null = null): void {
    const at = nowIso();
    const stmt = this.db.prepare(
      `INSERT INTO predictions (instance_id, model_id, model_version, provider, ${SCORE_COLUMNS.join(', ')}, created_at, model_sha256)
       VALUES (@instanceId, @modelId, @version, @provider, ${SCORE_COLUMNS.map((c) => `@${c}`).join(', ')}, @at, @modelSha256)
       ON CONFLICT (instance_id, model_id) DO UPDATE SET model_version = excluded.model_version, provider = excluded.provider,
         ${SCORE_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}, created_at = excluded.created_at, model_sha256 = excluded.model_sha256`,
    );
    this.db.transaction(() => {
      for (const r of rows) {
        const p = Array.from(r.probabilities);
        stmt.run({ instanceId: r.instanceId, modelId, version, provider, ...Object.fromEntries(SCORE_COLUMNS.map((c, k) => [c, p[k]])), at, modelSha256 });
      }
    })();
  }

  /**
   * The stored probabilities of these slices made by exactly this model file: a slice's pixels never
   * change once stored (a conflicting resend is kept as another instance), so they need no rerun.
   */
  byFile(modelId: string, modelSha256: string, instanceIds: readonly number[]): Map<number, Float32Array> {
    const out = new Map<number, Float32Array>();
    const rows = this.db
      .prepare(
        `SELECT instance_id, ${SCORE_COLUMNS.join(', ')} FROM predictions
         WHERE model_id = @modelId AND model_sha256 = @modelSha256 AND instance_id IN ${jsonListValues(this.db, 'ids', 'integer')}
         ORDER BY instance_id`,
      )
      .all({ modelId, modelSha256, ids: JSON.stringify(instanceIds) }) as Record<string, number>[];
    for (const r of rows) out.set(r.instance_id!, Float32Array.from(SCORE_COLUMNS.map((c) => r[c]!)));
    return out;
  }

  /**
   * Every model's per-slice probabilities for one study, grouped by model, in series then slice
   * order: with `scoredSeriesOnly`, only series whose scoring finished and that the networks read;
   * `withReceiving`: series still arriving count too, in their interim order; `includingSeries`:
   * that series counts too whatever its state. Without `scoredSeriesOnly`, every series.
   */
  ofStudy(studyUid: string, filter: StudyPredictionsFilter): Map<string, StoredPrediction[]> {
    const scored = filter.scoredSeriesOnly ? countedSeriesJoin(filter.withReceiving ?? false) : '';
    return groupByModel(
      this.db
        .prepare(`${SELECT_PREDICTIONS} ${scored} WHERE i.study_uid = @study ORDER BY p.model_id, i.series_uid, i.slice_index, i.id`)
        .all(filter.scoredSeriesOnly ? { study: studyUid, including: filter.includingSeries ?? null } : { study: studyUid }) as Record<
        string,
        unknown
      >[],
    );
  }

  /** A study's per-slice probabilities of every model, as the viewer draws them. */
  forViewer(studyUid: string): ModelPredictions[] {
    return [...this.ofStudy(studyUid, { scoredSeriesOnly: false }).values()].map((rows) => ({
      modelId: rows[0]!.modelId,
      modelVersion: rows[0]!.modelVersion,
      provider: rows[0]!.provider,
      slices: rows.map((r) => ({ instanceId: r.instanceId, p: probabilitiesFromArray(r.probabilities) })),
    }));
  }

  /** Every stored prediction, grouped by model, each list in study, series, slice order. */
  all(): Map<string, StoredPrediction[]> {
    return groupByModel(
      this.db.prepare(`${SELECT_PREDICTIONS} ORDER BY p.model_id, i.study_uid, i.series_uid, i.slice_index, i.id`).all() as Record<
        string,
        unknown
      >[],
    );
  }

  /** Which model runs (id, version, execution provider) produced predictions, per study. */
  producers(studyUids: readonly string[]): Map<string, Producer[]> {
    const out = new Map<string, Producer[]>();
    if (!studyUids.length) return out;
    const rows = this.db
      .prepare(
        `SELECT DISTINCT i.study_uid, p.model_id, p.model_version, p.provider
         FROM predictions p JOIN instances i ON i.id = p.instance_id
         WHERE i.study_uid IN ${jsonListValues(this.db, 'uids', 'text')} ORDER BY p.model_id`,
      )
      .all({ uids: JSON.stringify(studyUids) }) as Record<string, unknown>[];
    for (const r of rows) {
      const uid = r.study_uid as string;
      const list = out.get(uid) ?? [];
      list.push({ modelId: r.model_id as string, modelVersion: String(r.model_version), provider: r.provider as string });
      out.set(uid, list);
    }
    return out;
  }
}
