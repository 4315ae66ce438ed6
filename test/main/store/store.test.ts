/**
 * The Store itself on a real database: opened with its migrations and closed, a change across
 * table groups in one transaction (all of it or none), the counts `triage status` prints, and the
 * commit counter that tells the API another process (or, on PostgreSQL, another workstation) wrote.
 */
import { expect, it, vi } from 'vitest';
import { eachBackend, recordSeries } from '../../fixtures/store.js';

eachBackend('the store', 'triage-store-', (fresh) => {
  it('keeps a change across table groups whole: all of it, or none when it throws', () => {
    const { store } = fresh();
    recordSeries(store, 1);
    expect(() =>
      store.transaction(() => {
        store.series.markReady('1.2.3.2', 1);
        store.jobs.enqueue('k', '1.2.3.2@1', { seriesUid: '1.2.3.2' });
        throw new Error('killed half way');
      }),
    ).toThrow('killed half way');
    expect(store.series.get('1.2.3.2')!.state).toBe('receiving');
    expect(store.jobs.pending()).toBe(0);
    expect(
      store.transaction(() => {
        store.series.markReady('1.2.3.2', 1);
        store.jobs.enqueue('k', '1.2.3.2@1', { seriesUid: '1.2.3.2' });
        return 'done';
      }),
    ).toBe('done');
    expect(store.series.get('1.2.3.2')!.state).toBe('ready');
    expect(store.jobs.pending('k')).toBe(1);
  });

  it('counts what `triage status` prints', () => {
    const { store } = fresh();
    recordSeries(store, 3);
    recordSeries(store, 2, { studyUid: '1.2.4.1', seriesUid: '1.2.4.2' });
    store.series.setState('1.2.4.2', 'awaiting_model', 'awaiting model');
    store.files.quarantine('/in/x.dcm', 'x', 1, 'not DICOM');
    store.jobs.enqueue('k', 'one', {});
    expect(store.counts()).toEqual({
      studies: 2,
      series: 2,
      instances: 5,
      instancesHuCorrected: 0,
      quarantined: 1,
      conflicts: 0,
      seriesReceiving: 1,
      seriesAwaitingModel: 1,
      seriesScored: 0,
      seriesFailed: 0,
      jobsPending: 1,
    });
  });

  it("sees another connection's writes in its commit counter, not its own", async () => {
    const { store, sql } = fresh();
    const before = store.dataVersion();
    store.settings.set('flagThresholds', { any: 0.3 });
    // On PostgreSQL the counter follows notices that arrive on their own: give the store's own a
    // moment to arrive (and be passed over) before looking.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(store.dataVersion()).toBe(before);
    sql((db) => db.prepare("INSERT INTO settings (key, value) VALUES ('y', '2')").run());
    await vi.waitFor(() => expect(store.dataVersion()).not.toBe(before), { timeout: 1_000 });
  });

  it('opens what an earlier store wrote, and refuses work once closed', () => {
    const { reopen } = fresh();
    const first = reopen();
    recordSeries(first, 2);
    first.close();
    expect(() => first.studies.count()).toThrow(/not open/);
    const again = reopen();
    expect(again.instances.count()).toBe(2);
    again.close();
  });
});
