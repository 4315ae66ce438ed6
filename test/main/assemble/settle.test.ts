/**
 * Settling on a real database: a series whose last slice is older than the settle time is put in
 * order by position, marked ready and given a job of the kind its caller names, in one step; a
 * series that waited for a model gets that job when one is installed.
 */
import { describe, expect, it } from 'vitest';
import { requeueAwaitingSeries, settleSeries } from '../../../src/main/assemble/index.js';
import { recordSeries, slice, storeFactory } from '../../fixtures/store.js';

const fresh = storeFactory('triage-settle-');

describe('settling', () => {
  it('orders, readies and queues a job of the caller’s kind for each due series, and none for one still arriving', () => {
    const { store } = fresh();
    // Arrival order is not position order: z = 10, 0, 5.
    const ids = [2, 0, 1].map((k) => store.instances.record(slice(k)).instanceId);
    const last = Date.parse(store.series.get('1.2.3.2')!.lastArrivalAt);
    expect(settleSeries(store, { settleMs: 10_000, jobKind: 'score', now: new Date(last + 5_000) })).toEqual([]);
    expect(store.jobs.pending()).toBe(0);
    expect(settleSeries(store, { settleMs: 10_000, jobKind: 'score', now: new Date(last + 10_000) })).toEqual(['1.2.3.2']);
    expect(store.series.get('1.2.3.2')).toMatchObject({ state: 'ready', sliceCount: 3, skippedReason: null });
    expect(store.instances.ofSeries('1.2.3.2').map((i) => [i.id, i.sliceIndex, i.slicePosition])).toEqual([
      [ids[1], 0, 0],
      [ids[2], 1, 5],
      [ids[0], 2, 10],
    ]);
    expect(store.jobs.claim('infer-series')).toBeUndefined();
    expect(store.jobs.claim('score')).toMatchObject({ key: '1.2.3.2@3', payload: '{"seriesUid":"1.2.3.2"}' });
  });

  it('queues a series that awaited a model again when one is installed, keyed by its slice count', () => {
    const { store } = fresh();
    recordSeries(store, 2);
    settleSeries(store, { settleMs: 0, jobKind: 'score', force: true });
    store.jobs.complete(store.jobs.claim('score')!.id);
    store.series.setState('1.2.3.2', 'awaiting_model', 'awaiting model');
    expect(requeueAwaitingSeries(store, 'score')).toBe(1);
    expect(store.series.get('1.2.3.2')).toMatchObject({ state: 'ready', stateReason: null });
    expect(store.jobs.claim('score')).toMatchObject({ key: '1.2.3.2@2', attempts: 1 });
    expect(requeueAwaitingSeries(store, 'score')).toBe(0);
  });
});
