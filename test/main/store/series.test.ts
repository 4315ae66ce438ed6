/**
 * The series repository on a real database: a series made and grown by its slices, settled and
 * re-opened by a late slice, the states it moves through, the facts and choice of which series a
 * study's networks read, and a study's series as the viewer lists them.
 */
import { expect, it } from 'vitest';
import { recordSeries, slice, eachBackend } from '../../fixtures/store.js';

eachBackend('series', 'triage-series-', (fresh, backend) => {
  it('is made by its first slice and counts the slices that follow, in camelCase', () => {
    const { store } = fresh();
    recordSeries(store, 3);
    expect(store.series.get('1.2.3.2')).toEqual({
      seriesUid: '1.2.3.2',
      studyUid: '1.2.3.1',
      seriesNumber: 2,
      description: 'HEAD 5mm',
      state: 'receiving',
      stateReason: null,
      lastArrivalAt: expect.any(String),
      readyAt: null,
      sliceCount: 3,
      imageType: 'ORIGINAL\\PRIMARY\\AXIAL',
      kernel: 'STANDARD',
      sliceThickness: 5,
      contrastAgent: null,
      skippedReason: null,
    });
    expect(store.series.get('no.such.series')).toBeUndefined();
  });

  it('settles: due series by their last arrival, ready with a count; a late slice sends one back to receiving', () => {
    const { store } = fresh();
    recordSeries(store, 2);
    const last = store.series.get('1.2.3.2')!.lastArrivalAt;
    expect(store.series.toSettle(new Date(Date.parse(last) - 1).toISOString())).toEqual([]);
    expect(store.series.toSettle(last).map((s) => s.seriesUid)).toEqual(['1.2.3.2']);
    expect(store.series.toSettle(null).map((s) => s.seriesUid)).toEqual(['1.2.3.2']);
    store.series.markReady('1.2.3.2', 2);
    expect(store.series.get('1.2.3.2')).toMatchObject({ state: 'ready', readyAt: expect.any(String), sliceCount: 2 });
    expect(store.series.toSettle(null)).toEqual([]);
    store.series.setState('1.2.3.2', 'failed', 'inference failed (will retry): worker crashed');
    expect(store.series.get('1.2.3.2')).toMatchObject({ state: 'failed', stateReason: 'inference failed (will retry): worker crashed' });
    recordSeries(store, 1, {}, 2);
    expect(store.series.get('1.2.3.2')).toMatchObject({ state: 'receiving', stateReason: null, sliceCount: 3 });
  });

  it('lists the series in one state in the order they were first seen, and counts them', () => {
    const { store } = fresh();
    for (const uid of ['1.2.3.2.9', '1.2.3.2.1', '1.2.3.2.5']) recordSeries(store, 1, { seriesUid: uid });
    for (const uid of ['1.2.3.2.9', '1.2.3.2.5']) store.series.setState(uid, 'awaiting_model', 'awaiting model');
    expect(store.series.inState('awaiting_model').map((s) => s.seriesUid)).toEqual(['1.2.3.2.9', '1.2.3.2.5']);
    expect(store.series.count()).toBe(3);
    expect(store.series.count('awaiting_model')).toBe(2);
    expect(store.series.count('receiving')).toBe(1);
  });

  it('lists series still arriving with their slice counts, the longest waiting first', () => {
    const { store } = fresh();
    recordSeries(store, 2, { seriesUid: '1.2.3.2.a' });
    recordSeries(store, 3, { seriesUid: '1.2.3.2.b' });
    recordSeries(store, 1, { seriesUid: '1.2.3.2.c' });
    store.series.markReady('1.2.3.2.c', 1);
    expect(store.series.arriving()).toEqual([
      { seriesUid: '1.2.3.2.a', studyUid: '1.2.3.1', sliceCount: 2 },
      { seriesUid: '1.2.3.2.b', studyUid: '1.2.3.1', sliceCount: 3 },
    ]);
  });

  it('gives the series choice its facts, settled series alone or all, and records the choice', () => {
    const { store } = fresh();
    recordSeries(store, 3, { seriesUid: '1.2.3.2.soft' });
    recordSeries(store, 2, { seriesUid: '1.2.3.2.bone', kernel: 'BONE', seriesDescription: 'HEAD BONE', contrastAgent: 'OMNIPAQUE 350' });
    store.series.markReady('1.2.3.2.soft', 3);
    expect(store.series.facts('1.2.3.1', { settledOnly: true })).toEqual([
      { seriesUid: '1.2.3.2.soft', description: 'HEAD 5mm', imageType: 'ORIGINAL\\PRIMARY\\AXIAL', kernel: 'STANDARD', sliceThickness: 5, contrastAgent: null, sliceCount: 3 },
    ]);
    expect(store.series.facts('1.2.3.1', { settledOnly: false }).map((f) => [f.seriesUid, f.kernel, f.contrastAgent, f.sliceCount])).toEqual([
      ['1.2.3.2.soft', 'STANDARD', null, 3],
      ['1.2.3.2.bone', 'BONE', 'OMNIPAQUE 350', 2],
    ]);
    store.series.setChoice({ read: '1.2.3.2.soft', skipped: new Map([['1.2.3.2.bone', 'bone kernel']]) });
    expect(store.series.get('1.2.3.2.soft')!.skippedReason).toBeNull();
    expect(store.series.get('1.2.3.2.bone')!.skippedReason).toBe('bone kernel');
  });

  it("lists a study's series by number with their slices, in arrival order until the series is ordered", () => {
    const { store } = fresh();
    recordSeries(store, 2, { seriesUid: '1.2.3.2.late', seriesNumber: 3 });
    const ids = recordSeries(store, 3, { seriesUid: '1.2.3.2.early', seriesNumber: 1, resampled: true, pixelSpacing: undefined });
    const listed = store.series.ofStudy('1.2.3.1');
    expect(listed.map((s) => s.seriesUid)).toEqual(['1.2.3.2.early', '1.2.3.2.late']);
    const first = listed[0]!;
    expect(first.slices.map((s) => [s.instanceId, s.sliceIndex])).toEqual(ids.map((id, i) => [id, i]));
    expect(first.slices[0]).toMatchObject({
      sopUid: '1.2.3.2.early.0',
      instanceNumber: 1,
      slicePosition: null,
      window: { center: 40, width: 80, source: 'tags' },
      resampled: true,
      originalRows: 512,
      orientation: [1, 0, 0, 0, 1, 0],
      pixelSpacing: null,
    });
    store.instances.writeOrder(ids.map((id, i) => ({ id, sliceIndex: 2 - i, slicePosition: 10 - 5 * i })));
    const ordered = store.series.ofStudy('1.2.3.1')[0]!;
    expect(ordered.slices.map((s) => [s.instanceId, s.sliceIndex, s.slicePosition])).toEqual([
      [ids[2], 0, 0],
      [ids[1], 1, 5],
      [ids[0], 2, 10],
    ]);
    expect(store.series.ofStudy('no.such.study')).toEqual([]);
  });

  it('keeps what the first slice said of the series when a later one lacks it', () => {
    const { store } = fresh();
    store.instances.record(slice(0, { kernel: undefined, contrastAgent: '' }));
    store.instances.record(slice(1, { kernel: 'STANDARD', imageType: undefined, contrastAgent: undefined }));
    // an empty ContrastBolusAgent is kept as '' (enhanced, agent not named), not lost as absent
    expect(store.series.get('1.2.3.2')).toMatchObject({ kernel: 'STANDARD', imageType: 'ORIGINAL\\PRIMARY\\AXIAL', contrastAgent: '' });
  });

  it('holds a series for scoring on one workstation at a time; a workstation that goes away holds nothing', () => {
    const { store, reopen } = fresh();
    const other = reopen();
    const release = store.series.holdForScoring('1.2.3.2')!;
    expect(release).toBeTypeOf('function');
    // SQLite has one writer (the data folder's lock): there is no other workstation to keep out.
    const second = other.series.holdForScoring('1.2.3.2');
    if (backend === 'sqlite') {
      expect(second).toBeTypeOf('function');
      return;
    }
    expect(second).toBeNull();
    expect(other.series.holdForScoring('1.2.3.9')).toBeTypeOf('function'); // another series is free
    release();
    const now = other.series.holdForScoring('1.2.3.2')!;
    expect(now).toBeTypeOf('function');
    expect(store.series.holdForScoring('1.2.3.2')).toBeNull();
    other.close(); // its connection ends: the server drops its holds
    expect(store.series.holdForScoring('1.2.3.2')).toBeTypeOf('function');
  });
});
