/**
 * The composition root: every pipeline stage wired in one place (STYLE.md, MONAI Deploy's
 * compose()). Read this first.
 *
 *   watch (import folder) ─┐
 *                          ├─► ingest ─► store ─► assemble (settle, order) ─► jobs ─► inference ─► store
 *   import (one pass) ─────┘
 *
 * `TriageCore` runs under plain Node; the CLI and the Electron shell are thin clients of it.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { requeueAwaitingSeries, settleSeries, wouldBeRead, DEFAULT_RELEASE_SETTLE_MS, DEFAULT_SETTLE_MS, ReleasedSeries } from './assemble/index.js';
import { PooledFrameDecoder, type FrameDecoder } from './dicom/index.js';
import { AWAITING_MODEL_REASON, loadManifest, MODEL_STATES_SETTING, type Manifest, type ScoringProgress, type SeriesScorer } from './inference/index.js';
import { HeldFiles, Ingest, type IngestOutcome } from './ingest/index.js';
import { acquireDataLock, PostgresError, redact, Store, sweepHuTemps, type WorklistQuery } from './store/index.js';
import { listFiles, watchFolder, type FolderWatcher } from './watch/index.js';
import { DicomReceiver, STORE_STATUS, StoreRefusedError } from './receive/index.js';
import type { DatabaseSource, QuarantineEntry, WorklistRow } from '../shared/api.js';

export interface CoreOptions {
  /** This workstation's own folder: its writer lock, received files, HU copies; the SQLite database unless `database` names another. */
  dataDir: string;
  /**
   * A PostgreSQL database (`postgres://…`) that several workstations share; absent, the store is
   * SQLite in the data folder. Per workstation and known before the store opens, so it comes from
   * the command line, the environment (`--database`, TRIAGE_DATABASE) or the start configuration
   * in the data folder (start-config.ts), never from the database.
   */
  database?: string | undefined;
  /** What chose `database` (start-config.ts), said beside it in status; absent, nothing is said. */
  databaseSource?: DatabaseSource | undefined;
  /**
   * The folder the workstations on one PostgreSQL database share for the HU copies (a network
   * share every one of them mounts: `--shared-dir`, TRIAGE_SHARED_DIR); required with `database`
   * unless read-only, since a slice one workstation received must be readable by the others. It
   * must exist: a share that is not mounted must not silently become a local folder.
   */
  sharedDir?: string | undefined;
  settleMs?: number;
  /**
   * Receiving: how long after a sender released the association that carried all of a series it
   * settles (assemble/release.ts; default DEFAULT_RELEASE_SETTLE_MS); null: only the settle wait.
   */
  releaseSettleMs?: number | null;
  /** How long a file's size must be stable before it is read (watch mode). */
  stableMs?: number;
  modelsDir?: string;
  /** Decodes compressed pixel data; by default a pool of isolated codec workers the core owns. */
  decoder?: FrameDecoder;
  /** Runs models on ready series; without one (no model installed) they await a model. */
  scorer?: SeriesScorer;
  /** How many files are read at once. */
  ingestConcurrency?: number;
  log?: (message: string) => void;
  /**
   * Score series while they arrive (watch and receive; default true): slices are run as they are
   * stored, whenever no settled series waits, and the study shows a provisional score.
   */
  provisionalScores?: boolean;
  /**
   * A reader (status, worklist, quarantine, audit): takes no writer lock and leaves the queue and
   * the slice store as they are, so it never disturbs the process that is working on them.
   */
  readOnly?: boolean;
  /**
   * How long a job this workstation claims stays its own without renewal (default JOB_LEASE_MS); it
   * renews the lease every quarter of that while the job runs.
   */
  jobLeaseMs?: number;
}

export const INFER_JOB = 'infer-series';
const RETRY_AFTER_MS = 30_000;
/**
 * How long a claimed job is this workstation's without renewal (it renews every quarter of this
 * while the job runs): a workstation that dies (or loses the database) gives its job up to the
 * others within this, while a slow series on a CPU (a minute and more with every network) is never
 * taken from a live one.
 */
export const JOB_LEASE_MS = 120_000;
/** How soon a file read while the database could not be reached is read again. */
export const DATABASE_RETRY_MS = 5_000;

/** The data folder: --data-dir, else $TRIAGE_DATA_DIR, else the platform's per-user data place. */
export function defaultDataDir(): string {
  if (process.env.TRIAGE_DATA_DIR) return resolve(process.env.TRIAGE_DATA_DIR);
  if (process.platform === 'win32' && process.env.APPDATA) return join(process.env.APPDATA, 'ich-triage');
  const xdg = process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share');
  return join(xdg, 'ich-triage');
}

/** The folder the workstations of one database share for HU copies, from the environment (TRIAGE_SHARED_DIR). */
export function defaultSharedDir(): string | undefined {
  return process.env.TRIAGE_SHARED_DIR || undefined;
}

/**
 * The shared folder for HU copies, as a whole path, if it is there: a share that is not mounted
 * must not become an empty local folder. Checked at start and when Settings saves one.
 */
export function existingSharedFolder(dir: string, remedy: string): string {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new Error(`shared folder ${abs} does not exist or is not a folder: ${remedy}`);
  return abs;
}

/**
 * Where this core keeps and reads the HU copies: the data folder on its own, the shared folder
 * when several workstations use one database. Refuses, before anything is opened, a PostgreSQL
 * writer with no shared folder or one that does not exist: slices it stored would be unreadable to
 * the other workstations, which would fail only later, at scoring or in the viewer.
 */
function huDirOf(opts: CoreOptions): string {
  if (opts.sharedDir) return existingSharedFolder(opts.sharedDir, 'mount the share the workstations use for HU copies, or fix --shared-dir');
  if (opts.database && !opts.readOnly) {
    throw new Error(
      `database ${redact(opts.database)} is shared by workstations that read each other's slices: name the folder they share for HU copies with --shared-dir or TRIAGE_SHARED_DIR, or save it with the database in Settings`,
    );
  }
  return resolve(opts.dataDir);
}

/** How status says what chose the database in use. */
const SOURCE_WORDS: Record<DatabaseSource, string> = {
  'command line': 'from --database',
  TRIAGE_DATABASE: 'from TRIAGE_DATABASE',
  Settings: 'from Settings, applies since start',
  default: 'the default',
};

/**
 * Which database a store uses, for status and logs: the data folder's SQLite file, or the URL
 * without its password; and, when known, what chose it.
 */
export function describeDatabase(dataDir: string, database: string | undefined, source?: DatabaseSource): string {
  const which = database ? `PostgreSQL ${redact(database)}` : `SQLite in ${resolve(dataDir)}`;
  return source ? `${which} (${SOURCE_WORDS[source]})` : which;
}

export class TriageCore {
  readonly store: Store;
  readonly dataDir: string;
  /** Which database the store uses (status): never with a password. */
  readonly database: string;
  /** The folder the HU copies' paths are relative to: the data folder, or the one workstations share. */
  readonly huDir: string;
  /**
   * Names this workstation in the database: in the job queue (who claimed a job) and as the owner
   * of its own settings (its import folder, its models' states: store/settings.ts). Its host and
   * data folder, the same across its restarts, so that at start it takes back its own interrupted
   * jobs and finds its own settings.
   */
  readonly workstation: string;
  private readonly ingest: Ingest;
  private readonly settleMs: number;
  private watcher: FolderWatcher | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private pending = new Set<Promise<unknown>>();
  private ingestQueue: string[] = [];
  private ingestActive = 0;
  private jobsRunning = false;
  private closed = false;
  private readonly listeners = new Set<(event: CoreEvent) => void>();
  private readonly scoring = new Map<string, ScoringProgress>();
  /** Slices of each arriving series that its last provisional run covered. */
  private readonly provisionalCovered = new Map<string, number>();
  private scorer: SeriesScorer | undefined;
  private manifestCache: Manifest | undefined;
  private readonly releaseLock: () => void;
  private receiver: DicomReceiver | undefined;
  /** Series a sender's release completed (listen()); undefined when releases do not settle. */
  private releases: ReleasedSeries | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;
  /** Received slices answered success while the database could not take them (listen()). */
  private held: HeldFiles | undefined;
  private ownDecoder: PooledFrameDecoder | undefined;
  /** Since when and why the database cannot be reached (a shared PostgreSQL one); null while it answers. */
  private unreachable: { since: string; reason: string } | null = null;
  /** Who this workstation is in the job queue, and how long its claims hold unrenewed. */
  private readonly claimant: { workstation: string; leaseMs: number };
  /** A job the database went away under is still claimed here: queued again once it answers. */
  private jobsLostToDatabase = false;

  constructor(private readonly opts: CoreOptions) {
    this.dataDir = resolve(opts.dataDir);
    this.database = describeDatabase(this.dataDir, opts.database, opts.databaseSource);
    this.huDir = huDirOf(opts);
    this.workstation = `${hostname()}:${this.dataDir}`;
    this.claimant = { workstation: this.workstation, leaseMs: opts.jobLeaseMs ?? JOB_LEASE_MS };
    // The writer lock first: a second writer is refused before it touches anything.
    this.releaseLock = opts.readOnly ? () => {} : acquireDataLock(this.dataDir, process.argv.slice(1).join(' ') || 'triage');
    try {
      this.store = opts.database ? Store.connect(opts.database, { workstation: this.workstation }) : Store.open(this.dataDir, { workstation: this.workstation });
    } catch (err) {
      this.releaseLock();
      throw err;
    }
    if (!opts.decoder) this.ownDecoder = new PooledFrameDecoder();
    this.ingest = new Ingest(this.store, this.huDir, opts.decoder ?? this.ownDecoder);
    this.settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
    if (!opts.readOnly) {
      // Work this workstation was doing when it died is done again (handlers are idempotent), and
      // work whose claimant's lease ran out; on a shared database, another live workstation's
      // running jobs stay its own.
      const requeued = this.store.jobs.requeueInterrupted(this.workstation);
      if (requeued) this.log(`requeued ${requeued} interrupted job(s)`);
      // HU copies half-written by a process killed mid-write (their rows were never written).
      const swept = sweepHuTemps(this.huDir);
      if (swept) this.log(`removed ${swept} unfinished HU temp file(s)`);
    }
    if (opts.scorer) this.attachScorer(opts.scorer);
  }

  /**
   * The database and shared folder this core was started with, and what chose them (Settings
   * compares them with the start configuration saved for the next start). Main-process only: the
   * URL may carry a password.
   */
  startedWith(): { database: string | undefined; sharedDir: string | undefined; source: DatabaseSource | undefined } {
    return { database: this.opts.database, sharedDir: this.opts.sharedDir, source: this.opts.databaseSource };
  }

  /** Installs the model runner; series that were waiting for a model are queued for it. */
  attachScorer(scorer: SeriesScorer): void {
    this.scorer = scorer;
    const waiting = requeueAwaitingSeries(this.store, INFER_JOB);
    if (waiting) this.log(`${waiting} series that awaited a model are queued for inference`);
  }

  private log(message: string): void {
    this.opts.log?.(message);
  }

  on(listener: (event: CoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Series being scored right now, and how far (in memory: it describes this process's work). */
  scoringProgress(): ReadonlyMap<string, ScoringProgress> {
    return this.scoring;
  }

  private emit(event: CoreEvent): void {
    for (const l of this.listeners) l(event);
  }

  // ---- ingest -------------------------------------------------------------------------

  async ingestFile(path: string): Promise<IngestOutcome> {
    const outcome = await this.ingest.ingestFile(path);
    this.emit({ type: 'file', outcome });
    // While watching or listening, a stored slice is scored now rather than at the next settle
    // tick (up to a second later): at a scanner's pace the networks would otherwise sit idle.
    if (outcome.outcome === 'stored' && this.settleTimer && this.opts.provisionalScores !== false) this.track(this.runProvisional());
    return outcome;
  }

  /** An entry the folder rule refuses (a FIFO, a link out of the folder, ...): listed once in the quarantine. */
  private refuseEntry(path: string, reason: string): IngestOutcome {
    this.store.files.refuseOnce(path, reason);
    return { path, outcome: 'quarantined', reason };
  }

  /** One pass over a folder: read every file, settle every series, run queued work; then return. */
  async importFolder(
    folder: string,
    progress?: (done: number, total: number, outcome: IngestOutcome) => void,
    include: (path: string) => boolean = () => true,
  ): Promise<IngestOutcome[]> {
    const listed = await listFiles(resolve(folder));
    const files = listed.files.filter(include);
    const outcomes: IngestOutcome[] = listed.refused.map(({ path, reason }) => this.refuseEntry(path, reason));
    const concurrency = this.opts.ingestConcurrency ?? 2;
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const file = files[next++]!;
        const outcome = await this.ingestFile(file);
        outcomes.push(outcome);
        progress?.(outcomes.length, files.length, outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
    this.settle(true);
    await this.runJobs();
    return outcomes;
  }

  /** Watches a folder until stop(): files are read once stable, series settle, jobs run. */
  watch(folder: string): void {
    this.watcher = watchFolder(resolve(folder), (path) => this.enqueueIngest(path), {
      ...(this.opts.stableMs !== undefined ? { stableMs: this.opts.stableMs } : {}),
      onError: (err) => this.log(`watch error: ${err.message}`),
      onRefused: (path, reason) => {
        const outcome = this.refuseEntry(path, reason);
        this.emit({ type: 'file', outcome });
      },
    });
    // Jobs left queued by an earlier run start at once, not at the next arrival.
    this.startSettling();
  }

  /**
   * Starts the DICOM receiver (C-STORE SCP): each instance is spooled durably under the data
   * folder and goes through the same ingest as the import folder before the sender hears success.
   * While the database cannot be reached, an instance durable in the spool is success already: it
   * is held (holdReceived) and read again with the import folder's files once the database answers,
   * so a scanner is never told "failed" for a slice this workstation keeps; slices still held when
   * the workstation stopped are read again here. Settling and inference run as in watch mode.
   */
  async listen(opts: { port: number; aeTitle: string; allowedCallingAeTitles?: string[]; host?: string }): Promise<DicomReceiver> {
    const held = new HeldFiles(join(this.dataDir, 'awaiting-database'));
    this.held = held;
    for (const path of held.held()) this.enqueueIngest(path);
    const releaseSettleMs = this.opts.releaseSettleMs === undefined ? DEFAULT_RELEASE_SETTLE_MS : this.opts.releaseSettleMs;
    const releases = releaseSettleMs === null ? undefined : new ReleasedSeries(releaseSettleMs);
    this.releases = releases;
    const receiver = new DicomReceiver({
      port: opts.port,
      aeTitle: opts.aeTitle,
      allowedCallingAeTitles: opts.allowedCallingAeTitles ?? [],
      ...(opts.host ? { host: opts.host } : {}),
      spoolDir: join(this.dataDir, 'received'),
      onInstance: async (path, info) => {
        // Known unreachable: no connection attempt (a cut network costs the connect timeout) for
        // a slice that is kept either way.
        if (this.unreachable) return this.holdReceived(path);
        let outcome: IngestOutcome;
        try {
          outcome = await this.ingestFile(path);
        } catch (err) {
          if (!this.databaseGone(err)) throw err;
          return this.holdReceived(path);
        }
        if (outcome.outcome === 'vanished') throw new Error(`received file ${path} vanished before it was read`);
        // A refused or conflicting instance is kept (quarantine, conflict list) but will not be
        // scored: the sender hears a failure with the reason and keeps its copy.
        // The same refused file sent again is refused again, for the same reason.
        if (outcome.outcome === 'quarantined' || outcome.outcome === 'skipped' || (outcome.outcome === 'unchanged' && outcome.reason !== undefined)) {
          const notCtImage = /Modality|multi-frame|frames/i.test(outcome.reason ?? '');
          throw new StoreRefusedError(
            notCtImage ? STORE_STATUS.dataSetDoesNotMatchSopClass : STORE_STATUS.cannotUnderstand,
            `refused: ${outcome.reason ?? 'unreadable'}`,
          );
        }
        if (outcome.outcome === 'conflict') {
          throw new StoreRefusedError(STORE_STATUS.cannotUnderstand, `conflict: ${outcome.reason ?? 'SOP Instance UID already stored with other pixels'}`);
        }
        if (outcome.seriesUid) releases?.carriedSlice(info.association, outcome.seriesUid);
      },
      onAssociationEnd: (end) => {
        if (!releases || this.closed) return;
        releases.ended(end.association, end.released);
        this.armReleaseTimer();
      },
      log: (m) => this.log(`receiver: ${m}`),
    });
    await receiver.start();
    this.receiver = receiver;
    this.startSettling();
    return receiver;
  }

  private startSettling(): void {
    if (this.settleTimer) return;
    const tick = Math.max(100, Math.min(1000, this.settleMs / 4));
    this.settleTimer = setInterval(() => this.settleTick(), tick);
    this.track(this.runJobs());
  }

  /** Settles what is due and starts the work it makes; at every tick, and when a release's grace ends. */
  private settleTick(): void {
    try {
      this.takeBackJobsLostToDatabase();
      // Claimable work includes a job whose claimant's lease ran out: a workstation that died
      // mid-job has its job taken over here, not only at this one's next start.
      const work = this.settle(false).length > 0 || this.store.jobs.claimable(INFER_JOB) > 0;
      // The database answered: a slice received from now on is tried at once, not held first.
      this.unreachable = null;
      if (work) this.track(this.runJobs());
      else if (this.opts.provisionalScores !== false) this.track(this.runProvisional());
    } catch (err) {
      // The database went away: settling resumes at a tick once it answers again.
      if (!this.databaseGone(err)) this.log(`settling failed: ${(err as Error).message}`);
    }
  }

  /** Settles at the moment the next release's grace ends rather than at the tick after it. */
  private armReleaseTimer(): void {
    const dueIn = this.releases?.nextDueInMs();
    if (dueIn === undefined || this.closed) return;
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = undefined;
      this.settleTick();
      this.armReleaseTimer();
    }, dueIn);
  }

  private enqueueIngest(path: string): void {
    this.ingestQueue.push(path);
    this.pumpIngest();
  }

  private pumpIngest(): void {
    const concurrency = this.opts.ingestConcurrency ?? 2;
    while (!this.closed && this.ingestActive < concurrency && this.ingestQueue.length) {
      const path = this.ingestQueue.shift()!;
      this.ingestActive++;
      this.track(
        this.ingestFile(path)
          .then(() => {
            this.unreachable = null;
            this.held?.release(path);
          })
          .catch((err: unknown) => {
            if (this.databaseGone(err)) this.readAgainLater(path);
            else this.log(`ingest failed for ${path}: ${(err as Error).message}`);
          })
          .finally(() => {
            this.ingestActive--;
            this.pumpIngest();
          }),
      );
    }
  }

  /**
   * The one place a file the database could not take waits for it (import folder and receiver
   * alike): it stays where it is and is read again every DATABASE_RETRY_MS until it is stored, so
   * no received slice is lost to a database that went away (ingest is idempotent: a slice that was
   * recorded after all is not stored twice).
   */
  private readAgainLater(path: string): void {
    this.log(`database unreachable: ${path} is kept and read again in ${DATABASE_RETRY_MS / 1000} s`);
    this.track(
      new Promise<void>((resolveRetry) => setTimeout(resolveRetry, DATABASE_RETRY_MS)).then(() => {
        if (!this.closed) this.enqueueIngest(path);
      }),
    );
  }

  /**
   * A received slice the database cannot take now, durable in the spool: noted as held (so that a
   * restart reads it too) and read again later. If the note cannot be written the sender is told
   * to keep its copy: after a restart nothing would name this file again.
   */
  private holdReceived(path: string): void {
    try {
      this.held!.hold(path);
    } catch (err) {
      throw new StoreRefusedError(
        STORE_STATUS.refusedOutOfResources,
        `database unreachable, and the slice could not be held for it: ${(err as Error).message}`,
      );
    }
    this.readAgainLater(path);
  }

  private track<T>(p: Promise<T>): void {
    this.pending.add(p);
    // A failure here has no caller left to hear it: said in the log, never an unhandled rejection.
    void p
      .catch((err: unknown) => {
        if (!this.databaseGone(err)) this.log(`background work failed: ${(err as Error).message}`);
      })
      .finally(() => this.pending.delete(p));
  }

  /** Whether `err` says the database cannot be reached; if so, status says so from now on. */
  private databaseGone(err: unknown): boolean {
    if (!(err instanceof PostgresError) || !err.unreachable) return false;
    this.unreachable = { since: this.unreachable?.since ?? new Date().toISOString(), reason: err.message.split('\n')[0]! };
    return true;
  }

  /** Waits until every file seen so far has been read and all queued work is done. */
  async idle(): Promise<void> {
    while (this.pending.size || this.ingestQueue.length) await Promise.allSettled([...this.pending]);
  }

  settle(force: boolean): string[] {
    const released = this.releases?.takeDue();
    const settled = settleSeries(this.store, { settleMs: this.settleMs, jobKind: INFER_JOB, force, released });
    for (const seriesUid of settled) {
      if (released?.has(seriesUid)) this.log(`series ${seriesUid} settled after its sender released the association that carried all of it`);
      this.emit({ type: 'series-ready', seriesUid });
    }
    return settled;
  }

  // ---- jobs ---------------------------------------------------------------------------

  /**
   * Runs the slices stored so far of every series still arriving (each slice once: the final run
   * after settling finds them done), so a study has a provisional score seconds after its first
   * slices instead of after its last one and the settle wait. Settled series always go first: this
   * runs only when no final scoring is in progress, and stops when one is queued.
   */
  async runProvisional(): Promise<void> {
    if (this.jobsRunning || !this.scorer || this.closed) return;
    this.jobsRunning = true;
    try {
      for (const s of this.store.series.arriving()) {
        if (this.closed || this.store.jobs.claimable(INFER_JOB) > 0) break;
        if ((this.provisionalCovered.get(s.seriesUid) ?? 0) >= s.sliceCount) continue;
        if (!wouldBeRead(this.store, s.studyUid, s.seriesUid)) continue; // e.g. its bone-kernel twin
        // Another workstation sharing the database is running it now: its scores show here too.
        // Counted as covered, so this does not ask again at once; a slice stored later asks again,
        // and the final run after settling runs whatever no provisional run reached.
        const release = this.store.series.holdForScoring(s.seriesUid);
        if (!release) {
          this.provisionalCovered.set(s.seriesUid, s.sliceCount);
          continue;
        }
        try {
          await this.scorer.scoreSeries(
            s.seriesUid,
            (progress) => {
              this.scoring.set(s.seriesUid, progress);
              this.emit({ type: 'series-scoring', seriesUid: s.seriesUid, progress });
            },
            {
              provisional: true,
              onRanked: () => this.emit({ type: 'series-ranked', seriesUid: s.seriesUid }),
              // New slices (stored meanwhile: ingest runs while the networks do) are ranked before
              // the slowest network finishes the old ones; a settled series goes first altogether.
              yieldTo: () =>
                this.closed || this.store.jobs.claimable(INFER_JOB) > 0 || this.store.instances.ofSeries(s.seriesUid).length > s.sliceCount,
            },
          );
          this.provisionalCovered.set(s.seriesUid, s.sliceCount);
          this.emit({ type: 'series-provisional', seriesUid: s.seriesUid });
        } catch (err) {
          // The final run after settling retries with the usual bookkeeping; nothing is lost here.
          this.log(`provisional scoring of series ${s.seriesUid} failed: ${(err as Error).message.split('\n')[0]}`);
          this.provisionalCovered.set(s.seriesUid, s.sliceCount);
        } finally {
          release();
          this.scoring.delete(s.seriesUid);
        }
      }
    } finally {
      this.jobsRunning = false;
    }
    // A series may have settled while this ran: its final run should not wait for the next tick;
    // nor should slices stored while this ran (their arrival found this run busy).
    if (this.store.jobs.claimable(INFER_JOB) > 0) this.track(this.runJobs());
    else if (!this.closed && this.uncoveredArrivals()) this.track(this.runProvisional());
  }

  /** Whether a series still arriving that the networks would read has slices no provisional run covered. */
  private uncoveredArrivals(): boolean {
    return this.store.series
      .arriving()
      .some((s) => (this.provisionalCovered.get(s.seriesUid) ?? 0) < s.sliceCount && wouldBeRead(this.store, s.studyUid, s.seriesUid));
  }

  /**
   * A job the database went away under stays claimed by this workstation, under a lease that may
   * hold for minutes more: once the database answers and no job runs here, it is queued again at
   * once (requeueInterrupted, as at a start) rather than left until the lease runs out.
   */
  private takeBackJobsLostToDatabase(): void {
    if (!this.jobsLostToDatabase || this.jobsRunning) return;
    const requeued = this.store.jobs.requeueInterrupted(this.workstation);
    this.jobsLostToDatabase = false;
    if (requeued) this.log(`the database answers again: requeued ${requeued} interrupted job(s)`);
  }

  /** Runs queued inference jobs one at a time until none is left. */
  async runJobs(): Promise<void> {
    if (this.jobsRunning) return;
    this.jobsRunning = true;
    try {
      const claimant = this.claimant;
      for (let job = this.store.jobs.claim(INFER_JOB, claimant); job && !this.closed; job = this.store.jobs.claim(INFER_JOB, claimant)) {
        const { seriesUid } = JSON.parse(job.payload) as { seriesUid: string };
        const jobId = job.id;
        // Renewed while the networks run, so other workstations never take a job this one is doing.
        const renewal = setInterval(() => {
          try {
            if (!this.store.jobs.renew(jobId, claimant)) this.log(`job ${jobId} is no longer this workstation's (its lease ran out)`);
          } catch (err) {
            this.log(`could not renew the lease of job ${jobId}: ${(err as Error).message}`);
          }
        }, claimant.leaseMs / 4);
        try {
          const series = this.store.series.get(seriesUid);
          if (!series) {
            this.store.jobs.complete(job.id);
            continue;
          }
          if (series.skippedReason) {
            // Another series of the study is the one the networks read (assemble/select.ts).
            this.store.jobs.complete(job.id);
            this.provisionalCovered.delete(seriesUid);
            this.emit({ type: 'series-skipped', seriesUid, reason: series.skippedReason });
            continue;
          }
          if (this.scorer) {
            // A provisional run of this series on another workstation finishes first (it is short),
            // so that the final run finds its slices done instead of running them again.
            let release = this.store.series.holdForScoring(seriesUid);
            while (!release && !this.closed) {
              await new Promise((r) => setTimeout(r, 200));
              release = this.store.series.holdForScoring(seriesUid);
            }
            // Stopping meanwhile: the job stays this workstation's, requeued at its next start.
            if (!release) return;
            try {
              await this.scorer.scoreSeries(
                seriesUid,
                (progress) => {
                  this.scoring.set(seriesUid, progress);
                  this.emit({ type: 'series-scoring', seriesUid, progress });
                },
                { onRanked: () => this.emit({ type: 'series-ranked', seriesUid }) },
              );
            } finally {
              release();
            }
          } else {
            this.store.series.setState(seriesUid, 'awaiting_model', AWAITING_MODEL_REASON);
          }
          this.store.jobs.complete(job.id);
          this.scoring.delete(seriesUid);
          this.provisionalCovered.delete(seriesUid);
          this.emit({ type: 'series-scored', seriesUid });
        } catch (err) {
          this.scoring.delete(seriesUid);
          if (this.databaseGone(err)) {
            // Nothing can be recorded now; the job is queued again once the database answers.
            this.jobsLostToDatabase = true;
            this.log(`database unreachable: series ${seriesUid} is scored once it answers again`);
            return;
          }
          // A failed model run costs this series a retry, never the app.
          const reason = (err as Error).message.split('\n')[0]!;
          this.store.series.setState(seriesUid, 'failed', `inference failed (will retry): ${reason}`);
          this.store.jobs.fail(job.id, reason, job.attempts < 3 ? RETRY_AFTER_MS : null);
          this.log(`inference failed for series ${seriesUid}: ${reason}`);
        } finally {
          clearInterval(renewal);
        }
      }
    } finally {
      this.jobsRunning = false;
    }
  }

  // ---- queries ------------------------------------------------------------------------

  worklist(q: WorklistQuery = {}): WorklistRow[] {
    return this.store.worklist.query(q);
  }

  quarantine(): QuarantineEntry[] {
    return this.store.files.quarantined().map((q) => ({
      id: q.id,
      path: q.path,
      reason: q.reason,
      sha256: q.sha256,
      createdAt: q.createdAt,
    }));
  }

  /**
   * The model manifest of this core's models folder, read once (an unreadable one reads as empty:
   * `status()` reports why). The triage policy (default ranking family, flag thresholds) comes from it.
   */
  manifest(): Manifest {
    if (!this.manifestCache) {
      try {
        this.manifestCache = loadManifest(this.opts.modelsDir);
      } catch {
        this.manifestCache = { models: [], ensembles: [] };
      }
    }
    return this.manifestCache;
  }

  status(): CoreStatus {
    let counts: Record<string, number> = {};
    try {
      counts = this.store.counts();
      this.unreachable = null;
    } catch (err) {
      if (!this.databaseGone(err)) throw err;
    }
    const databaseUnreachable = this.databaseUnreachable();
    const database = databaseUnreachable
      ? `${this.database}: UNREACHABLE since ${databaseUnreachable.since} (${databaseUnreachable.reason}); received files are kept and read again`
      : this.database;
    if (databaseUnreachable) return { dataDir: this.dataDir, database, databaseUnreachable, counts, models: 'unknown while the database cannot be reached' };
    let models: string;
    try {
      const manifest = loadManifest(this.opts.modelsDir);
      const last = this.store.settings.get<{ at: string; models: { modelId: string; status: string; provider: string | null; reason: string }[] }>(
        MODEL_STATES_SETTING,
      );
      models = this.scorer
        ? this.scorer.describe()
        : !manifest.models.length
          ? 'no model installed: ready series await a model'
          : last
            ? `as loaded at ${last.at}: ` +
              last.models
                .map((m) => (m.status === 'loaded' ? `${m.modelId} on ${m.provider} (${m.reason})` : `${m.modelId} refused: ${m.reason}`))
                .join('; ')
            : `${manifest.models.length} model(s) in the manifest, not loaded yet (they load with import or watch)`;
    } catch (err) {
      models = `manifest unreadable: ${(err as Error).message}`;
    }
    return { dataDir: this.dataDir, database, databaseUnreachable: null, counts, models };
  }

  /**
   * Since when and why the database cannot be reached, as last found by this core's own work
   * (ingest, settling, jobs, status); null while it answers. Asks the database nothing.
   */
  databaseUnreachable(): { since: string; reason: string } | null {
    return this.unreachable ? { ...this.unreachable } : null;
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.settleTimer) clearInterval(this.settleTimer);
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    await this.watcher?.close();
    await this.receiver?.stop();
    await Promise.allSettled([...this.pending]);
    await this.scorer?.close();
    await this.ownDecoder?.close();
    this.store.close();
    this.releaseLock();
  }
}

export type CoreEvent =
  | { type: 'file'; outcome: IngestOutcome }
  | { type: 'series-ready'; seriesUid: string }
  | { type: 'series-scored'; seriesUid: string }
  /** A settled series the networks do not read: another series of its study is read. */
  | { type: 'series-skipped'; seriesUid: string; reason: string }
  /** A series still arriving was scored so far: its study's score is provisional. */
  | { type: 'series-provisional'; seriesUid: string }
  /** The ranking family's networks are done on a series (its study is ranked); slower ones still run. */
  | { type: 'series-ranked'; seriesUid: string }
  | { type: 'series-scoring'; seriesUid: string; progress: ScoringProgress };

export interface CoreStatus {
  dataDir: string;
  /** Which database the store uses: "SQLite in <data folder>" or "PostgreSQL <url without its password>". */
  database: string;
  /** Since when and why the database cannot be reached; null while it answers. */
  databaseUnreachable: { since: string; reason: string } | null;
  counts: Record<string, number>;
  models: string;
}

export function compose(opts: CoreOptions): TriageCore {
  return new TriageCore(opts);
}
