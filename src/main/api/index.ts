/**
 * The API implementation: TriageApi over a TriageCore. Both transports — Electron IPC
 * (src/main/electron/ipc.ts) and the loopback HTTP server (src/main/server) — call this one
 * class through `dispatch()` in src/shared/api.ts. Each method validates its own request first
 * (parseRequest): this is the request edge for every caller, in-process ones included; replies are
 * validated by the client that receives them (makeClient).
 *
 * Inputs: the core (its database, slice store, events). Outputs: the messages of TriageApi and a
 * stream of ApiEvents (`onEvent`) that tells clients when to refresh. The change counter moves on
 * the core's own events and, through SQLite's `data_version`, on writes by any other process on
 * the same data folder (e.g. `triage import` run beside `triage serve`).
 */
import { isAbsolute } from 'node:path';
import { LABELS, SUBTYPES, type Label } from '../../shared/labels.js';
import {
  ApiError,
  parseRequest,
  WorklistFilterSchema,
  type ApiEvent,
  type ApiParsedRequest,
  type ApiRequest,
  type ApiResponse,
  type DatabaseSource,
  type DatabaseStart,
  type ProviderInfo,
  type RankingModel,
  type ReviewConflictInfo,
  type Session,
  type Settings,
  type Thresholds,
  type TriageApi,
  type WorklistFilter,
  type WorklistItem,
} from '../../shared/api.js';
import { existingSharedFolder, type CoreEvent, type TriageCore } from '../core.js';
import { rankingFamily, RANKING_SETTING, siteRankingFamily } from '../inference/index.js';
import { lesionMapNetworks, MODEL_STATES_SETTING } from '../inference/index.js';
import { checkPostgresUrl, NotFound, readHuFile, redact, ReviewConflict, settingScope, testPostgresConnection, type WorklistQuery } from '../store/index.js';
import { readStartConfig, startConfigPath, writeStartConfig, type StartConfig } from '../start-config.js';
import { validateImportFolder } from '../watch/index.js';
import {
  defaultRankingFamily,
  familyThresholds,
  flagThresholds,
  isFlagged,
  rankingRecord,
  thresholdsFromReviews,
  type ReviewedStudy,
} from '../triage/index.js';

export const SETTING = {
  thresholds: 'flagThresholds',
  rankingModel: RANKING_SETTING,
  importFolder: 'importFolder',
} as const;

export interface ApiOptions {
  /** Each loaded model's execution provider and why; defaults to what the predictions record. */
  providers?: () => ProviderInfo[];
  /** Starts watching a folder (the server and the Electron shell pass core.watch). */
  startWatch?: (folder: string) => void;
  /** The folder being watched now, if any. */
  watching?: () => string | null;
  /** How often other processes' writes are looked for (ms); 0 turns it off. */
  externalPollMs?: number;
}

/**
 * How often, by default, the API looks at the store's data version for other processes' writes
 * (another workstation's review, `triage import` beside `triage serve`): a change made elsewhere
 * reaches the readers within about this long.
 */
export const DEFAULT_EXTERNAL_POLL_MS = 1000;

export { NotFound, ReviewConflict };

export class TriageApiImpl implements TriageApi {
  /** Who records decisions and changes through this instance (one per app or server launch). */
  private reviewer: string | null = null;
  private counter = 0;
  private readonly listeners = new Set<(e: ApiEvent) => void>();
  private readonly unsubscribeCore: () => void;
  private readonly poll: NodeJS.Timeout | undefined;
  private lastDataVersion: number;
  /** When the core last said the database went away (null: it answers), as the screens were last told. */
  private unreachableSince: string | null = null;
  private readonly notifiedFlags = new Set<string>();

  constructor(
    readonly core: TriageCore,
    private readonly opts: ApiOptions = {},
  ) {
    this.unsubscribeCore = core.on((e) => this.onCoreEvent(e));
    this.lastDataVersion = core.store.dataVersion();
    const every = opts.externalPollMs ?? DEFAULT_EXTERNAL_POLL_MS;
    if (every > 0) {
      this.poll = setInterval(() => this.checkExternal(), every);
      this.poll.unref();
    }
  }

  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (e: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.poll) clearInterval(this.poll);
    this.unsubscribeCore();
    this.listeners.clear();
  }

  private emit(e: ApiEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A broken client (closed socket, destroyed window) must not stop the others.
      }
    }
  }

  private changed(reason: Extract<ApiEvent, { type: 'changed' }>['reason'], studyUid: string | null): void {
    this.counter++;
    this.emit({ type: 'changed', counter: this.counter, reason, studyUid });
  }

  private onCoreEvent(e: CoreEvent): void {
    if (e.type === 'file') {
      if (e.outcome.outcome === 'stored' || e.outcome.outcome === 'quarantined' || e.outcome.outcome === 'conflict') {
        this.changed('ingest', e.outcome.studyUid ?? null);
      }
    } else if (e.type === 'series-ready') {
      this.changed('series', this.core.store.series.get(e.seriesUid)?.studyUid ?? null);
    } else if (e.type === 'series-scoring') {
      this.changed('scoring', this.core.store.series.get(e.seriesUid)?.studyUid ?? null);
    } else {
      const studyUid = this.core.store.series.get(e.seriesUid)?.studyUid ?? null;
      this.changed('scored', studyUid);
      if (studyUid) this.maybeNotifyFlag(studyUid);
    }
  }

  private checkExternal(): void {
    // Whether the core found the database gone, or back: the screens show it at once, not at their next call.
    const unreachableSince = this.core.databaseUnreachable()?.since ?? null;
    if (unreachableSince !== this.unreachableSince) {
      this.unreachableSince = unreachableSince;
      this.changed('database', null);
    }
    try {
      const v = this.core.store.dataVersion();
      if (v !== this.lastDataVersion) {
        this.lastDataVersion = v;
        this.changed('external', null);
      }
    } catch {
      // The database was closed under us (shutdown); the next start has a new instance.
    }
  }

  private maybeNotifyFlag(studyUid: string): void {
    if (this.notifiedFlags.has(studyUid)) return;
    const [item] = this.items(parseRequest('worklist', {}), studyUid);
    if (item?.flagged && item.score) {
      this.notifiedFlags.add(studyUid);
      this.emit({ type: 'flagged', studyUid, patientName: item.patientName, accession: item.accession, score: item.score });
    }
  }

  // ---- settings -----------------------------------------------------------------------

  /** The site's per-label overrides (only the labels it set). */
  private thresholdOverrides(): Partial<Record<Label, number>> {
    return this.core.store.settings.get<Partial<Record<Label, number>>>(SETTING.thresholds) ?? {};
  }

  /** What the worklist flags by: triage/policy.ts, the same numbers `triage evaluate` reports. */
  private thresholds(): Thresholds {
    return flagThresholds(this.core.manifest(), this.rankingModel(), this.thresholdOverrides()).thresholds;
  }

  private rankingModel(): RankingModel {
    // The inference stage's reading of the setting is the one that ranks; show the same.
    return rankingFamily(this.core.store, this.core.manifest());
  }

  private rankingReason(): string {
    const family = this.rankingModel();
    const site = siteRankingFamily(this.core.store);
    const measured = rankingRecord(this.core.manifest());
    if (site) {
      return `chosen in Settings` + (measured && measured.family !== site ? ` (the models' measured choice is ${measured.family})` : '');
    }
    return measured?.reason || `${family}: the default (the model manifest records no measured choice)`;
  }

  private providers(): ProviderInfo[] {
    if (this.opts.providers) return this.opts.providers();
    // The model states the process that loaded the models recorded (inference/attach.ts).
    const states = this.core.store.settings.get<{ models?: { modelId: string; status: string; provider: string | null; reason: string }[] }>(
      MODEL_STATES_SETTING,
    );
    return (states?.models ?? [])
      .filter((m) => m.status === 'loaded' && m.provider)
      .map((m) => ({ modelId: m.modelId, provider: m.provider!, reason: m.reason }));
  }

  // ---- worklist -----------------------------------------------------------------------

  private items(f: WorklistFilter, studyUid?: string): WorklistItem[] {
    const q: WorklistQuery = { sort: f.sort, ...(studyUid !== undefined ? { studyUid } : {}) };
    if (f.status === 'unreviewed') q.reviewStatus = ['new', 'in_review'];
    if (f.status === 'reviewed') q.reviewStatus = ['confirmed', 'dismissed'];
    const offsetMs = f.tzOffsetMinutes * 60_000;
    if (f.from) q.arrivedAfter = new Date(Date.parse(`${f.from}T00:00:00.000Z`) - offsetMs).toISOString();
    if (f.to) q.arrivedBefore = new Date(Date.parse(`${f.to}T00:00:00.000Z`) + 86_400_000 - 1 - offsetMs).toISOString();
    if (!f.flaggedOnly) q.limit = f.limit;
    const rows = this.core.worklist(q);
    const thresholds = this.thresholds();
    const uids = rows.map((r) => r.studyUid);
    const producers = this.core.store.predictions.producers(uids);
    const reviews = this.core.store.reviews.latest(uids);
    const scoring = this.scoringByStudy();
    const volumes = this.core.store.lesionMaps.totals(uids);
    const items = rows.map((r) => ({
      ...r,
      flagged: isFlagged(r.score, thresholds),
      producedBy: producers.get(r.studyUid) ?? [],
      lastReview: reviews.get(r.studyUid) ?? null,
      scoring: scoring.get(r.studyUid) ?? null,
      volumeMl: volumes.get(r.studyUid) ?? null,
    }));
    return f.flaggedOnly ? items.filter((i) => i.flagged).slice(0, f.limit) : items;
  }

  /** The series being scored now, summed per study. */
  private scoringByStudy(): Map<string, { done: number; total: number; modelId: string }> {
    const out = new Map<string, { done: number; total: number; modelId: string }>();
    for (const [seriesUid, p] of this.core.scoringProgress()) {
      const studyUid = this.core.store.series.get(seriesUid)?.studyUid;
      if (!studyUid) continue;
      const cur = out.get(studyUid);
      out.set(studyUid, cur ? { done: cur.done + p.done, total: cur.total + p.total, modelId: p.modelId } : { ...p });
    }
    return out;
  }

  async worklist(req: ApiRequest<'worklist'>): Promise<ApiResponse<'worklist'>> {
    const f = parseRequest('worklist', req);
    return {
      rows: this.items(f),
      changeCounter: this.counter,
      thresholds: this.thresholds(),
      rankingModel: this.rankingModel(),
      rankingReason: this.rankingReason(),
    };
  }

  // ---- viewer ---------------------------------------------------------------------------

  async study(req: ApiRequest<'study'>): Promise<ApiResponse<'study'>> {
    const { studyUid } = parseRequest('study', req);
    const store = this.core.store;
    if (!store.studies.exists(studyUid)) throw new NotFound(`no study ${studyUid}`);
    // The worklist query is the one definition of a study's row.
    const [study] = this.items(parseRequest('worklist', {}), studyUid);
    if (!study) throw new NotFound(`no study ${studyUid}`);
    // A lesion-map network's probabilities are its maps' maxima, not a classifier's answer: the viewer
    // shows its maps, and keeps it out of the per-slice strip and the models' side-by-side scores.
    const drawsMaps = lesionMapNetworks(this.core.manifest());
    return {
      study,
      series: store.series.ofStudy(studyUid),
      predictions: store.predictions.forViewer(studyUid).filter((p) => !drawsMaps.has(p.modelId)),
      scores: store.scores.ofStudy(studyUid).filter((s) => !drawsMaps.has(s.modelId)),
      reviews: store.reviews.ofStudy(studyUid),
      thresholds: this.thresholds(),
      rankingModel: this.rankingModel(),
      priors: store.studies.priors(studyUid),
      volume: store.lesionMaps.volumeOf(studyUid),
    };
  }

  /** The probability at which a network's map pixel counts as lesion, and whether its volumes are shown (its manifest's). */
  private lesionMapRule(modelId: string): { threshold: number; volumeWithheld: string | null } {
    const out = lesionMapNetworks(this.core.manifest()).get(modelId);
    if (out && !(out instanceof Error)) return { threshold: out.threshold, volumeWithheld: out.volumeWithheld };
    // Maps stored from a network the manifest no longer lists (or misdeclares): drawn, never summed.
    return { threshold: 0.5, volumeWithheld: 'no volume estimate: the network that drew this map is not in the manifest' };
  }

  async slice(req: ApiRequest<'slice'>): Promise<ApiResponse<'slice'>> {
    const { instanceId } = parseRequest('slice', req);
    const rel = this.core.store.instances.huPath(instanceId);
    if (!rel) throw new NotFound(`no slice ${instanceId}`);
    const hu = readHuFile(this.core.huDir, rel);
    const side = Math.round(Math.sqrt(hu.length));
    if (side * side !== hu.length) throw new Error(`slice ${instanceId}: ${hu.length} values is not a square image`);
    const map = this.core.store.lesionMaps.ofInstance(instanceId);
    return {
      instanceId,
      rows: side,
      columns: side,
      huBase64: Buffer.from(hu.buffer, hu.byteOffset, hu.byteLength).toString('base64'),
      lesionMap: map
        ? {
            modelId: map.modelId,
            labels: [...SUBTYPES],
            height: map.height,
            width: map.width,
            ...this.lesionMapRule(map.modelId),
            base64: Buffer.from(map.data.buffer, map.data.byteOffset, map.data.byteLength).toString('base64'),
          }
        : null,
    };
  }

  // ---- review -------------------------------------------------------------------------

  async review(req: ApiRequest<'review'>): Promise<ApiResponse<'review'>> {
    const r = parseRequest('review', req);
    const reviewer = this.signedIn('record a decision');
    if (!this.core.store.studies.exists(r.studyUid)) throw new NotFound(`no study ${r.studyUid}`);
    const result = this.core.store.reviews.record({ ...r, reviewer });
    this.changed('review', r.studyUid);
    return result;
  }

  async exportCsv(req: ApiRequest<'exportCsv'>): Promise<ApiResponse<'exportCsv'>> {
    const { filter, reviewedOnly } = parseRequest('exportCsv', req);
    let rows = this.items(filter);
    if (reviewedOnly) rows = rows.filter((r) => r.reviewStatus === 'confirmed' || r.reviewStatus === 'dismissed');
    const csv = worklistCsv(rows);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 13);
    this.core.store.audit.append(this.reviewer ?? 'workstation (nobody signed in)', 'export.csv', null, { rows: rows.length, reviewedOnly, filter });
    return { filename: `ich-worklist-${stamp}.csv`, csv, rowCount: rows.length };
  }

  // ---- the rest -------------------------------------------------------------------------

  async quarantine(req: ApiRequest<'quarantine'>): Promise<ApiResponse<'quarantine'>> {
    parseRequest('quarantine', req);
    return { entries: this.core.quarantine() };
  }

  async status(req: ApiRequest<'status'>): Promise<ApiResponse<'status'>> {
    parseRequest('status', req);
    const s = this.core.status();
    return {
      dataDir: s.dataDir,
      database: s.database,
      databaseUnreachable: s.databaseUnreachable,
      counts: s.counts,
      models: s.models,
      // The providers are read from the database: unknown while it cannot be reached (as the models are).
      providers: s.databaseUnreachable ? [] : this.providers(),
      changeCounter: this.counter,
    };
  }

  private settings(): Settings {
    return {
      dataDir: this.core.dataDir,
      workstation: this.core.workstation,
      scopes: {
        importFolder: settingScope(SETTING.importFolder),
        thresholds: settingScope(SETTING.thresholds),
        rankingModel: settingScope(SETTING.rankingModel),
        providers: settingScope(MODEL_STATES_SETTING),
      },
      database: this.core.database,
      databaseStart: this.databaseStart(),
      importFolder: this.opts.watching?.() ?? this.core.store.settings.get<string>(SETTING.importFolder) ?? null,
      watching: Boolean(this.opts.watching?.()),
      ...(() => {
        const manifest = this.core.manifest();
        const family = this.rankingModel();
        const flag = flagThresholds(manifest, family, this.thresholdOverrides());
        const model = familyThresholds(manifest, family);
        return {
          thresholds: flag.thresholds,
          thresholdSources: flag.source,
          modelThresholds: Object.fromEntries(LABELS.map((l, i) => [l, model[i]!])) as Thresholds,
        };
      })(),
      rankingModel: this.rankingModel(),
      rankingDefault: defaultRankingFamily(this.core.manifest()),
      rankingReason: this.rankingReason(),
      modelsDescription: this.core.status().models,
      providers: this.providers(),
    };
  }

  async getSettings(req: ApiRequest<'getSettings'>): Promise<ApiResponse<'getSettings'>> {
    parseRequest('getSettings', req);
    return this.settings();
  }

  async updateSettings(req: ApiRequest<'updateSettings'>): Promise<ApiResponse<'updateSettings'>> {
    const patch: ApiParsedRequest<'updateSettings'> = parseRequest('updateSettings', req);
    const actor = this.signedIn('change settings');
    const store = this.core.store;
    // Checked before anything is written, so a refused folder leaves every setting as it was.
    let importFolder = patch.importFolder;
    if (importFolder) {
      try {
        importFolder = validateImportFolder(importFolder, this.core.dataDir);
      } catch (err) {
        throw new ApiError((err as Error).message, 'updateSettings');
      }
      if (importFolder !== store.settings.get<string>(SETTING.importFolder) && patch.confirmImportFolder !== true) {
        throw new ApiError(`confirm the new import folder ${importFolder}: every file put in it will be read`, 'updateSettings');
      }
    }
    if (patch.thresholds) {
      const next: Partial<Record<Label, number>> = { ...this.thresholdOverrides() };
      for (const [label, v] of Object.entries(patch.thresholds) as [Label, number | null | undefined][]) {
        if (v === null) delete next[label];
        else if (v !== undefined) next[label] = v;
      }
      store.settings.set(SETTING.thresholds, next);
      store.audit.append(actor, 'settings.thresholds', null, { overrides: next, effective: this.thresholds() });
    }
    if (patch.rankingModel) {
      store.settings.set(SETTING.rankingModel, patch.rankingModel);
      store.audit.append(actor, 'settings.rankingModel', null, { rankingModel: patch.rankingModel });
    }
    if (importFolder !== undefined) {
      store.settings.set(SETTING.importFolder, importFolder);
      // The folder is this workstation's own (store/settings.ts): the record says whose.
      store.audit.append(actor, 'settings.importFolder', null, { importFolder, workstation: this.core.workstation });
      // A watcher already running keeps its folder until restart; a first one starts now.
      if (importFolder && this.opts.startWatch && !this.opts.watching?.()) this.opts.startWatch(importFolder);
    }
    this.changed('settings', null);
    return this.settings();
  }

  /** The database in use, what chose it, and what is saved for the next start (start-config.ts). */
  private databaseStart(): DatabaseStart {
    const started = this.core.startedWith();
    const source: DatabaseSource = started.source ?? (started.database ? 'command line' : 'default');
    let saved: StartConfig | null = null;
    let savedError: string | null = null;
    try {
      saved = readStartConfig(this.core.dataDir);
    } catch (err) {
      savedError = (err as Error).message;
    }
    const overriddenBy = saved && (source === 'command line' || source === 'TRIAGE_DATABASE') ? source : null;
    const savedDatabase = saved && saved.database !== 'sqlite' ? saved.database : undefined;
    const differs = saved !== null && (savedDatabase !== started.database || (savedDatabase !== undefined && (saved.sharedDir ?? undefined) !== started.sharedDir));
    return {
      source,
      file: startConfigPath(this.core.dataDir),
      saved: saved ? (savedDatabase ? redact(savedDatabase) : 'sqlite') : null,
      savedSharedDir: saved?.sharedDir ?? null,
      savedError,
      overriddenBy,
      pendingRestart: differs && overriddenBy === null,
    };
  }

  async saveDatabase(req: ApiRequest<'saveDatabase'>): Promise<ApiResponse<'saveDatabase'>> {
    const { database, sharedDir, test } = parseRequest('saveDatabase', req);
    const actor = this.signedIn('change the database');
    let folder: string | null = null;
    if (database !== 'sqlite') {
      try {
        checkPostgresUrl(database);
      } catch (err) {
        throw new ApiError((err as Error).message, 'saveDatabase');
      }
      // The same rule the next start applies (core.ts): without the shared folder, slices this PC
      // receives would be unreadable to the other workstations. Checked now, not at that start.
      if (!sharedDir) {
        throw new ApiError('a PostgreSQL database is shared: name the folder every workstation on it mounts for HU copies (the shared folder)', 'saveDatabase');
      }
      if (!isAbsolute(sharedDir)) throw new ApiError(`shared folder ${sharedDir}: give the whole path`, 'saveDatabase');
      try {
        folder = existingSharedFolder(sharedDir, 'mount the share first');
      } catch (err) {
        throw new ApiError((err as Error).message, 'saveDatabase');
      }
      if (test) {
        const tried = await testPostgresConnection(database);
        if (!tried.ok) throw new ApiError(`not saved: ${tried.message}`, 'saveDatabase');
      }
    }
    try {
      writeStartConfig(this.core.dataDir, { database, sharedDir: folder, savedBy: actor, savedAt: new Date().toISOString() });
    } catch (err) {
      throw new ApiError((err as Error).message, 'saveDatabase');
    }
    try {
      // The database in use records the change (the new one may not be reachable yet); never the password.
      this.core.store.audit.append(actor, 'settings.database', null, {
        database: database === 'sqlite' ? 'sqlite' : redact(database),
        sharedDir: folder,
        workstation: this.core.workstation,
        file: startConfigPath(this.core.dataDir),
        tested: test && database !== 'sqlite',
        appliesAt: 'next start',
      });
    } catch (err) {
      throw new ApiError(`saved for the next start in ${startConfigPath(this.core.dataDir)}, but the audit log could not record it: ${(err as Error).message}`, 'saveDatabase');
    }
    this.changed('settings', null);
    return this.settings();
  }

  async testDatabase(req: ApiRequest<'testDatabase'>): Promise<ApiResponse<'testDatabase'>> {
    const { database } = parseRequest('testDatabase', req);
    this.signedIn('test a database connection');
    if (database === 'sqlite') return { ok: true, message: `SQLite in ${this.core.dataDir}: nothing to connect to` };
    return testPostgresConnection(database);
  }

  async proposeThresholds(req: ApiRequest<'proposeThresholds'>): Promise<ApiResponse<'proposeThresholds'>> {
    parseRequest('proposeThresholds', req);
    const rows = this.items(WorklistFilterSchema.parse({ status: 'reviewed', limit: 10_000 }));
    const studies: ReviewedStudy[] = [];
    for (const r of rows) {
      if (!r.score || (r.reviewStatus !== 'confirmed' && r.reviewStatus !== 'dismissed')) continue;
      studies.push({ score: r.score, decision: r.reviewStatus, subtypes: r.reviewStatus === 'confirmed' ? (r.lastReview?.subtypes ?? []) : [] });
    }
    const current = this.thresholds();
    return {
      rankingModel: this.rankingModel(),
      reviewed: studies.length,
      labels: thresholdsFromReviews(studies).map((t) => ({ ...t, current: current[t.label] })),
    };
  }

  async changes(req: ApiRequest<'changes'>): Promise<ApiResponse<'changes'>> {
    parseRequest('changes', req);
    this.checkExternal();
    return { counter: this.counter };
  }

  // ---- who is at the workstation -----------------------------------------------------------

  /** The signed-in reviewer, or a refusal naming what needed one. */
  private signedIn(what: string): string {
    if (!this.reviewer) throw new SignInRequired(`sign in as a reviewer to ${what}`);
    return this.reviewer;
  }

  private sessionInfo(): Session {
    return { reviewer: this.reviewer, reviewers: this.core.store.reviewers.list() };
  }

  async session(req: ApiRequest<'session'>): Promise<ApiResponse<'session'>> {
    parseRequest('session', req);
    return this.sessionInfo();
  }

  async signIn(req: ApiRequest<'signIn'>): Promise<ApiResponse<'signIn'>> {
    const { name, create } = parseRequest('signIn', req);
    if (!this.core.store.reviewers.exists(name)) {
      if (!create) throw new NotFound(`no reviewer named "${name}" on this workstation: add them first`);
      this.core.store.reviewers.add(name, this.reviewer);
    }
    this.reviewer = name;
    this.core.store.audit.append(name, 'session.signIn', null, {});
    this.changed('session', null);
    return this.sessionInfo();
  }

  async signOut(req: ApiRequest<'signOut'>): Promise<ApiResponse<'signOut'>> {
    parseRequest('signOut', req);
    if (this.reviewer) this.core.store.audit.append(this.reviewer, 'session.signOut', null, {});
    this.reviewer = null;
    this.changed('session', null);
    return this.sessionInfo();
  }
}

/** A decision or a change that needs a signed-in reviewer was asked for without one (HTTP 403). */
export class SignInRequired extends Error {}

/**
 * What every transport says about a failed call (the HTTP error body, the IPC envelope, the
 * workstation thread's reply): the message, never a stack, and for a review refused by a
 * ReviewConflict the decision that came first, so the screen can show it beside the reader's own.
 * An ApiError that already carries one (a reply from the workstation thread) passes it on.
 */
export function errorReply(err: unknown): { error: string; conflict?: ReviewConflictInfo } {
  if (err instanceof ReviewConflict) return { error: err.message, conflict: { studyUid: err.studyUid, latest: err.latest } };
  if (err instanceof ApiError && err.conflict) return { error: err.message, conflict: err.conflict };
  return { error: err instanceof Error ? err.message : String(err) };
}

// ---- CSV ------------------------------------------------------------------------------

/** RFC 4180 quoting; a cell a spreadsheet would run as a formula gets a leading apostrophe. */
export function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function worklistCsv(rows: readonly WorklistItem[]): string {
  const header = [
    'study_uid', 'patient_name', 'patient_id', 'accession', 'description', 'first_arrival_at',
    ...LABELS.map((l) => `score_${l}`), 'scored_by', 'flagged', 'volume_ml_estimate', 'review_status', 'reviewer', 'reviewed_at',
    'review_subtypes', 'review_comment',
  ];
  const lines = [header.join(',')];
  for (const r of rows) {
    const rv = r.lastReview;
    lines.push(
      [
        r.studyUid, r.patientName, r.patientId, r.accession, r.description, r.firstArrivalAt,
        ...LABELS.map((l) => (r.score ? r.score[l].toFixed(4) : '')), r.scoredBy, r.flagged ? 'yes' : 'no',
        r.volumeMl !== null ? r.volumeMl.toFixed(1) : '', r.reviewStatus, rv?.reviewer, rv?.createdAt, rv ? rv.subtypes.filter((s) => SUBTYPES.includes(s)).join(';') : '',
        rv?.comment,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
