/**
 * The report's flag line: at a row's thresholds, how many bleeding studies the app would flag and
 * how many normal ones it would leave quiet, by the app's own rule (any label reaching its
 * threshold on the study score, the highest slice).
 */
import { expect, it } from 'vitest';
import { evaluateStored, formatReport } from '../../../src/main/evaluate/index.js';
import type { StoredPrediction } from '../../../src/main/store/index.js';

/** One study of three slices; `peak` is its highest slice's probabilities, the others stay low. */
function study(k: number, bleeds: boolean, peak: number[]): { rows: StoredPrediction[]; labels: [string, number[]][] } {
  const rows: StoredPrediction[] = [];
  const labels: [string, number[]][] = [];
  for (let s = 0; s < 3; s++) {
    const sopUid = `ID_${k}_${s}`;
    rows.push({
      modelId: 'ensemble',
      modelVersion: '1',
      instanceId: k * 10 + s,
      sopUid,
      sourcePath: `/data/${sopUid}.dcm`,
      studyUid: `study-${k}`,
      seriesUid: `series-${k}`,
      sliceIndex: s,
      provider: 'cpu',
      probabilities: s === 1 ? peak : [0.05, 0.01, 0.01, 0.01, 0.01, 0.01],
    });
    labels.push([sopUid, bleeds && s === 1 ? [1, 0, 0, 0, 0, 1] : [0, 0, 0, 0, 0, 0]]);
  }
  return { rows, labels };
}

it('counts the bleeding studies a row flags and the normal studies it leaves quiet', () => {
  const studies = [
    study(1, true, [0.9, 0.02, 0.02, 0.02, 0.02, 0.6]), // flagged by "any"
    study(2, true, [0.3, 0.02, 0.02, 0.02, 0.02, 0.5]), // "any" below, flagged by its subdural score
    study(3, true, [0.3, 0.02, 0.02, 0.02, 0.02, 0.1]), // missed
    study(4, false, [0.2, 0.02, 0.02, 0.02, 0.02, 0.02]), // quiet
    study(5, false, [0.2, 0.02, 0.02, 0.02, 0.6, 0.02]), // a false subarachnoid flag
  ];
  const report = evaluateStored({
    predictions: new Map([['ensemble', studies.flatMap((s) => s.rows)]]),
    labels: new Map(studies.flatMap((s) => s.labels)),
    dataFolder: '/data',
    thresholdsFor: () => [0.5, 0.5, 0.5, 0.5, 0.5, 0.4],
    rankingFamily: 'ensemble',
  });
  const ensemble = report.models.find((m) => m.modelId === 'ensemble')!;
  expect(ensemble.worklist).toMatchObject({ bleedingStudies: 3, normalStudies: 2, bleedingFlagged: 2, normalQuiet: 1 });
  expect(formatReport(report)).toMatch(/2\/3 bleeding studies flagged, 1\/2 normal studies quiet/);
});
