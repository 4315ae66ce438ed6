/**
 * The predictions repository on a real database: per-slice probabilities per model, found again by
 * the model file that made them, grouped by model in series and slice order, filtered to the
 * series a study score counts, and the model runs that produced a study's predictions.
 */
import { expect, it } from 'vitest';
import type { Store } from '../../../src/main/store/index.js';
import { recordSeries, eachBackend } from '../../fixtures/store.js';

const P = (any: number) => [any, 0.01, 0.02, 0.03, 0.04, 0.05];

/** Two ordered series of study 1.2.3.1 (a: 2 slices, b: 3), each slice's `any` its own. */
function twoSeries(store: Store): { a: number[]; b: number[] } {
  const a = recordSeries(store, 2, { seriesUid: '1.2.3.2.a' });
  const b = recordSeries(store, 3, { seriesUid: '1.2.3.2.b' });
  store.instances.writeOrder([...a, ...b].map((id, i) => ({ id, sliceIndex: i < 2 ? 1 - i : i - 2, slicePosition: null })));
  return { a, b };
}

eachBackend('predictions', 'triage-predictions-', (fresh) => {
  it('saves per-slice probabilities and finds them again only for the same model file', () => {
    const { store } = fresh();
    const { a } = twoSeries(store);
    store.predictions.save('convlstm', '1', 'cpu', a.map((instanceId, i) => ({ instanceId, probabilities: new Float32Array(P(0.5 + i / 4)) })), 'sha-1');
    const found = store.predictions.byFile('convlstm', 'sha-1', [...a, 999]);
    expect([...found.keys()]).toEqual(a);
    expect(Array.from(found.get(a[1]!)!)).toEqual(Array.from(new Float32Array(P(0.75))));
    expect(store.predictions.byFile('convlstm', 'sha-2', a).size).toBe(0);
    expect(store.predictions.byFile('ensemble', 'sha-1', a).size).toBe(0);
  });

  it('groups a study by model in series then slice order, in camelCase rows', () => {
    const { store } = fresh();
    const { a, b } = twoSeries(store);
    store.predictions.save('convlstm', '3', 'cpu', [...a, ...b].map((instanceId, i) => ({ instanceId, probabilities: P(i / 10) })));
    store.predictions.save('ensemble', '2', 'cuda+cpu', [{ instanceId: a[0]!, probabilities: P(0.9) }]);
    const byModel = store.predictions.ofStudy('1.2.3.1', { scoredSeriesOnly: false });
    expect([...byModel.keys()]).toEqual(['convlstm', 'ensemble']);
    const rows = byModel.get('convlstm')!;
    expect(rows.map((r) => [r.seriesUid.slice(-1), r.sliceIndex, r.instanceId])).toEqual([
      ['a', 0, a[1]],
      ['a', 1, a[0]],
      ['b', 0, b[0]],
      ['b', 1, b[1]],
      ['b', 2, b[2]],
    ]);
    expect(rows[0]).toEqual({
      modelId: 'convlstm',
      modelVersion: '3',
      instanceId: a[1],
      sopUid: '1.2.3.2.a.1',
      sourcePath: '/import/1.2.3.2.a.1.dcm',
      studyUid: '1.2.3.1',
      seriesUid: '1.2.3.2.a',
      sliceIndex: 0,
      provider: 'cpu',
      probabilities: P(0.1),
    });
    expect([...store.predictions.all().keys()]).toEqual(['convlstm', 'ensemble']);
    expect(store.predictions.all().get('convlstm')!.map((r) => r.instanceId)).toEqual(rows.map((r) => r.instanceId));
  });

  it('counts for a study score only the series it should: scored, arriving when provisional, the one in flight, never a skipped one', () => {
    const { store } = fresh();
    const { a, b } = twoSeries(store);
    store.predictions.save('convlstm', '1', 'cpu', [...a, ...b].map((instanceId) => ({ instanceId, probabilities: P(0.2) })));
    const series = (filter: Parameters<Store['predictions']['ofStudy']>[1]) => [
      ...new Set((store.predictions.ofStudy('1.2.3.1', filter).get('convlstm') ?? []).map((r) => r.seriesUid.slice(-1))),
    ];
    expect(series({ scoredSeriesOnly: true })).toEqual([]); // both still arriving
    expect(series({ scoredSeriesOnly: true, withReceiving: true })).toEqual(['a', 'b']);
    store.series.setState('1.2.3.2.a', 'scored', null);
    store.series.setState('1.2.3.2.b', 'ready', null);
    expect(series({ scoredSeriesOnly: true })).toEqual(['a']);
    expect(series({ scoredSeriesOnly: true, includingSeries: '1.2.3.2.b' })).toEqual(['a', 'b']);
    store.series.setChoice({ read: '1.2.3.2.b', skipped: new Map([['1.2.3.2.a', 'bone kernel']]) });
    expect(series({ scoredSeriesOnly: true, includingSeries: '1.2.3.2.b' })).toEqual(['b']);
    expect(series({ scoredSeriesOnly: false })).toEqual(['a', 'b']);
  });

  it("gives the viewer every model's curve and the worklist which model runs produced a study's predictions", () => {
    const { store } = fresh();
    const { a } = twoSeries(store);
    store.predictions.save('convlstm', '1', 'cpu', a.map((instanceId) => ({ instanceId, probabilities: P(0.4) })));
    store.predictions.save('efficientnet_b3', '2', 'cuda', a.map((instanceId) => ({ instanceId, probabilities: P(0.6) })));
    const curves = store.predictions.forViewer('1.2.3.1');
    expect(curves.map((c) => [c.modelId, c.modelVersion, c.provider, c.slices.length])).toEqual([
      ['convlstm', '1', 'cpu', 2],
      ['efficientnet_b3', '2', 'cuda', 2],
    ]);
    expect(curves[0]!.slices[0]).toEqual({ instanceId: a[1], p: { any: 0.4, epidural: 0.01, intraparenchymal: 0.02, intraventricular: 0.03, subarachnoid: 0.04, subdural: 0.05 } });
    const producers = store.predictions.producers(['1.2.3.1', 'no.such.study']);
    expect([...producers.keys()]).toEqual(['1.2.3.1']);
    expect(producers.get('1.2.3.1')).toEqual([
      { modelId: 'convlstm', modelVersion: '1', provider: 'cpu' },
      { modelId: 'efficientnet_b3', modelVersion: '2', provider: 'cuda' },
    ]);
    expect(store.predictions.producers([]).size).toBe(0);
  });
});
