/**
 * The studies repository on a real database: a study made by its first slice and filled by later
 * ones, and a patient's other studies (priors) by PatientID, newest first, with their ranking score.
 */
import { expect, it } from 'vitest';
import { RANKING_SCORE_ID } from '../../../src/main/store/index.js';
import { slice, eachBackend } from '../../fixtures/store.js';

/** One slice of study `n` (its own series) for patient `patientId`, on `studyDate`. */
function studySlice(n: number, patientId: string | undefined, studyDate: string) {
  return slice(0, { studyUid: `1.2.9.${n}`, seriesUid: `1.2.9.${n}.1`, study: { patientId, studyDate, description: `study ${n}` } });
}

eachBackend('studies', 'triage-studies-', (fresh) => {
  it('is made by its first slice; a later slice fills only what the first lacked', () => {
    const { store, sql } = fresh();
    expect(store.studies.exists('1.2.3.1')).toBe(false);
    store.instances.record(slice(0, { study: { patientName: 'DOE^JANE' } }));
    store.instances.record(slice(1, { study: { patientName: 'SOMEONE^ELSE', patientId: 'P7', accession: 'A7' } }));
    expect(store.studies.exists('1.2.3.1')).toBe(true);
    expect(store.studies.count()).toBe(1);
    const row = sql((db) => db.prepare('SELECT patient_name, patient_id, accession, first_arrival_at, last_arrival_at FROM studies').get()) as Record<
      string,
      string
    >;
    expect(row).toMatchObject({ patient_name: 'DOE^JANE', patient_id: 'P7', accession: 'A7' });
    expect(row.last_arrival_at! >= row.first_arrival_at!).toBe(true);
  });

  it("lists the patient's other studies newest first with their ranking score; none across patients or without a PatientID", () => {
    const { store } = fresh();
    store.instances.record(studySlice(1, 'P-1', '20240101'));
    store.instances.record(studySlice(2, 'P-1', '20250601'));
    store.instances.record(studySlice(3, 'P-1', '20260315'));
    store.instances.record(studySlice(4, 'P-2', '20260315'));
    store.instances.record(studySlice(5, ' ', '20260315'));
    store.instances.record(studySlice(6, ' ', '20250101'));
    store.scores.save('1.2.9.2', RANKING_SCORE_ID, [0.7, 0.1, 0.1, 0.1, 0.1, 0.6], []);
    expect(store.studies.priors('1.2.9.3')).toEqual([
      { studyUid: '1.2.9.2', studyDate: '20250601', studyTime: null, description: 'study 2', firstArrivalAt: expect.any(String), reviewStatus: 'new', scoreAny: 0.7 },
      { studyUid: '1.2.9.1', studyDate: '20240101', studyTime: null, description: 'study 1', firstArrivalAt: expect.any(String), reviewStatus: 'new', scoreAny: null },
    ]);
    expect(store.studies.priors('1.2.9.3', 1).map((p) => p.studyUid)).toEqual(['1.2.9.2']);
    expect(store.studies.priors('1.2.9.4')).toEqual([]);
    expect(store.studies.priors('1.2.9.5')).toEqual([]);
  });
});
