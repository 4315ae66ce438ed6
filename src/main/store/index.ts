/**
 * Store stage: the only module that writes SQL. Input: facts from the pipeline stages (a slice
 * read, a file refused, a series settled, a job done). Output: rows for the worklist, the
 * quarantine list and status. Each multi-row change is one transaction, so a process killed at
 * any moment leaves either all of a change or none of it.
 */
import { SCORE_COLUMNS, scoreFromRow } from './score-columns.js';
import type { Db } from './db.js';
import { nowIso } from './db.js';
import { appendAuditRow } from './audit.js';
import type { LabelProbabilities } from '../../shared/labels.js';

export { openDatabase, schemaVersion, migrate, nowIso, DATABASE_FILE } from './db.js';
export type { Db } from './db.js';
export { huToInt16, pixelSha256, writeHuFile, readHuFile, huRelativePath, sweepHuTemps } from './hu-files.js';

export type FileOutcome = 'stored' | 'duplicate' | 'quarantined' | 'conflict';
export type SeriesState = 'receiving' | 'ready' | 'awaiting_model' | 'scored' | 'failed';
export type ReviewStatus = 'new' | 'in_review' | 'confirmed' | 'dismissed';

export interface NewInstance {
  sopUid: string;
  seriesUid: string;
  studyUid: string;
  study: {
    patientName?: string | undefined;
    patientId?: string | undefined;
    patientSex?: string | undefined;
    patientAge?: string | undefined;
    accession?: string | undefined;
    description?: string | undefined;
    studyDate?: string | undefined;
    studyTime?: string | undefined;
  };
  seriesNumber?: number | undefined;
  seriesDescription?: string | undefined;
  /** ImageType, ConvolutionKernel and SliceThickness: what the series choice reads (assemble/select.ts). */
  imageType?: string | undefined;
  kernel?: string | undefined;
  sliceThickness?: number | undefined;
  instanceNumber?: number | undefined;
  position?: readonly [number, number, number] | undefined;
  orientation?: readonly number[] | undefined;
  originalRows: number;
  originalColumns: number;
  resampled: boolean;
  pixelSpacing?: readonly [number, number] | undefined;
  window: { center: number; width: number; source: 'tags' | 'default' };
  rescaleSlope: number;
  rescaleIntercept: number;
  transferSyntax: string;
  fileSha256: string;
  pixelSha256: string;
  huPath: string;
  sourcePath: string;
  size: number;
}

export interface InstanceRow {
  id: number;
  sop_uid: string;
  series_uid: string;
  study_uid: string;
  instance_number: number | null;
  position_x: number | null;
  position_y: number | null;
  position_z: number | null;
  orientation: string | null;
  slice_index: number | null;
  slice_position: number | null;
  original_rows: number;
  original_columns: number;
  resampled: number;
  window_center: number;
  window_width: number;
  window_source: 'tags' | 'default';
  hu_path: string;
  source_path: string;
  file_sha256: string;
  pixel_sha256: string;
  received_at: string;
}

export interface QuarantineRow {
  id: number;
  path: string;
  sha256: string | null;
  reason: string;
  created_at: string;
  resolved_at: string | null;
}

/** What the DICOM says about a series, as series selection (assemble/select.ts) weighs it. */
export interface SeriesFacts {
  seriesUid: string;
  description: string | null;
  /** ImageType as written, values separated by backslashes (e.g. ORIGINAL\PRIMARY\AXIAL). */
  imageType: string | null;
  kernel: string | null;
  sliceThickness: number | null;
  sliceCount: number;
}

export interface SeriesRow {
  series_uid: string;
  study_uid: string;
  state: SeriesState;
  state_reason: string | null;
  last_arrival_at: string;
  ready_at: string | null;
  slice_count: number;
  description: string | null;
  image_type: string | null;
  kernel: string | null;
  slice_thickness: number | null;
  /** Why the networks do not read this series (another of its study is read); null when read. */
  skipped_reason: string | null;
}

export interface JobRow {
  id: number;
  kind: string;
  key: string;
  payload: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  attempts: number;
  last_error: string | null;
}

export interface StudyScore extends LabelProbabilities {
  modelId: string;
  keySlices: number[];
  computedAt: string;
}

const P_COLUMNS = SCORE_COLUMNS.join(', ');

export { scoreFromRow };

export class Store {
  constructor(readonly db: Db) {}

  /** Runs `fn` as one transaction: a change that spans tables is all there or not at all. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---- files and quarantine -------------------------------------------------------------

  fileSeen(path: string, sha256: string): { outcome: FileOutcome } | undefined {
    return this.db.prepare('SELECT outcome FROM files WHERE path = ? AND sha256 = ?').get(path, sha256) as
      | { outcome: FileOutcome }
      | undefined;
  }

  /** Why this exact file (path and content) was last refused, if it was. */
  refusalReason(path: string, sha256: string): string | undefined {
    const row = this.db
      .prepare('SELECT reason FROM quarantine WHERE path = ? AND sha256 = ? ORDER BY id DESC LIMIT 1')
      .get(path, sha256) as { reason: string } | undefined;
    if (row) return row.reason;
    const conflict = this.db.prepare('SELECT sop_uid FROM conflicts WHERE path = ? AND file_sha256 = ? LIMIT 1').get(path, sha256) as
      | { sop_uid: string }
      | undefined;
    return conflict ? `conflict: SOPInstanceUID ${conflict.sop_uid} is stored with other pixel data` : undefined;
  }

  recordQuarantine(path: string, sha256: string | null, size: number, reason: string): number {
    const at = nowIso();
    return this.db.transaction(() => {
      const id = Number(
        this.db
          .prepare('INSERT INTO quarantine (path, sha256, reason, created_at) VALUES (?, ?, ?, ?)')
          .run(path, sha256, reason, at).lastInsertRowid,
      );
      if (sha256 !== null) {
        this.db
          .prepare(
            `INSERT OR IGNORE INTO files (path, sha256, size, outcome, quarantine_id, seen_at)
             VALUES (?, ?, ?, 'quarantined', ?, ?)`,
          )
          .run(path, sha256, size, id, at);
      }
      this.appendAudit('ingest', 'quarantine', path, { reason, sha256 });
      return id;
    })();
  }

  /**
   * A refusal of a path that was never read (no content hash): recorded once while unresolved,
   * so a FIFO or a bad link seen on every scan is one quarantine entry, not one per scan.
   */
  recordRefusalOnce(path: string, reason: string): number {
    const existing = this.db
      .prepare('SELECT id FROM quarantine WHERE path = ? AND reason = ? AND sha256 IS NULL AND resolved_at IS NULL')
      .get(path, reason) as { id: number } | undefined;
    return existing ? existing.id : this.recordQuarantine(path, null, 0, reason);
  }

  quarantineList(includeResolved = false): QuarantineRow[] {
    const where = includeResolved ? '' : 'WHERE resolved_at IS NULL';
    return this.db.prepare(`SELECT * FROM quarantine ${where} ORDER BY created_at, id`).all() as QuarantineRow[];
  }

  // ---- instances ------------------------------------------------------------------------

  instanceBySop(sopUid: string): InstanceRow | undefined {
    return this.db.prepare('SELECT * FROM instances WHERE sop_uid = ?').get(sopUid) as InstanceRow | undefined;
  }

  /**
   * Records a read slice. The same SOPInstanceUID with the same pixels is stored once
   * ('duplicate'); with different pixels it is a 'conflict', recorded and never overwritten.
   */
  storeInstance(i: NewInstance): { outcome: FileOutcome; instanceId: number } {
    const at = nowIso();
    return this.db.transaction(() => {
      const existing = this.instanceBySop(i.sopUid);
      if (existing) {
        if (existing.pixel_sha256 === i.pixelSha256) {
          this.insertFile(i.sourcePath, i.fileSha256, i.size, 'duplicate', existing.id, at);
          return { outcome: 'duplicate' as const, instanceId: existing.id };
        }
        this.recordConflict(i, existing, at);
        return { outcome: 'conflict' as const, instanceId: existing.id };
      }
      this.upsertStudy(i, at);
      const seriesStudy = this.db.prepare('SELECT study_uid FROM series WHERE series_uid = ?').get(i.seriesUid) as
        | { study_uid: string }
        | undefined;
      if (seriesStudy && seriesStudy.study_uid !== i.studyUid) {
        throw new SeriesStudyMismatch(i.seriesUid, seriesStudy.study_uid, i.studyUid);
      }
      this.upsertSeries(i, at);
      const id = this.insertInstance(i, at);
      this.insertFile(i.sourcePath, i.fileSha256, i.size, 'stored', id, at);
      // A path that was refused earlier (a copy caught half-written) and now reads well is resolved.
      this.db
        .prepare('UPDATE quarantine SET resolved_at = ? WHERE path = ? AND resolved_at IS NULL')
        .run(at, i.sourcePath);
      return { outcome: 'stored' as const, instanceId: id };
    })();
  }

  /** Same SOPInstanceUID, other pixels: the first is kept, this one recorded and audited. */
  private recordConflict(i: NewInstance, existing: InstanceRow, at: string): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO conflicts (sop_uid, existing_instance_id, path, file_sha256, pixel_sha256, created_at)
         VALUES (@sopUid, @existingId, @path, @fileSha256, @pixelSha256, @at)`,
      )
      .run({ sopUid: i.sopUid, existingId: existing.id, path: i.sourcePath, fileSha256: i.fileSha256, pixelSha256: i.pixelSha256, at });
    this.insertFile(i.sourcePath, i.fileSha256, i.size, 'conflict', existing.id, at);
    this.appendAudit('ingest', 'conflict', i.sopUid, {
      path: i.sourcePath,
      existingPath: existing.source_path,
      reason: 'same SOPInstanceUID, different pixel data: kept the first, recorded this one',
    });
  }

  /** The study row: made by its first slice; later slices fill only what it lacked. */
  private upsertStudy(i: NewInstance, at: string): void {
    this.db
      .prepare(
        `INSERT INTO studies (study_uid, patient_name, patient_id, patient_sex, patient_age, accession, description,
                              study_date, study_time, first_arrival_at, last_arrival_at)
         VALUES (@studyUid, @patientName, @patientId, @patientSex, @patientAge, @accession, @description, @studyDate,
                 @studyTime, @at, @at)
         ON CONFLICT(study_uid) DO UPDATE SET last_arrival_at = @at,
           patient_name = COALESCE(patient_name, @patientName), patient_id = COALESCE(patient_id, @patientId),
           patient_sex = COALESCE(patient_sex, @patientSex), patient_age = COALESCE(patient_age, @patientAge),
           accession = COALESCE(accession, @accession), description = COALESCE(description, @description)`,
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
   * The series row. A slice arriving for a series that was already settled sends it back to
   * 'receiving': it will be re-ordered and re-scored, never left with a score that ignores it.
   */
  private upsertSeries(i: NewInstance, at: string): void {
    this.db
      .prepare(
        `INSERT INTO series (series_uid, study_uid, series_number, description, state, last_arrival_at, slice_count,
                             image_type, kernel, slice_thickness)
         VALUES (@seriesUid, @studyUid, @seriesNumber, @description, 'receiving', @at, 1, @imageType, @kernel, @sliceThickness)
         ON CONFLICT(series_uid) DO UPDATE SET state = 'receiving', state_reason = NULL,
           last_arrival_at = excluded.last_arrival_at, slice_count = slice_count + 1,
           image_type = COALESCE(image_type, excluded.image_type), kernel = COALESCE(kernel, excluded.kernel),
           slice_thickness = COALESCE(slice_thickness, excluded.slice_thickness)`,
      )
      .run({
        seriesUid: i.seriesUid,
        studyUid: i.studyUid,
        seriesNumber: i.seriesNumber ?? null,
        description: i.seriesDescription ?? null,
        at,
        imageType: i.imageType ?? null,
        kernel: i.kernel ?? null,
        sliceThickness: i.sliceThickness ?? null,
      });
  }

  /** The instance row (geometry, window, rescale, where its HU and its original are); returns its id. */
  private insertInstance(i: NewInstance, at: string): number {
    const info = this.db
      .prepare(
        `INSERT INTO instances (sop_uid, series_uid, study_uid, instance_number, position_x, position_y, position_z,
           orientation, original_rows, original_columns, resampled, pixel_spacing, window_center, window_width,
           window_source, rescale_slope, rescale_intercept, transfer_syntax, file_sha256, pixel_sha256, hu_path,
           source_path, received_at)
         VALUES (@sopUid, @seriesUid, @studyUid, @instanceNumber, @positionX, @positionY, @positionZ,
           @orientation, @originalRows, @originalColumns, @resampled, @pixelSpacing, @windowCenter, @windowWidth,
           @windowSource, @rescaleSlope, @rescaleIntercept, @transferSyntax, @fileSha256, @pixelSha256, @huPath,
           @sourcePath, @at)`,
      )
      .run({
        sopUid: i.sopUid,
        seriesUid: i.seriesUid,
        studyUid: i.studyUid,
        instanceNumber: i.instanceNumber ?? null,
        positionX: i.position?.[0] ?? null,
        positionY: i.position?.[1] ?? null,
        positionZ: i.position?.[2] ?? null,
        orientation: i.orientation ? JSON.stringify(i.orientation) : null,
        originalRows: i.originalRows,
        originalColumns: i.originalColumns,
        resampled: i.resampled ? 1 : 0,
        pixelSpacing: i.pixelSpacing ? JSON.stringify(i.pixelSpacing) : null,
        windowCenter: i.window.center,
        windowWidth: i.window.width,
        windowSource: i.window.source,
        rescaleSlope: i.rescaleSlope,
        rescaleIntercept: i.rescaleIntercept,
        transferSyntax: i.transferSyntax,
        fileSha256: i.fileSha256,
        pixelSha256: i.pixelSha256,
        huPath: i.huPath,
        sourcePath: i.sourcePath,
        at,
      });
    return Number(info.lastInsertRowid);
  }

  private insertFile(path: string, sha: string, size: number, outcome: FileOutcome, instanceId: number, at: string) {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO files (path, sha256, size, outcome, instance_id, seen_at) VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(path, sha, size, outcome, instanceId, at);
  }

  seriesInstances(seriesUid: string): InstanceRow[] {
    return this.db
      .prepare('SELECT * FROM instances WHERE series_uid = ? ORDER BY slice_index, id')
      .all(seriesUid) as InstanceRow[];
  }

  // ---- series ---------------------------------------------------------------------------

  /** Series still receiving whose last slice arrived at or before `cutoffIso` (all when null). */
  seriesToSettle(cutoffIso: string | null): SeriesRow[] {
    const sql =
      cutoffIso === null
        ? "SELECT * FROM series WHERE state = 'receiving'"
        : "SELECT * FROM series WHERE state = 'receiving' AND last_arrival_at <= ?";
    return (cutoffIso === null ? this.db.prepare(sql).all() : this.db.prepare(sql).all(cutoffIso)) as SeriesRow[];
  }

  series(seriesUid: string): SeriesRow | undefined {
    return this.db.prepare('SELECT * FROM series WHERE series_uid = ?').get(seriesUid) as SeriesRow | undefined;
  }

  /** Marks a settled series ready with its final slice count; its order is written beside it (writeInterimOrder). */
  markSeriesReady(seriesUid: string, sliceCount: number): void {
    this.db
      .prepare("UPDATE series SET state = 'ready', state_reason = NULL, ready_at = ?, slice_count = ? WHERE series_uid = ?")
      .run(nowIso(), sliceCount, seriesUid);
  }

  /**
   * A series' slice order. Alone: the interim order of a series still arriving, written without
   * settling it, so that a provisional score reads the slices in their place; settling writes the
   * final order through it.
   */
  writeInterimOrder(order: { id: number; sliceIndex: number; slicePosition: number | null }[]): void {
    const setOrder = this.db.prepare('UPDATE instances SET slice_index = ?, slice_position = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const o of order) setOrder.run(o.sliceIndex, o.slicePosition, o.id);
    })();
  }

  /** What the series choice reads about a study's series: settled ones only, or all. */
  seriesFacts(studyUid: string, opts: { settledOnly: boolean }): SeriesFacts[] {
    const rows = this.db
      .prepare(
        `SELECT se.*, (SELECT COUNT(*) FROM instances i WHERE i.series_uid = se.series_uid) AS n FROM series se
         WHERE se.study_uid = ? ${opts.settledOnly ? "AND se.state <> 'receiving'" : ''}`,
      )
      .all(studyUid) as (SeriesRow & { n: number })[];
    return rows.map((r) => ({
      seriesUid: r.series_uid,
      description: r.description,
      imageType: r.image_type,
      kernel: r.kernel,
      sliceThickness: r.slice_thickness,
      sliceCount: r.n,
    }));
  }

  /** Records which series of a study the networks read (reason null) and why the others are not. */
  setSeriesChoice(choice: { read: string | null; skipped: ReadonlyMap<string, string> }): void {
    const set = this.db.prepare('UPDATE series SET skipped_reason = ? WHERE series_uid = ?');
    this.db.transaction(() => {
      if (choice.read) set.run(null, choice.read);
      for (const [uid, reason] of choice.skipped) set.run(reason, uid);
    })();
  }

  /** Series still arriving, with how many slices each holds now, the longest-waiting first. */
  receivingSeries(): { series_uid: string; study_uid: string; slice_count: number }[] {
    return this.db
      .prepare(
        `SELECT se.series_uid, se.study_uid, COUNT(i.id) AS slice_count FROM series se JOIN instances i ON i.series_uid = se.series_uid
         WHERE se.state = 'receiving' GROUP BY se.series_uid ORDER BY MIN(i.id)`,
      )
      .all() as { series_uid: string; study_uid: string; slice_count: number }[];
  }

  setSeriesState(seriesUid: string, state: SeriesState, reason: string | null): void {
    this.db.prepare('UPDATE series SET state = ?, state_reason = ? WHERE series_uid = ?').run(state, reason, seriesUid);
  }

  /** Series that wait for a model, with their slice counts. */
  seriesAwaitingModel(): { series_uid: string; slice_count: number }[] {
    return this.db.prepare("SELECT series_uid, slice_count FROM series WHERE state = 'awaiting_model'").all() as {
      series_uid: string;
      slice_count: number;
    }[];
  }

  // ---- jobs -----------------------------------------------------------------------------

  enqueueJob(kind: string, key: string, payload: object): void {
    const at = nowIso();
    this.db
      .prepare(
        `INSERT INTO jobs (kind, key, payload, state, created_at, updated_at) VALUES (?, ?, ?, 'queued', ?, ?)
         ON CONFLICT(kind, key) DO UPDATE SET state = 'queued', attempts = 0, last_error = NULL, updated_at = excluded.updated_at
         WHERE jobs.state IN ('done', 'failed')`,
      )
      .run(kind, key, JSON.stringify(payload), at, at);
  }

  /** How many jobs of a kind wait to run now. */
  queuedJobs(kind: string): number {
    return (
      this.db
        .prepare("SELECT COUNT(*) AS n FROM jobs WHERE kind = ? AND state = 'queued' AND (not_before IS NULL OR not_before <= ?)")
        .get(kind, nowIso()) as { n: number }
    ).n;
  }

  /** Takes the oldest queued job of a kind; it stays 'running' until completed or failed. */
  claimJob(kind: string): JobRow | undefined {
    const at = nowIso();
    return this.db.transaction(() => {
      const job = this.db
        .prepare(
          `SELECT * FROM jobs WHERE kind = ? AND state = 'queued' AND (not_before IS NULL OR not_before <= ?)
           ORDER BY id LIMIT 1`,
        )
        .get(kind, at) as JobRow | undefined;
      if (!job) return undefined;
      this.db
        .prepare("UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ? WHERE id = ?")
        .run(at, job.id);
      return { ...job, state: 'running' as const, attempts: job.attempts + 1 };
    })();
  }

  completeJob(id: number): void {
    this.db.prepare("UPDATE jobs SET state = 'done', last_error = NULL, updated_at = ? WHERE id = ?").run(nowIso(), id);
  }

  /** Records the error; the job is retried after `retryAfterMs` unless `final`. */
  failJob(id: number, error: string, retryAfterMs: number | null): void {
    const at = new Date();
    const notBefore = retryAfterMs === null ? null : new Date(at.getTime() + retryAfterMs).toISOString();
    this.db
      .prepare('UPDATE jobs SET state = ?, last_error = ?, not_before = ?, updated_at = ? WHERE id = ?')
      .run(retryAfterMs === null ? 'failed' : 'queued', error, notBefore, at.toISOString(), id);
  }

  /** After a crash, jobs that were running are queued again (at-least-once, idempotent handlers). */
  requeueInterruptedJobs(): number {
    return this.db.prepare("UPDATE jobs SET state = 'queued', updated_at = ? WHERE state = 'running'").run(nowIso())
      .changes;
  }

  pendingJobs(kind: string): number {
    return (
      this.db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE kind = ? AND state IN ('queued', 'running')").get(kind) as {
        n: number;
      }
    ).n;
  }

  // ---- scores ---------------------------------------------------------------------------

  studyScore(studyUid: string, modelId: string): StudyScore | undefined {
    const row = this.db
      .prepare(`SELECT ${P_COLUMNS}, model_id, key_slices, computed_at FROM study_scores WHERE study_uid = ? AND model_id = ?`)
      .get(studyUid, modelId) as Record<string, unknown> | undefined;
    if (!row) return undefined;
    return {
      ...scoreFromRow(row),
      modelId: row.model_id as string,
      keySlices: JSON.parse(row.key_slices as string) as number[],
      computedAt: row.computed_at as string,
    };
  }

  // ---- audit ----------------------------------------------------------------------------

  /** Appends to the hash-chained audit log (store/audit.ts), atomically with the caller's transaction. */
  appendAudit(actor: string, action: string, subject: string | null, detail: object = {}): void {
    this.db.transaction(() => appendAuditRow(this.db, actor, action, subject, detail))();
  }

  // ---- settings -------------------------------------------------------------------------

  getSetting<T>(key: string): T | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  setSetting(key: string, value: unknown): void {
    this.db
      .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, JSON.stringify(value));
  }

  // ---- counts for `triage status` -------------------------------------------------------

  counts(): Record<string, number> {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      studies: one('SELECT COUNT(*) AS n FROM studies'),
      series: one('SELECT COUNT(*) AS n FROM series'),
      instances: one('SELECT COUNT(*) AS n FROM instances'),
      quarantined: one('SELECT COUNT(*) AS n FROM quarantine WHERE resolved_at IS NULL'),
      conflicts: one('SELECT COUNT(*) AS n FROM conflicts'),
      seriesReceiving: one("SELECT COUNT(*) AS n FROM series WHERE state = 'receiving'"),
      seriesAwaitingModel: one("SELECT COUNT(*) AS n FROM series WHERE state = 'awaiting_model'"),
      seriesScored: one("SELECT COUNT(*) AS n FROM series WHERE state = 'scored'"),
      seriesFailed: one("SELECT COUNT(*) AS n FROM series WHERE state = 'failed'"),
      jobsPending: one("SELECT COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running')"),
    };
  }
}

/** A SeriesInstanceUID seen under two StudyInstanceUIDs: the file is refused, the first kept. */
export class SeriesStudyMismatch extends Error {
  constructor(seriesUid: string, existingStudy: string, newStudy: string) {
    super(`SeriesInstanceUID ${seriesUid} already belongs to study ${existingStudy}, not ${newStudy}`);
  }
}

export { queryWorklist, RANKING_SCORE_ID } from './worklist.js';
export type { WorklistQuery } from './worklist.js';
export { savePredictions, predictionsByFile, studyPredictionRows, saveStudyScore, clearStudyScores, allPredictions } from './predictions.js';
export type { SlicePrediction, StoredPrediction } from './predictions.js';
export { verifyAudit, auditHead, type AuditVerdict } from './audit.js';
export { acquireDataLock, DataFolderInUse, LOCK_FILE } from './lock.js';
export { addReviewer, listReviewers, reviewerExists } from './reviewers.js';
export { latestReviews, NotFound, recordReview, studyReviews } from './reviews.js';
export {
  dataVersion,
  instanceHuPath,
  patientPriors,
  studyExists,
  studyPredictions,
  studyProducers,
  studyScores,
  studySeries,
} from './study.js';
