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
 * Flag thresholds from this site's own reviewed studies: per label, the threshold on the ranking
 * score that maximises Youden's J (sensitivity + specificity − 1) over the confirmed and dismissed
 * studies, ties going to the lower (more sensitive) threshold. "any" is positive for every
 * confirmed study; a subtype for the confirmed studies that name it, and negative for the rest.
 * A label with fewer than MIN_LOCAL_CASES positives or negatives gets no proposal, with the reason:
 * a threshold from three studies would be noise presented as policy.
 */
export function thresholdsFromReviews(studies: readonly ReviewedStudy[], minEach = MIN_LOCAL_CASES): LocalThreshold[] {
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
    const candidates = [...new Set(pos)].sort((a, b) => a - b);
    let best = { t: candidates[0]!, j: -Infinity, sens: 0, spec: 0 };
    for (const t of candidates) {
      const sens = pos.filter((p) => p >= t).length / pos.length;
      const spec = neg.filter((n) => n < t).length / neg.length;
      if (sens + spec - 1 > best.j) best = { t, j: sens + spec - 1, sens, spec };
    }
    return {
      ...base,
      threshold: best.t,
      sensitivity: best.sens,
      specificity: best.spec,
      reason: `Youden's J on ${pos.length} positive and ${neg.length} negative reviewed studies`,
    };
  });
}
