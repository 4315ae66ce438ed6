/**
 * Both model families' answers side by side, per label, with disagreement shown: a label where
 * one model is at or above the flag threshold and another below it, at least 0.1 apart. Shows whatever model ids the
 * study has (study scores, else the maximum of the model's per-slice predictions).
 */
import { LABELS, type Label, type LabelProbabilities } from '../shared/labels.js';
import { RANKING_SCORE_ID, type ModelPredictions, type StudyScoreEntry, type Thresholds } from '../shared/api.js';
import { LABEL_SHORT, modelShort, pct } from './format.js';

export interface ModelColumn {
  modelId: string;
  score: LabelProbabilities;
  source: 'study score' | 'max over slices';
}

export function modelColumns(scores: StudyScoreEntry[], predictions: ModelPredictions[]): ModelColumn[] {
  const cols: ModelColumn[] = scores.filter((s) => s.modelId !== RANKING_SCORE_ID).map((s) => ({ modelId: s.modelId, score: s.score, source: 'study score' }));
  for (const m of predictions) {
    if (cols.some((c) => c.modelId === m.modelId) || !m.slices.length) continue;
    const score = {} as LabelProbabilities;
    for (const l of LABELS) score[l] = Math.max(...m.slices.map((s) => s.p[l]));
    cols.push({ modelId: m.modelId, score, source: 'max over slices' });
  }
  return cols;
}

/** Below this spread, models straddling the threshold (0.49 vs 0.51) are not called a disagreement. */
export const DISAGREEMENT_MIN_GAP = 0.1;

export function disagrees(cols: ModelColumn[], label: Label, thresholds: Thresholds): boolean {
  const values = cols.map((c) => c.score[label]);
  const above = values.map((v) => v >= thresholds[label]);
  return above.some(Boolean) && above.some((a) => !a) && Math.max(...values) - Math.min(...values) >= DISAGREEMENT_MIN_GAP;
}

export function ModelCompare(props: { columns: ModelColumn[]; thresholds: Thresholds }) {
  const { columns, thresholds } = props;
  if (!columns.length) {
    return (
      <div className="panel" data-testid="models">
        <h3>Models</h3>
        <div className="empty small">No model has scored this study yet (awaiting model).</div>
      </div>
    );
  }
  const anyDisagreement = LABELS.some((l) => disagrees(columns, l, thresholds));
  return (
    <div className="panel" data-testid="models">
      <h3>
        Study score by model {anyDisagreement && <span className="disagree-tag">models disagree</span>}
      </h3>
      <table className="models">
        <thead>
          <tr>
            <th />
            {columns.map((c) => (
              <th key={c.modelId} title={`${c.modelId} (${c.source})`}>
                {modelShort(c.modelId)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {LABELS.map((l) => {
            const d = disagrees(columns, l, thresholds);
            return (
              <tr key={l} className={d ? 'disagree' : ''}>
                <th title={l}>{LABEL_SHORT[l]}</th>
                {columns.map((c) => (
                  <td key={c.modelId} className={c.score[l] >= thresholds[l] ? 'hi' : ''}>
                    {pct(c.score[l])}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="muted small">Bold: at or above the flag threshold. Highlighted rows: the models fall on both sides of the threshold, ≥ 10 points apart.</div>
    </div>
  );
}
