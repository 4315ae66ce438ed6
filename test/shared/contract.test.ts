import { describe, expect, it } from 'vitest';
import contract from '../../src/shared/model-contract.json' with { type: 'json' };
import { LABELS, SUBTYPES, probabilitiesFromArray, probabilitiesToArray } from '../../src/shared/labels.js';
import { applyWindow, BRAIN_WINDOW, ENSEMBLE_STACK_WINDOWS, SYSTEMATIC_WINDOWS, windowToGrey } from '../../src/shared/windows.js';

describe('the model contract', () => {
  it('has the RSNA label order', () => {
    expect(LABELS).toEqual(['any', 'epidural', 'intraparenchymal', 'intraventricular', 'subarachnoid', 'subdural']);
    expect(SUBTYPES).toEqual(LABELS.slice(1));
    expect(probabilitiesToArray(probabilitiesFromArray([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]))).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    expect(() => probabilitiesFromArray([1, 2])).toThrow(/6 probabilities/);
  });

  it('has the ten systematic windows of Rajagopal et al. in order (SEEDS.md)', () => {
    expect(SYSTEMATIC_WINDOWS.map((w) => [w.center, w.width])).toEqual([
      [null, null], [40, 80], [50, 130], [75, 215], [100, 300], [20, 350], [40, 375], [60, 400], [600, 2800], [32, 8],
    ]);
    expect(ENSEMBLE_STACK_WINDOWS.map((w) => [w.center, w.width])).toEqual([[40, 80], [80, 200], [40, 380]]);
    expect(BRAIN_WINDOW).toMatchObject({ center: 40, width: 80 });
    expect(contract.inputSize).toBe(512);
  });

  it('clips to [C − W/2, C + W/2] and normalises to [0, 1]', () => {
    expect(applyWindow(0, BRAIN_WINDOW)).toBe(0);
    expect(applyWindow(40, BRAIN_WINDOW)).toBe(0.5);
    expect(applyWindow(80, BRAIN_WINDOW)).toBe(1);
    expect(applyWindow(-1000, BRAIN_WINDOW)).toBe(0);
    expect(applyWindow(3000, BRAIN_WINDOW)).toBe(1);
    expect(Array.from(windowToGrey(new Float32Array([-100, 0, 40, 80, 500]), BRAIN_WINDOW))).toEqual([0, 0, 128, 255, 255]);
  });
});
