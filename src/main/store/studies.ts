/**
 * Studies (table `studies`): made by a study's first slice, with what its DICOM says of the patient
 * and the study; a reader's decision is kept on it as `review_status` (reviews.ts). Also the
 * patient's other studies, which a reader compares a new head CT with.
 */
import type { SqlHandle } from './handle.js';
import type { NewInstance } from './arrival.js';
import { RANKING_SCORE_ID, type PriorStudy } from '../../shared/api.js';

function toPriorStudy(r: Record<string, unknown>): PriorStudy {
  return {
    studyUid: r.study_uid as string,
    studyDate: (r.study_date as string | null) ?? null,
    studyTime: (r.study_time as string | null) ?? null,
    description: (r.description as string | null) ?? null,
    firstArrivalAt: r.first_arrival_at as string,
    reviewStatus: r.review_status as PriorStudy['reviewStatus'],
    scoreAny: (r.p_any as number | null) ?? null,
  };
}

export class StudyRepository {
  constructor(private readonly db: SqlHandle) {}

  exists(studyUid: string): boolean {
    return this.db.prepare('SELECT 1 FROM studies WHERE study_uid = @studyUid').get({ studyUid }) !== undefined;
  }

  /**
   * A slice of the study arrived: its first slice makes the row; later ones fill only what it lacked.
   * (The stored row's columns are named with their table: PostgreSQL reads a bare name in an upsert
   * as ambiguous between the row and `excluded`.)
   */
  recordArrival(i: NewInstance, at: string): void {
    this.db
      .prepare(
        `INSERT INTO studies (study_uid, patient_name, patient_id, patient_sex, patient_age, accession, description,
                              study_date, study_time, first_arrival_at, last_arrival_at)
         VALUES (@studyUid, @patientName, @patientId, @patientSex, @patientAge, @accession, @description, @studyDate,
                 @studyTime, @at, @at)
         ON CONFLICT(study_uid) DO UPDATE SET last_arrival_at = @at,
           patient_name = COALESCE(studies.patient_name, @patientName), patient_id = COALESCE(studies.patient_id, @patientId),
           patient_sex = COALESCE(studies.patient_sex, @patientSex), patient_age = COALESCE(studies.patient_age, @patientAge),
           accession = COALESCE(studies.accession, @accession), description = COALESCE(studies.description, @description)`,
      )
      .run({
        studyUid: i.studyUid,
        patientName: i.study.patientName ?? null,
        patientId: i.study.patientId ?? null,
        patientSex: i.study.patientSex ?? null,
        patientAge: i.study.patientAge ?? null,
        accession: i.study.accession ?? null,
        description: i.study.description ?? null,
        studyDate: i.study.studyDate ?? null,
        studyTime: i.study.studyTime ?? null,
        at,
      });
  }

  /**
   * The patient's other studies in this store (same PatientID; none when the study has no PatientID),
   * newest first, with their ranking score. Matched on PatientID alone, which holds where one issuer
   * assigns the IDs (one hospital's PACS).
   */
  priors(studyUid: string, limit = 10): PriorStudy[] {
    const rows = this.db
      .prepare(
        `SELECT o.study_uid, o.study_date, o.study_time, o.description, o.first_arrival_at, o.review_status, sc.p_any
         FROM studies me JOIN studies o ON o.patient_id = me.patient_id AND o.study_uid <> me.study_uid
         LEFT JOIN study_scores sc ON sc.study_uid = o.study_uid AND sc.model_id = @ranking
         WHERE me.study_uid = @studyUid AND me.patient_id IS NOT NULL AND TRIM(me.patient_id) <> ''
         ORDER BY COALESCE(o.study_date, '') DESC, COALESCE(o.study_time, '') DESC, o.first_arrival_at DESC LIMIT @limit`,
      )
      .all({ ranking: RANKING_SCORE_ID, studyUid, limit }) as Record<string, unknown>[];
    return rows.map(toPriorStudy);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM studies').get() as { n: number }).n;
  }
}
