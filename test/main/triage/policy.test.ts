import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers.js';
import { FLAG_SENSITIVITY, MIN_LOCAL_CASES, thresholdsFromReviews, type ReviewedStudy } from '../../../src/main/triage/policy.js';
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

  it('overlapping reviews: every confirmed study stays flagged, whatever that costs the dismissed ones', () => {
    const studies = [
      ...[0.9, 0.6, 0.5, 0.3, 0.2].map((p) => confirmed(p, p)),
      ...[0.1, 0.15, 0.25, 0.4, 0.55].map((p) => dismissed(p)),
    ];
    const any = thresholdsFromReviews(studies).find((t) => t.label === 'any')!;
    // 95 % of five confirmed studies is all five: the lowest confirmed score, 0.2.
    expect(any.threshold).toBe(0.2);
    expect(any.sensitivity).toBe(1);
    expect(any.specificity).toBeCloseTo(0.4, 9);
    expect(any.reason).toBe('the highest threshold that flags 95 % of 5 confirmed studies');
  });

  it('sensitivity first: with twenty confirmed studies one may fall below, where Youden would give up more', () => {
    const low = [0.05, 0.3, 0.32, 0.34, 0.36];
    const high = Array.from({ length: 15 }, (_, i) => 0.6 + 0.02 * i);
    const studies = [...[...low, ...high].map((p) => confirmed(p, p)), ...[0.31, 0.33, 0.35, 0.37, 0.39].map((p) => dismissed(p))];
    const any = thresholdsFromReviews(studies).find((t) => t.label === 'any')!;
    // Youden's J would take 0.6 (sensitivity 15/20, specificity 1: J 0.75, against -0.05 at 0.3).
    expect(any.threshold).toBe(0.3);
    expect(any.sensitivity).toBe(19 / 20);
    expect(any.specificity).toBe(0);
  });

  it("a subtype's threshold is raised above every dismissed study", () => {
    const studies = [
      ...[0.9, 0.8, 0.7, 0.6, 0.5].map((p) => confirmed(0.9, p)),
      ...[0.65, 0.02, 0.02, 0.02, 0.02].map((sdh) => dismissed(0.1, sdh)),
    ];
    const sdh = thresholdsFromReviews(studies).find((t) => t.label === 'subdural')!;
    // Its own 95 % point is 0.5; a dismissed study scored 0.65, so the next confirmed score above it.
    expect(sdh.threshold).toBe(0.7);
    expect(sdh.sensitivity).toBeCloseTo(3 / 5, 9);
    expect(sdh.specificity).toBe(1);
    expect(sdh.reason).toMatch(/raised above every dismissed study$/);
    const any = thresholdsFromReviews(studies).find((t) => t.label === 'any')!;
    expect(any.threshold).toBe(0.9); // "any" is never raised: it is the label that finds the bleed
  });

  it("the proposal's sensitivity is the one the model manifest's default thresholds were chosen for", () => {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'manifest.json'), 'utf8')) as {
      ranking?: { study_sensitivity?: number };
    };
    expect(manifest.ranking?.study_sensitivity).toBe(FLAG_SENSITIVITY);
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
