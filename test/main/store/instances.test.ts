/**
 * The instances repository on a real database: recording a read slice (stored, duplicate,
 * conflict, a series claimed by two studies), the camelCase row it hands back, slice order and
 * the look-ups the viewer and the demo make.
 */
import { expect, it } from 'vitest';
import { SeriesStudyMismatch } from '../../../src/main/store/index.js';
import { recordSeries, slice, eachBackend } from '../../fixtures/store.js';

eachBackend('instances', 'triage-instances-', (fresh) => {
  it('records a slice with its study, series and file rows, and reads it back in camelCase', () => {
    const { store } = fresh();
    const { outcome, instanceId } = store.instances.record(slice(0));
    expect(outcome).toBe('stored');
    expect(store.instances.bySop('1.2.3.2.0')).toMatchObject({
      id: instanceId,
      sopUid: '1.2.3.2.0',
      seriesUid: '1.2.3.2',
      studyUid: '1.2.3.1',
      instanceNumber: 1,
      positionX: 0,
      positionY: 0,
      positionZ: 0,
      orientation: '[1,0,0,0,1,0]',
      sliceIndex: null,
      slicePosition: null,
      resampled: false,
      windowCenter: 40,
      windowWidth: 80,
      windowSource: 'tags',
      huPath: 'hu/px/1.2.3.2.0.i16',
      sourcePath: '/import/1.2.3.2.0.dcm',
      pixelSha256: 'pixels-1.2.3.2.0',
    });
    expect(store.studies.exists('1.2.3.1')).toBe(true);
    expect(store.series.get('1.2.3.2')).toMatchObject({ state: 'receiving', sliceCount: 1 });
    expect(store.files.seen('/import/1.2.3.2.0.dcm', 'file-1.2.3.2.0')).toEqual({ outcome: 'stored' });
    expect(store.instances.huPath(instanceId)).toBe('hu/px/1.2.3.2.0.i16');
    expect(store.instances.sopUid(instanceId)).toBe('1.2.3.2.0');
    expect(store.instances.huPath(instanceId + 1)).toBeUndefined();
  });

  it('keeps one instance for the same SOPInstanceUID and pixels sent again from another file', () => {
    const { store } = fresh();
    const first = store.instances.record(slice(0));
    const again = store.instances.record(slice(0, { sourcePath: '/import/copy.dcm', fileSha256: 'file-copy' }));
    expect(again).toEqual({ outcome: 'duplicate', instanceId: first.instanceId });
    expect(store.instances.count()).toBe(1);
    expect(store.series.get('1.2.3.2')!.sliceCount).toBe(1);
    expect(store.files.seen('/import/copy.dcm', 'file-copy')).toEqual({ outcome: 'duplicate' });
  });

  it('keeps the first of two slices with one SOPInstanceUID and other pixels, and records the second as a conflict', () => {
    const { store, sql } = fresh();
    const first = store.instances.record(slice(0));
    const other = slice(0, { sourcePath: '/import/other.dcm', fileSha256: 'file-other', pixelSha256: 'other-pixels' });
    expect(store.instances.record(other)).toEqual({ outcome: 'conflict', instanceId: first.instanceId });
    expect(store.instances.bySop('1.2.3.2.0')!.pixelSha256).toBe('pixels-1.2.3.2.0');
    expect(store.files.conflictCount()).toBe(1);
    expect(store.files.seen('/import/other.dcm', 'file-other')).toEqual({ outcome: 'conflict' });
    expect(store.files.refusalReason('/import/other.dcm', 'file-other')).toBe(
      'conflict: SOPInstanceUID 1.2.3.2.0 is stored with other pixel data',
    );
    const audit = sql((db) => db.prepare("SELECT actor, subject, detail FROM audit_log WHERE action = 'conflict'").all()) as {
      actor: string;
      subject: string;
      detail: string;
    }[];
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'ingest', subject: '1.2.3.2.0' });
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ path: '/import/other.dcm', existingPath: '/import/1.2.3.2.0.dcm' });
    expect(store.audit.verify().ok).toBe(true);
  });

  it('refuses a series already claimed by another study, and writes nothing of the refused slice', () => {
    const { store } = fresh();
    store.instances.record(slice(0));
    const stray = slice(1, { studyUid: '9.9.9', study: { patientName: 'OTHER^ONE' } });
    expect(() => store.instances.record(stray)).toThrow(SeriesStudyMismatch);
    expect(() => store.instances.record(stray)).toThrow(/already belongs to study 1\.2\.3\.1, not 9\.9\.9/);
    expect(store.studies.exists('9.9.9')).toBe(false);
    expect(store.instances.count()).toBe(1);
    expect(store.files.seen(stray.sourcePath, stray.fileSha256)).toBeUndefined();
  });

  it('resolves an earlier refusal of the same path once it reads as a slice', () => {
    const { store } = fresh();
    store.files.quarantine('/import/1.2.3.2.0.dcm', 'half-written', 10, 'truncated: a copy caught half way');
    expect(store.files.quarantined()).toHaveLength(1);
    store.instances.record(slice(0));
    expect(store.files.quarantined()).toEqual([]);
    expect(store.files.quarantined(true)[0]!.resolvedAt).not.toBeNull();
  });

  it('lists a series in its written order, arrival order before that', () => {
    const { store } = fresh();
    const ids = recordSeries(store, 3);
    expect(store.instances.ofSeries('1.2.3.2').map((i) => i.id)).toEqual(ids);
    store.instances.writeOrder([
      { id: ids[0]!, sliceIndex: 2, slicePosition: 10 },
      { id: ids[1]!, sliceIndex: 0, slicePosition: 0 },
      { id: ids[2]!, sliceIndex: 1, slicePosition: 5 },
    ]);
    const ordered = store.instances.ofSeries('1.2.3.2');
    expect(ordered.map((i) => i.id)).toEqual([ids[1], ids[2], ids[0]]);
    expect(ordered.map((i) => [i.sliceIndex, i.slicePosition])).toEqual([
      [0, 0],
      [1, 5],
      [2, 10],
    ]);
  });
});
