/**
 * Study scores (table `study_scores`): per study and model (or ensemble, or 'ranking': the
 * site's ranking family), the six probabilities, the slices that drove them, and whether they are
 * provisional (made while a series of the study was still arriving).
 */
import type { SqlHandle } from './handle.js';
import { nowIso } from './handle.js';
import { SCORE_COLUMNS, scoreFromRow } from './score-columns.js';
import type { StudyScoreEntry } from '../../shared/api.js';

function toStudyScore(r: Record<string, unknown>): StudyScoreEntry {
  return {
    modelId: r.model_id as string,
    score: scoreFromRow(r),
    keySlices: parseIdList(r.key_slices),
    computedAt: r.computed_at as string,
  };
}

function parseIdList(v: unknown): number[] {
  try {
    const parsed: unknown = JSON.parse(String(v ?? '[]'));
    return Array.isArray(parsed) ? parsed.filter((x): x is number => Number.isInteger(x)) : [];
  } catch {
    return [];
  }
}

export class ScoreRepository {
  constructor(private readonly db: SqlHandle) {}

  /** `provisional`: made while a series of the study was still arriving, from `slicesScored` slices. */
  save(
    studyUid: string,
    modelId: string,
    probabilities: ArrayLike<number>,
    keySlices: readonly number[],
    provisional: { slicesScored: number } | null = null,
  ): void {
    const p = Array.from(probabilities);
    this.db
      .prepare(
        `INSERT INTO study_scores (study_uid, model_id, ${SCORE_COLUMNS.join(', ')}, key_slices, computed_at, provisional, slices_scored)
         VALUES (@studyUid, @modelId, ${SCORE_COLUMNS.map((c) => `@${c}`).join(', ')}, @keySlices, @at, @provisional, @slicesScored)
         ON CONFLICT (study_uid, model_id) DO UPDATE SET ${SCORE_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')},
           key_slices = excluded.key_slices, computed_at = excluded.computed_at, provisional = excluded.provisional,
           slices_scored = excluded.slices_scored`,
      )
      .run({
        studyUid,
        modelId,
        ...Object.fromEntries(SCORE_COLUMNS.map((c, k) => [c, p[k]])),
        keySlices: JSON.stringify(keySlices),
        at: nowIso(),
        provisional: provisional ? 1 : 0,
        slicesScored: provisional?.slicesScored ?? null,
      });
  }

  /** Removes every score of a study (before its scores are written again from its predictions). */
  clear(studyUid: string): void {
    this.db.prepare('DELETE FROM study_scores WHERE study_uid = @studyUid').run({ studyUid });
  }

  get(studyUid: string, modelId: string): StudyScoreEntry | undefined {
    const row = this.db
      .prepare('SELECT * FROM study_scores WHERE study_uid = @studyUid AND model_id = @modelId')
      .get({ studyUid, modelId }) as Record<string, unknown> | undefined;
    return row ? toStudyScore(row) : undefined;
  }

  /** Every model's score of a study, by model id. */
  ofStudy(studyUid: string): StudyScoreEntry[] {
    return (
      this.db.prepare('SELECT * FROM study_scores WHERE study_uid = @studyUid ORDER BY model_id').all({ studyUid }) as Record<string, unknown>[]
    ).map(toStudyScore);
  }
}
