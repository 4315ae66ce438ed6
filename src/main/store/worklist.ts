/**
 * The worklist query: studies ranked by the site's ranking score for "any" (most likely bleed
 * first); studies not yet scored follow, oldest arrival first so nothing waits unseen.
 */
import type { SqlHandle } from './handle.js';
import { RANKING_SCORE_ID, type WorklistRow } from '../../shared/api.js';
import { scoreFromRow } from './score-columns.js';

export { RANKING_SCORE_ID };

/** The setting where the scorer records which ranking family made the 'ranking' scores. */
export const RANKING_IN_USE_SETTING = 'rankingModelInUse';

export interface WorklistQuery {
  limit?: number;
  /** One study's row (the viewer), through the same query that defines every row. */
  studyUid?: string;
  reviewStatus?: WorklistRow['reviewStatus'][];
  minScore?: number;
  arrivedAfter?: string;
  arrivedBefore?: string;
  sort?: 'score' | 'arrival';
}

// Series states from most to least urgent to show: a study is as far along as its least
// advanced series.
const STATE_ORDER = ['failed', 'receiving', 'ready', 'awaiting_model', 'scored'] as const;

export class WorklistRepository {
  constructor(private readonly db: SqlHandle) {}

  query(q: WorklistQuery = {}): WorklistRow[] {
    return queryWorklist(this.db, q);
  }
}

function queryWorklist(db: SqlHandle, q: WorklistQuery = {}): WorklistRow[] {
  const { where, params } = filters(q);
  const order =
    q.sort === 'arrival'
      ? 's.first_arrival_at DESC, s.study_uid'
      : '(sc.p_any IS NULL), sc.p_any DESC, s.first_arrival_at ASC, s.study_uid';
  const limit = q.limit !== undefined ? `LIMIT ${Math.max(0, Math.floor(q.limit))}` : '';
  const rows = db
    .prepare(
      // The page of studies is chosen first (sort and limit over studies and their score only);
      // the per-series figures are then computed for that page alone, not for every study. The
      // series states are joined by a newline written as itself: char(10) is SQLite's, chr(10)
      // PostgreSQL's.
      `SELECT s.*, (SELECT COUNT(*) FROM series se WHERE se.study_uid = s.study_uid) AS series_count,
              (SELECT COALESCE(SUM(se.slice_count), 0) FROM series se WHERE se.study_uid = s.study_uid) AS slice_count,
              (SELECT COALESCE(SUM(se.slice_count), 0) FROM series se
                 WHERE se.study_uid = s.study_uid AND se.skipped_reason IS NULL) AS read_slice_count,
              (SELECT MIN(se.contrast_agent) FROM series se
                 WHERE se.study_uid = s.study_uid AND se.skipped_reason IS NULL) AS read_contrast_agent,
              (SELECT string_agg(se.state || '|' || COALESCE(se.state_reason, ''), '${'\n'}') FROM series se
                 WHERE se.study_uid = s.study_uid AND se.skipped_reason IS NULL) AS series_states,
              (SELECT value FROM settings WHERE key = @rankingInUse) AS ranking_model
       FROM (SELECT s.*, sc.p_any, sc.p_epidural, sc.p_intraparenchymal, sc.p_intraventricular, sc.p_subarachnoid,
                    sc.p_subdural, sc.computed_at AS scored_at, sc.provisional, sc.slices_scored
             FROM studies s
             LEFT JOIN study_scores sc ON sc.study_uid = s.study_uid AND sc.model_id = @ranking
             ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
             ORDER BY ${order} ${limit}) s
       ORDER BY ${order.replaceAll('sc.', 's.')}`,
    )
    .all(params) as Record<string, unknown>[];
  return rows.map(toWorklistRow);
}

/** The WHERE terms of a query and their named binds. */
function filters(q: WorklistQuery): { where: string[]; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = { ranking: RANKING_SCORE_ID, rankingInUse: RANKING_IN_USE_SETTING };
  if (q.reviewStatus?.length) {
    where.push(`s.review_status IN (${q.reviewStatus.map((_, i) => `@rs${i}`).join(', ')})`);
    q.reviewStatus.forEach((r, i) => (params[`rs${i}`] = r));
  }
  if (q.studyUid !== undefined) {
    where.push('s.study_uid = @studyUid');
    params.studyUid = q.studyUid;
  }
  if (q.minScore !== undefined) {
    where.push('sc.p_any >= @minScore');
    params.minScore = q.minScore;
  }
  if (q.arrivedAfter) {
    where.push('s.first_arrival_at >= @after');
    params.after = q.arrivedAfter;
  }
  if (q.arrivedBefore) {
    where.push('s.first_arrival_at <= @before');
    params.before = q.arrivedBefore;
  }
  return { where, params };
}

/** A study's state is that of its least advanced series the networks read. */
function worstState(seriesStates: unknown): { state: (typeof STATE_ORDER)[number]; reason: string | null } {
  const states = String(seriesStates ?? '')
    .split('\n')
    .filter(Boolean)
    .map((s) => {
      const [state, reason] = s.split('|');
      return { state: state as (typeof STATE_ORDER)[number], reason: reason || null };
    });
  states.sort((a, b) => STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state));
  return states[0] ?? { state: 'receiving' as const, reason: null };
}

function toWorklistRow(r: Record<string, unknown>): WorklistRow {
  const worst = worstState(r.series_states);
  const scored = r.p_any !== null && r.p_any !== undefined;
  return {
    studyUid: r.study_uid as string,
    patientName: (r.patient_name as string | null) ?? null,
    patientId: (r.patient_id as string | null) ?? null,
    patientSex: (r.patient_sex as string | null) ?? null,
    patientAge: (r.patient_age as string | null) ?? null,
    accession: (r.accession as string | null) ?? null,
    description: (r.description as string | null) ?? null,
    studyDate: (r.study_date as string | null) ?? null,
    studyTime: (r.study_time as string | null) ?? null,
    firstArrivalAt: r.first_arrival_at as string,
    lastArrivalAt: r.last_arrival_at as string,
    reviewStatus: r.review_status as WorklistRow['reviewStatus'],
    state: worst.state,
    stateReason: worst.reason,
    seriesCount: r.series_count as number,
    sliceCount: r.slice_count as number,
    readSliceCount: r.read_slice_count as number,
    readContrastAgent: (r.read_contrast_agent as string | null) ?? null,
    score: scored ? scoreFromRow(r) : null,
    scoredBy: scored ? (r.ranking_model ? (JSON.parse(r.ranking_model as string) as string) : RANKING_SCORE_ID) : null,
    provisionalSlices: r.provisional ? ((r.slices_scored as number | null) ?? 0) : null,
  };
}
