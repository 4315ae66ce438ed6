import { describe, expect, it } from 'vitest';
import { MIN_LOCAL_CASES, thresholdsFromReviews, type ReviewedStudy } from '../../../src/main/triage/policy.js';
import { LABELS, type Label } from '../../../src/shared/labels.js';

const score = (any: number, sdh = 0.01): Record<Label, number> =>
  Object.fromEntries(LABELS.map((l) => [l, l === 'any' ? any : l === 'subdural' ? sdh : 0.01])) as Record<Label, number>;

describe('flag thresholds from reviewed studies', () => {
  const confirmed = (any: number, sdh: number, subtypes: Label[] = ['subdural']): ReviewedStudy => ({ score: score(any, sdh), decision: 'confirmed', subtypes });
  const dismissed = (any: number, sdh = 0.02): ReviewedStudy => ({ score: score(any, sdh), decision: 'dismissed', subtypes: [] });

  it('separable reviews: the lowest confirmed score that still excludes every dismissed one', () => {
    const studies = [
      ...[0.9, 0.8, 0.7, 0.45, 0.4].map((p) => confirmed(p, p)),
      ...[0.05, 0.1, 0.2, 0.3, 0.35].map((p) => dismissed(p)),
    ];
    const any = thresholdsFromReviews(studies).find((t) => t.label === 'any')!;
    expect(any).toMatchObject({ threshold: 0.4, positives: 5, negatives: 5, sensitivity: 1, specificity: 1 });
    const sdh = thresholdsFromReviews(studies).find((t) => t.label === 'subdural')!;
    expect(sdh.threshold).toBe(0.4);
  });

  it('overlapping reviews: the best trade-off, ties to the more sensitive threshold', () => {
    const studies = [
      ...[0.9, 0.6, 0.5, 0.3, 0.2].map((p) => confirmed(p, p)),
      ...[0.1, 0.15, 0.25, 0.4, 0.55].map((p) => dismissed(p)),
    ];
    const any = thresholdsFromReviews(studies).find((t) => t.label === 'any')!;
    // J is 0.4 at t = 0.2 (sens 1, spec .4), 0.3 (.8, .6), 0.5 (.6, .8) and 0.6 (.4, 1): the lowest wins
    expect(any.threshold).toBe(0.2);
    expect(any.sensitivity).toBe(1);
    expect(any.specificity).toBeCloseTo(0.4, 9);
  });

  it('too few reviewed studies for a label: no proposal, and the reason says how many', () => {
    const studies = [confirmed(0.9, 0.9), confirmed(0.8, 0.1, ['subarachnoid']), ...[0.1, 0.2, 0.3, 0.2, 0.1].map((p) => dismissed(p))];
    const out = thresholdsFromReviews(studies);
    const any = out.find((t) => t.label === 'any')!;
    expect(any.threshold).toBeNull();
    expect(any.reason).toBe(`needs at least ${MIN_LOCAL_CASES} reviewed studies with and ${MIN_LOCAL_CASES} without (has 2 and 5)`);
    // A confirmed study without SDH is an SDH negative.
    expect(out.find((t) => t.label === 'subdural')).toMatchObject({ positives: 1, negatives: 6, threshold: null });
  });
});
