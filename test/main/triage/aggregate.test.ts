import { describe, expect, it } from 'vitest';
import { aggregate, keySlices, meanOf, smooth } from '../../../src/main/triage/index.js';

const slice = (any: number, sdh = 0) => [any, 0, 0, 0, 0, sdh];

describe('study aggregation', () => {
  it('smooths with [¼, ½, ¼], edges repeated', () => {
    expect(smooth([0, 1, 0])).toEqual([0.25, 0.5, 0.25]);
    expect(smooth([1])).toEqual([1]);
    expect(smooth([1, 0])).toEqual([0.75, 0.25]);
  });

  it('lowers a lone spike more than a run of high slices', () => {
    const spike = [slice(0.1), slice(0.9), slice(0.1), slice(0.1)];
    const run = [slice(0.1), slice(0.8), slice(0.8), slice(0.8)];
    expect(aggregate(spike, 'max')[0]).toBeCloseTo(0.9);
    expect(aggregate(spike, 'smoothed-max')[0]).toBeCloseTo(0.5);
    expect(aggregate(run, 'smoothed-max')[0]).toBeCloseTo(0.8);
    expect(aggregate(run, 'smoothed-max')[0]).toBeGreaterThan(aggregate(spike, 'smoothed-max')[0]!);
  });

  it('aggregates each label on its own', () => {
    expect(aggregate([slice(0.2, 0.7), slice(0.3, 0.1)], 'max')).toEqual([0.3, 0, 0, 0, 0, 0.7]);
    expect(aggregate([])).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('names the key slices by the "any" score under the rule, best first', () => {
    const slices = [slice(0.1), slice(0.7), slice(0.1), slice(0.6), slice(0.65), slice(0.1)];
    expect(keySlices(slices, 'max')).toEqual([1, 4, 3]);
    // smoothed, the lone 0.7 (→ 0.4) falls behind the run of 0.6 and 0.65 (→ 0.49, 0.5)
    expect(keySlices(slices, 'smoothed-max')).toEqual([4, 3, 1]);
  });

  it('keeps a bleed seen on one slice only at its full score by default: the plain maximum is the rule', () => {
    const oneSliceBleed = [slice(0.05), slice(0.05), slice(0.9), slice(0.05), slice(0.05)];
    const diffuseNormal = [slice(0.5), slice(0.6), slice(0.6), slice(0.55), slice(0.5)];
    expect(aggregate(oneSliceBleed)[0]).toBeCloseTo(0.9);
    expect(aggregate(oneSliceBleed)[0]).toBeGreaterThan(aggregate(diffuseNormal)[0]!);
    // smoothing would have ranked the normal study first
    expect(aggregate(oneSliceBleed, 'smoothed-max')[0]).toBeLessThan(aggregate(diffuseNormal, 'smoothed-max')[0]!);
  });

  it('averages ensemble members per label, with weights', () => {
    expect(meanOf([[0.2, 0, 0, 0, 0, 1], [0.4, 1, 0, 0, 0, 0]])).toEqual([0.30000000000000004, 0.5, 0, 0, 0, 0.5]);
    expect(meanOf([[1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]], [3, 1])[0]).toBeCloseTo(0.75);
  });
});
