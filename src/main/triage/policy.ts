/**
 * Triage policy: which family ranks the worklist by default, and at which probability a study is
 * flagged. One owner for both, so the screen, the CLI and `triage evaluate` flag by the same numbers.
 *
 * Input: the model manifest (its `ranking` record, written by models/training/onnx_export.py from a
 * measurement on a phantom seed used neither for training nor for testing) and a site's overrides.
 * Output: a family and six thresholds in label order.
 *
 * The operating thresholds are the manifest's, not 0.5, chosen on that seed's study scores (each
 * study's highest slice, as a study is flagged here): per label the highest threshold that still
 * flags 95 % of the studies with that label, a subtype's raised above every study without blood
 * (models/training/ranking.py says why). The networks' probabilities are calibrated, but a
 * calibrated 30 % is still a study a radiologist wants to see first; and a threshold chosen on
 * single slices would flag nearly every study, since a study's highest slice sits far above a
 * typical one. A site may override any label in Settings; the override is recorded in the
 * audit log and shown as such.
 */
import { LABELS, type Label } from '../../shared/labels.js';
import { CONVLSTM_ID, DEFAULT_RANKING_FAMILY, ENSEMBLE_ID, RANKING_FAMILIES, type RankingFamily } from './ranking.js';

/** Where a threshold comes from when neither the manifest nor the site gives one. */
export const FALLBACK_THRESHOLD = 0.5;

type Thresholds = Readonly<Record<string, number>>;

/** The parts of models/manifest.json the policy reads (structural, so triage needs no inference import). */
export interface PolicySource {
  readonly models: readonly { readonly id: string; readonly thresholds?: Thresholds | undefined }[];
  readonly ensembles: readonly { readonly id: string; readonly thresholds?: Thresholds | undefined }[];
  readonly ranking?: unknown;
}

export interface RankingRecord {
  /** The family measured best, the default until a site chooses another. */
  readonly family: RankingFamily;
  /** One sentence a radiologist can read: what was measured and how the families compared. */
  readonly reason: string;
  /** Operating thresholds of each family, chosen on the same measurement set. */
  readonly thresholds: Readonly<Partial<Record<RankingFamily, Thresholds>>>;
}

function isThresholds(v: unknown): v is Thresholds {
  return typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'number' && x >= 0 && x <= 1);
}

/** The manifest's ranking record, or undefined when it has none (older manifests) or it is malformed. */
export function rankingRecord(source: PolicySource): RankingRecord | undefined {
  const r = source.ranking as { family?: unknown; reason?: unknown; thresholds?: unknown } | undefined;
  if (!r || !RANKING_FAMILIES.includes(r.family as RankingFamily)) return undefined;
  const thresholds: Partial<Record<RankingFamily, Thresholds>> = {};
  if (typeof r.thresholds === 'object' && r.thresholds !== null) {
    for (const f of RANKING_FAMILIES) {
      const t = (r.thresholds as Record<string, unknown>)[f];
      if (isThresholds(t)) thresholds[f] = t;
    }
  }
  return { family: r.family as RankingFamily, reason: typeof r.reason === 'string' ? r.reason : '', thresholds };
}

/** The family that ranks when a site has not chosen one: the manifest's measured choice. */
export function defaultRankingFamily(source: PolicySource): RankingFamily {
  return rankingRecord(source)?.family ?? DEFAULT_RANKING_FAMILY;
}

/**
 * A family's operating thresholds in label order: the ranking record's, else the family's own
 * manifest entry (for 'mean', the mean of the two families'), else 0.5.
 */
export function familyThresholds(source: PolicySource, family: RankingFamily | string): number[] {
  const recorded = rankingRecord(source)?.thresholds[family as RankingFamily];
  if (recorded) return LABELS.map((l) => recorded[l] ?? FALLBACK_THRESHOLD);
  const entry = (id: string): Thresholds | undefined =>
    source.models.find((m) => m.id === id)?.thresholds ?? source.ensembles.find((e) => e.id === id)?.thresholds;
  const of = (id: string) => LABELS.map((l) => entry(id)?.[l] ?? FALLBACK_THRESHOLD);
  if (family !== 'mean') return of(family);
  const a = of(CONVLSTM_ID);
  const b = of(ENSEMBLE_ID);
  return a.map((v, i) => (v + b[i]!) / 2);
}

/**
 * The thresholds the worklist flags by: per label the site's override when it set one, else the
 * ranking family's operating threshold. `source` says which, per label.
 */
export function flagThresholds(
  source: PolicySource,
  family: RankingFamily,
  overrides: Readonly<Partial<Record<Label, unknown>>> = {},
): { thresholds: Record<Label, number>; source: Record<Label, 'site' | 'model'> } {
  const base = familyThresholds(source, family);
  const thresholds = {} as Record<Label, number>;
  const from = {} as Record<Label, 'site' | 'model'>;
  LABELS.forEach((l, i) => {
    const v = overrides[l];
    const valid = typeof v === 'number' && v >= 0 && v <= 1;
    thresholds[l] = valid ? v : base[i]!;
    from[l] = valid ? 'site' : 'model';
  });
  return { thresholds, source: from };
}

/** A study is flagged when any label's score reaches its threshold. */
export function isFlagged(score: Readonly<Record<Label, number>> | null, thresholds: Readonly<Record<Label, number>>): boolean {
  return score !== null && LABELS.some((l) => score[l] >= thresholds[l]);
}

/** A reviewed study as the local-data thresholds see it: its ranking score and the reader's decision. */
export interface ReviewedStudy {
  readonly score: Readonly<Record<Label, number>>;
  readonly decision: 'confirmed' | 'dismissed';
  /** The subtypes the reader confirmed (empty when dismissed). */
  readonly subtypes: readonly Label[];
}

export interface LocalThreshold {
  readonly label: Label;
  /** The proposed threshold, or null when the reviewed studies cannot support one. */
  readonly threshold: number | null;
  readonly positives: number;
  readonly negatives: number;
  /** Sensitivity and specificity on the reviewed studies at the proposed threshold. */
  readonly sensitivity: number | null;
  readonly specificity: number | null;
  readonly reason: string;
}

/** Fewest reviewed positives and negatives per label before a local threshold is proposed. */
export const MIN_LOCAL_CASES = 5;

/**
 * The share of a label's bleeding studies a flag threshold must flag. The model manifest's default
 * thresholds are chosen by the same rule on phantom studies (models/training/ranking.py, recorded
 * as the manifest's `ranking.study_sensitivity`), so a site's proposal means what the default means.
 */
export const FLAG_SENSITIVITY = 0.95;

/**
 * Flag thresholds from this site's own reviewed studies, by the rule the manifest's defaults
 * follow: per label, the highest threshold on the ranking score that still flags FLAG_SENSITIVITY
 * of the studies confirmed with that label (sensitivity first: a missed flag on a bleed costs more
 * than a flagged normal study); a subtype's is then raised, where needed, above every dismissed
 * study, because "any" says whether there is a bleed and a subtype only which. "any" is positive
 * for every confirmed study; a subtype for the confirmed studies that name it, and negative for
 * the rest. A label with fewer than MIN_LOCAL_CASES positives or negatives gets no proposal, with
 * the reason: a threshold from three studies would be noise presented as policy.
 */
export function thresholdsFromReviews(studies: readonly ReviewedStudy[], minEach = MIN_LOCAL_CASES): LocalThreshold[] {
  const dismissed = studies.filter((s) => s.decision === 'dismissed');
  return LABELS.map((label) => {
    const pos: number[] = [];
    const neg: number[] = [];
    for (const s of studies) {
      const positive = s.decision === 'confirmed' && (label === 'any' || s.subtypes.includes(label));
      (positive ? pos : neg).push(s.score[label]);
    }
    const base = { label, positives: pos.length, negatives: neg.length };
    if (pos.length < minEach || neg.length < minEach) {
      return {
        ...base,
        threshold: null,
        sensitivity: null,
        specificity: null,
        reason: `needs at least ${minEach} reviewed studies with and ${minEach} without (has ${pos.length} and ${neg.length})`,
      };
    }
    const ascending = [...pos].sort((a, b) => a - b);
    // The confirmed studies the threshold may leave below it (the epsilon keeps 0.95 × 20 at 1).
    let t = ascending[Math.floor((1 - FLAG_SENSITIVITY) * ascending.length + 1e-9)]!;
    let raised = false;
    const quietAbove = dismissed.length > 0 && label !== 'any' ? Math.max(...dismissed.map((s) => s.score[label])) : -Infinity;
    if (quietAbove >= t) {
      const above = ascending.filter((p) => p > quietAbove);
      t = above.length > 0 ? above[0]! : Math.min(1, quietAbove + Number.EPSILON);
      raised = true;
    }
    const rule = `the highest threshold that flags ${Math.round(100 * FLAG_SENSITIVITY)} % of ${pos.length} confirmed studies`;
    return {
      ...base,
      threshold: t,
      sensitivity: pos.filter((p) => p >= t).length / pos.length,
      specificity: neg.filter((n) => n < t).length / neg.length,
      reason: raised ? `${rule}, raised above every dismissed study` : rule,
    };
  });
}
