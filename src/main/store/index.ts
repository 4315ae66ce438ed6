/**
 * Store stage: the only module that writes SQL. Input: facts from the pipeline stages (a slice
 * read, a file refused, a series settled, a job done, a decision recorded). Output: rows for the
 * worklist, the viewer, the quarantine list and status.
 *
 * One `Store` per open database. It keeps the database's lifecycle (open with its migrations,
 * close) and `transaction` for a change that spans table groups; each table group is a repository
 * on it (`store.series`, `store.jobs`, ...) that binds its parameters by name and hands other
 * stages camelCase rows, mapped from the snake_case columns once per row type. Each multi-row
 * change is one transaction, so a process killed at any moment leaves either all of a change or
 * none of it. The store keeps data; what the data means for inference is the inference stage's.
 */
import type { Db, SqlHandle } from './handle.js';
import { dataVersion, openDatabase } from './db.js';
import { openPostgres, PostgresHandle, type PostgresOptions } from './postgres.js';
import { AuditRepository } from './audit.js';
import { FileRepository } from './files.js';
import { InstanceRepository } from './instances.js';
import { JobRepository } from './jobs.js';
import { LesionMapRepository } from './lesion-maps.js';
import { PredictionRepository } from './predictions.js';
import { ReviewerRepository } from './reviewers.js';
import { ReviewRepository } from './reviews.js';
import { ScoreRepository } from './scores.js';
import { SeriesRepository } from './series.js';
import { SettingsRepository } from './settings.js';
import { StudyRepository } from './studies.js';
import { WorklistRepository } from './worklist.js';

export { openDatabase, schemaVersion, migrate, DATABASE_FILE } from './db.js';
export type { Db, SqlHandle } from './db.js';
export { checkPostgresUrl, openPostgres, PostgresError, redact, testPostgresConnection } from './postgres.js';
export type { PostgresOptions } from './postgres.js';
export { huToInt16, pixelSha256, writeHuFile, readHuFile, huRelativePath, sweepHuTemps } from './hu-files.js';
export { acquireDataLock, DataFolderInUse, LOCK_FILE } from './lock.js';
export type { AuditRepository, AuditRow, AuditVerdict } from './audit.js';
export type { FileOutcome, FileRepository, QuarantineRow } from './files.js';
export { SeriesStudyMismatch } from './instances.js';
export type { InstanceRepository, InstanceRow, NewInstance, SliceOrder } from './instances.js';
export type { JobClaimant, JobRepository, JobRow } from './jobs.js';
export type { LesionMap, LesionMapFilter, LesionMapRepository, LesionMapSlice } from './lesion-maps.js';
export type { PredictionRepository, SlicePrediction, StoredPrediction, StudyPredictionsFilter } from './predictions.js';
export type { ReviewerRepository } from './reviewers.js';
export { NotFound, ReviewConflict, StudyNotFound } from './reviews.js';
export type { NewReview, ReviewRepository, ReviewStatus } from './reviews.js';
export type { ScoreRepository } from './scores.js';
export type { ArrivingSeries, SeriesFacts, SeriesRepository, SeriesRow, SeriesState } from './series.js';
export { SETTING_SCOPES, settingScope } from './settings.js';
export type { SettingKey, SettingsRepository } from './settings.js';
export type { StudyRepository } from './studies.js';
export { RANKING_IN_USE_SETTING, RANKING_SCORE_ID } from './worklist.js';
export type { WorklistQuery, WorklistRepository } from './worklist.js';

export interface StoreOptions {
  /**
   * The workstation this store works for (TriageCore.workstation): the name its own settings are
   * kept under (store/settings.ts). Absent, the workstation-scoped settings read their site
   * default and cannot be written.
   */
  workstation?: string;
}

export class Store {
  readonly audit: AuditRepository;
  readonly settings: SettingsRepository;
  readonly studies: StudyRepository;
  readonly series: SeriesRepository;
  /** Every file looked at, the refused ones (quarantine) and the conflicting ones. */
  readonly files: FileRepository;
  readonly instances: InstanceRepository;
  readonly jobs: JobRepository;
  readonly predictions: PredictionRepository;
  readonly scores: ScoreRepository;
  /** Localisation networks' maps per slice, and the volume estimates summed from them. */
  readonly lesionMaps: LesionMapRepository;
  readonly reviews: ReviewRepository;
  readonly reviewers: ReviewerRepository;
  readonly worklist: WorklistRepository;

  /**
   * Over a database already open and migrated (openDatabase, openPostgres); `Store.open` and
   * `Store.connect` are the usual doors.
   */
  constructor(
    private readonly db: SqlHandle,
    options: StoreOptions = {},
  ) {
    this.audit = new AuditRepository(db);
    this.settings = new SettingsRepository(db, options.workstation ?? null);
    this.studies = new StudyRepository(db);
    this.series = new SeriesRepository(db);
    this.files = new FileRepository(db, this.audit);
    this.instances = new InstanceRepository(db, { studies: this.studies, series: this.series, files: this.files });
    this.jobs = new JobRepository(db);
    this.predictions = new PredictionRepository(db);
    this.scores = new ScoreRepository(db);
    this.lesionMaps = new LesionMapRepository(db);
    this.reviews = new ReviewRepository(db, this.audit);
    this.reviewers = new ReviewerRepository(db, this.audit);
    this.worklist = new WorklistRepository(db);
  }

  /** Opens the data folder's database (made and migrated as needed: db.ts). */
  static open(dataDir: string, options: StoreOptions = {}): Store {
    return new Store(openDatabase(dataDir), options);
  }

  /** Connects to a PostgreSQL database (`postgres://…`), migrated as needed: several workstations share one. */
  static connect(url: string, options: PostgresOptions & StoreOptions = {}): Store {
    const { workstation, ...postgres } = options;
    return new Store(openPostgres(url, postgres), { workstation });
  }

  close(): void {
    this.db.close();
  }

  /** Runs `fn` as one transaction: a change that spans table groups is all there or not at all. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * A counter that changes when another connection (another process, another workstation) commits
   * a change, and not with this store's own: SQLite's data_version; on PostgreSQL, the change
   * notices of other connections (migration 0008).
   */
  dataVersion(): number {
    return this.db instanceof PostgresHandle ? this.db.othersCommits() : dataVersion(this.db as Db);
  }

  /** What `triage status` counts. */
  counts(): Record<string, number> {
    return {
      studies: this.studies.count(),
      series: this.series.count(),
      instances: this.instances.count(),
      instancesHuCorrected: this.instances.huCorrectedCount(),
      quarantined: this.files.unresolvedCount(),
      conflicts: this.files.conflictCount(),
      seriesReceiving: this.series.count('receiving'),
      seriesAwaitingModel: this.series.count('awaiting_model'),
      seriesScored: this.series.count('scored'),
      seriesFailed: this.series.count('failed'),
      jobsPending: this.jobs.pending(),
    };
  }
}
