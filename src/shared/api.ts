/**
 * The contract between the core and its clients (the CLI's --json, the renderer over IPC or the
 * loopback server). Declared once, as zod schemas with the TypeScript types inferred from them,
 * so payloads are validated at runtime on both sides.
 */
import { z } from 'zod';
import { LABELS, type Label } from './labels.js';

const probabilitiesShape = Object.fromEntries(LABELS.map((l) => [l, z.number().min(0).max(1)])) as Record<
  Label,
  z.ZodNumber
>;
export const LabelProbabilitiesSchema = z.object(probabilitiesShape);

export const ReviewStatusSchema = z.enum(['new', 'in_review', 'confirmed', 'dismissed']);

/** Where a study is in the pipeline, worst series first. */
export const StudyStateSchema = z.enum(['receiving', 'ready', 'awaiting_model', 'scored', 'failed']);

export const WorklistRowSchema = z.object({
  studyUid: z.string(),
  patientName: z.string().nullable(),
  patientId: z.string().nullable(),
  /** PatientSex and PatientAge as the DICOM gives them ('M', '067Y'); null when absent. */
  patientSex: z.string().nullable().default(null),
  patientAge: z.string().nullable().default(null),
  accession: z.string().nullable(),
  description: z.string().nullable(),
  studyDate: z.string().nullable(),
  /** StudyTime as written (HHMMSS…). */
  studyTime: z.string().nullable().default(null),
  firstArrivalAt: z.string(),
  lastArrivalAt: z.string(),
  reviewStatus: ReviewStatusSchema,
  state: StudyStateSchema,
  stateReason: z.string().nullable(),
  seriesCount: z.number().int(),
  sliceCount: z.number().int(),
  /** Slices of the series the networks read (a skipped localizer or bone-kernel twin not counted). */
  readSliceCount: z.number().int(),
  /**
   * ContrastBolusAgent of the series the networks read, when it was taken with contrast ('' when
   * present but empty): a score the networks may have raised on enhancing vessels. Null otherwise.
   */
  readContrastAgent: z.string().nullable().default(null),
  /** The study score of the site's ranking model family; null until a model has scored it. */
  score: LabelProbabilitiesSchema.nullable(),
  scoredBy: z.string().nullable(),
  /**
   * Set while the score is provisional: made while a series was still arriving, from this many
   * slices; null once final (or unscored).
   */
  provisionalSlices: z.number().int().nullable().default(null),
});
export type WorklistRow = z.infer<typeof WorklistRowSchema>;

export const QuarantineEntrySchema = z.object({
  id: z.number().int(),
  path: z.string(),
  reason: z.string(),
  sha256: z.string().nullable(),
  createdAt: z.string(),
});
export type QuarantineEntry = z.infer<typeof QuarantineEntrySchema>;

// ==== The renderer ↔ main API (issue 6) ========================================================
//
// One interface, TriageApi, one method per message; each message has a request and a response
// schema in API_SCHEMAS. Two transports carry it — Electron IPC (src/preload + src/main/electron)
// and the loopback HTTP server (src/main/server) — and both validate every payload against these
// schemas on both sides. Channel names (`triage:<method>`) and HTTP paths (`/api/<method>`) are
// derived from API_METHODS, so a method cannot exist on one transport and not the other.

export const LabelSchema = z.enum(LABELS as [Label, ...Label[]]);
export type Subtype = Exclude<Label, 'any'>;
export const SubtypeSchema = z.enum(LABELS.filter((l) => l !== 'any') as [Subtype, ...Subtype[]]);

/** The model family whose study score ranks the worklist (stored as setting `rankingModel`). */
export const RankingModelSchema = z.enum(['convlstm', 'ensemble', 'mean']);
export type RankingModel = z.infer<typeof RankingModelSchema>;

/** Per-label flag thresholds: a study is flagged when any label's score reaches its threshold. */
export const ThresholdsSchema = z.object(
  Object.fromEntries(LABELS.map((l) => [l, z.number().min(0).max(1)])) as Record<Label, z.ZodNumber>,
);
export type Thresholds = z.infer<typeof ThresholdsSchema>;

export const ReviewDecisionSchema = z.enum(['in_review', 'confirmed', 'dismissed', 'reopened']);
export type ReviewDecision = z.infer<typeof ReviewDecisionSchema>;

export const ReviewEntrySchema = z.object({
  id: z.number().int(),
  studyUid: z.string(),
  reviewer: z.string(),
  decision: ReviewDecisionSchema,
  subtypes: z.array(SubtypeSchema),
  comment: z.string(),
  createdAt: z.string(),
});
export type ReviewEntry = z.infer<typeof ReviewEntrySchema>;

/**
 * A bleed-volume estimate from a localisation network's lesion maps: the map pixels at or above
 * the network's threshold, times each pixel's area (the slice's pixel spacing) and the slice
 * spacing, on the series the networks read. An estimate from a network trained on synthetic data,
 * never a measurement: the screen says so wherever it shows one.
 */
export const VolumeEstimateSchema = z.object({
  modelId: z.string(),
  seriesUid: z.string(),
  /** mL where any subtype's map reaches the threshold (a pixel two subtypes share counts once). */
  totalMl: z.number().nonnegative(),
  /** mL per subtype. */
  subtypes: z.record(z.string(), z.number().nonnegative()),
  /** Slices the estimate sums. */
  slices: z.number().int().nonnegative(),
  /** Made while the series was still arriving. */
  provisional: z.boolean(),
  computedAt: z.string(),
});
export type VolumeEstimate = z.infer<typeof VolumeEstimateSchema>;

/** A model run that produced predictions for a study, and where it ran. */
export const ProducerSchema = z.object({ modelId: z.string(), modelVersion: z.string(), provider: z.string() });
export type Producer = z.infer<typeof ProducerSchema>;

/** The execution provider each loaded model runs on, and why (e.g. "CUDA not installed"). */
export const ProviderInfoSchema = z.object({ modelId: z.string(), provider: z.string(), reason: z.string() });
export type ProviderInfo = z.infer<typeof ProviderInfoSchema>;

export const WorklistItemSchema = WorklistRowSchema.extend({
  /** Some label's score reached its flag threshold. */
  flagged: z.boolean(),
  producedBy: z.array(ProducerSchema),
  lastReview: ReviewEntrySchema.nullable(),
  /** While the models run on this study: slice runs done of slices × models, and the model running. */
  scoring: z.object({ done: z.number().int(), total: z.number().int(), modelId: z.string() }).nullable().default(null),
  /** The study's bleed-volume estimate (mL, all subtypes) when a localisation network has run; else null. */
  volumeMl: z.number().nonnegative().nullable().default(null),
});
export type WorklistItem = z.infer<typeof WorklistItemSchema>;

export const WorklistFilterSchema = z.strictObject({
  /** unreviewed = new or in review; reviewed = confirmed or dismissed. */
  status: z.enum(['all', 'unreviewed', 'reviewed']).default('all'),
  flaggedOnly: z.boolean().default(false),
  /** Arrival date range, inclusive, as YYYY-MM-DD in the workstation's local calendar. */
  from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable().default(null),
  to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable().default(null),
  /** Minutes east of UTC of the client's time zone, so "today" means the reader's today. */
  tzOffsetMinutes: z.number().int().min(-900).max(900).default(0),
  sort: z.enum(['score', 'arrival']).default('score'),
  limit: z.number().int().min(1).max(10_000).default(1000),
});
export type WorklistFilter = z.infer<typeof WorklistFilterSchema>;

export const WorklistResponseSchema = z.object({
  rows: z.array(WorklistItemSchema),
  changeCounter: z.number().int(),
  thresholds: ThresholdsSchema,
  rankingModel: RankingModelSchema,
  /** Why this family ranks: the site's choice, or the manifest's measurement in one sentence. */
  rankingReason: z.string(),
});

export const SliceInfoSchema = z.object({
  instanceId: z.number().int(),
  sopUid: z.string(),
  sliceIndex: z.number().int(),
  instanceNumber: z.number().int().nullable(),
  slicePosition: z.number().nullable(),
  /** The slice's own window (preset 1, "default"): from its DICOM tags, else the brain window. */
  window: z.object({ center: z.number(), width: z.number().positive(), source: z.enum(['tags', 'default']) }),
  resampled: z.boolean(),
  /**
   * Why the slice's stored values were not read as its header says, in one sentence (12-bit two's
   * complement labelled unsigned); null when they were. The viewer shows it with the slice.
   */
  huCorrection: z.string().nullable().default(null),
  originalRows: z.number().int(),
  originalColumns: z.number().int(),
  /** ImageOrientationPatient (row then column direction cosines, LPS): the viewer's edge letters. */
  orientation: z.array(z.number()).length(6).nullable().default(null),
  /** PixelSpacing [row, column] in mm for originalRows × originalColumns: the viewer's ruler. */
  pixelSpacing: z.array(z.number()).length(2).nullable().default(null),
});
export type SliceInfo = z.infer<typeof SliceInfoSchema>;

export const SeriesDetailSchema = z.object({
  seriesUid: z.string(),
  seriesNumber: z.number().int().nullable(),
  description: z.string().nullable(),
  state: StudyStateSchema,
  stateReason: z.string().nullable(),
  /** Why the networks do not read this series (another series of the study is read); null when read. */
  skippedReason: z.string().nullable().default(null),
  /**
   * ContrastBolusAgent of the series ('' when present but empty): taken with contrast, which the
   * networks were not trained on. Null: no contrast, as far as the DICOM says.
   */
  contrastAgent: z.string().nullable().default(null),
  slices: z.array(SliceInfoSchema),
});
export type SeriesDetail = z.infer<typeof SeriesDetailSchema>;

/** A series' ContrastBolusAgent in words, as the series choice's reasons and the viewer say it. */
export function contrastInWords(agent: string): string {
  return agent ? `contrast-enhanced (${agent})` : 'contrast-enhanced (agent not named)';
}

/** One model's per-slice probabilities for a study (slices of every series, by instance id). */
export const ModelPredictionsSchema = z.object({
  modelId: z.string(),
  modelVersion: z.string(),
  provider: z.string(),
  slices: z.array(z.object({ instanceId: z.number().int(), p: LabelProbabilitiesSchema })),
});
export type ModelPredictions = z.infer<typeof ModelPredictionsSchema>;

export const StudyScoreEntrySchema = z.object({
  modelId: z.string(),
  score: LabelProbabilitiesSchema,
  /** Instance ids of the slices that drove the score. */
  keySlices: z.array(z.number().int()),
  computedAt: z.string(),
});
export type StudyScoreEntry = z.infer<typeof StudyScoreEntrySchema>;

/** Another study of the same patient (same PatientID), for comparison. */
export const PriorStudySchema = z.object({
  studyUid: z.string(),
  studyDate: z.string().nullable(),
  studyTime: z.string().nullable(),
  description: z.string().nullable(),
  firstArrivalAt: z.string(),
  reviewStatus: ReviewStatusSchema,
  /** Its ranking study score for "any"; null when not scored. */
  scoreAny: z.number().nullable(),
});
export type PriorStudy = z.infer<typeof PriorStudySchema>;

export const StudyDetailSchema = z.object({
  study: WorklistItemSchema,
  series: z.array(SeriesDetailSchema),
  predictions: z.array(ModelPredictionsSchema),
  scores: z.array(StudyScoreEntrySchema),
  reviews: z.array(ReviewEntrySchema),
  thresholds: ThresholdsSchema,
  rankingModel: RankingModelSchema,
  /** The same patient's other studies, newest first. */
  priors: z.array(PriorStudySchema).default([]),
  /** The bleed-volume estimate, when a localisation network has run on the study. */
  volume: VolumeEstimateSchema.nullable().default(null),
});
export type StudyDetail = z.infer<typeof StudyDetailSchema>;

export const SliceResponseSchema = z.object({
  instanceId: z.number().int(),
  rows: z.number().int().positive(),
  columns: z.number().int().positive(),
  /** rows×columns little-endian int16 Hounsfield units, base64 (JSON-safe on both transports). */
  huBase64: z.string(),
  /** Where a localisation network sees each subtype on this slice; null when none has run on it. */
  lesionMap: z
    .object({
      modelId: z.string(),
      /** The subtypes, one map each, in label order. */
      labels: z.array(z.string()),
      height: z.number().int().positive(),
      width: z.number().int().positive(),
      /** The probability at which a map pixel counts towards the volume estimate. */
      threshold: z.number().min(0).max(1),
      /** Null when the study's volume estimate comes from this map; else why none is shown. */
      volumeWithheld: z.string().nullable().default(null),
      /** labels×height×width bytes, each a map pixel's probability ×255, base64. */
      base64: z.string(),
    })
    .nullable()
    .default(null),
});
export type SliceResponse = z.infer<typeof SliceResponseSchema>;

/** Per label, whether its flag threshold is the site's override or the ranking family's operating point. */
export const ThresholdSourcesSchema = z.object(
  Object.fromEntries(LABELS.map((l) => [l, z.enum(['site', 'model'])])) as Record<Label, z.ZodEnum<{ site: 'site'; model: 'model' }>>,
);

/** A reviewer's name as shown in the audit log: printable, no control characters. */
export const ReviewerNameSchema = z
  .string()
  .trim()
  .min(2, 'a reviewer name needs at least 2 characters')
  .max(100)
  .regex(/^[^\p{Cc}\p{Cf}]+$/u, 'a reviewer name cannot hold control characters');

export const SessionSchema = z.object({
  reviewer: z.string().nullable(),
  reviewers: z.array(z.string()),
});
export type Session = z.infer<typeof SessionSchema>;

/**
 * Whose a setting is on a database several workstations share: the whole site's (every
 * workstation reads the one value) or this workstation's own (kept under its name).
 */
export const SettingScopeSchema = z.enum(['site', 'workstation']);
export type SettingScope = z.infer<typeof SettingScopeSchema>;

/**
 * Where the database this workstation uses was chosen at start, strongest first: the command line
 * (`--database`), the environment (TRIAGE_DATABASE), this PC's start configuration saved in
 * Settings, or the default (SQLite in the data folder).
 */
export const DatabaseSourceSchema = z.enum(['command line', 'TRIAGE_DATABASE', 'Settings', 'default']);
export type DatabaseSource = z.infer<typeof DatabaseSourceSchema>;

/**
 * A database to use from the next start: `sqlite` (the default: SQLite in the data folder) or a
 * PostgreSQL URL several workstations share. The message never repeats the value: it may carry a
 * password.
 */
/** Whether a database choice names PostgreSQL (postgres:// or postgresql://) rather than SQLite. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value.trim());
}

export const DatabaseChoiceSchema = z
  .string()
  .trim()
  .min(1, 'give sqlite or a postgres:// URL')
  .max(4096)
  .refine((v) => v.toLowerCase() === 'sqlite' || isPostgresUrl(v), {
    message: 'the database is sqlite (SQLite in the data folder, the default) or a PostgreSQL URL postgres://user:password@host:port/database',
  })
  .transform((v) => (v.toLowerCase() === 'sqlite' ? 'sqlite' : v));

/** The database this PC uses now, and the one saved for its next start (never with a password). */
export const DatabaseStartSchema = z.object({
  /** What chose the database in use. */
  source: DatabaseSourceSchema,
  /** The start configuration file in the data folder that Settings writes. */
  file: z.string(),
  /** The value saved there ("sqlite", or the URL without its password); null when nothing is saved. */
  saved: z.string().nullable(),
  /** The shared HU folder saved with it (PostgreSQL); null when none. */
  savedSharedDir: z.string().nullable(),
  /** Why the saved file cannot be used (unreadable, not valid): the next start will refuse it too. */
  savedError: z.string().nullable(),
  /** What overrides the saved value at start (the command line or the environment); null when nothing does. */
  overriddenBy: z.enum(['command line', 'TRIAGE_DATABASE']).nullable(),
  /** The saved value differs from the one in use and will be used once the workstation restarts. */
  pendingRestart: z.boolean(),
});
export type DatabaseStart = z.infer<typeof DatabaseStartSchema>;

export const SettingsSchema = z.object({
  dataDir: z.string(),
  /** The name this workstation's own settings are kept under in the database (its host and data folder). */
  workstation: z.string(),
  /** Whose each editable or shown setting is, so that the screen can say so beside it. */
  scopes: z.object({
    importFolder: SettingScopeSchema,
    thresholds: SettingScopeSchema,
    rankingModel: SettingScopeSchema,
    providers: SettingScopeSchema,
  }),
  /**
   * Which database this workstation uses ("SQLite in <data folder>", or "PostgreSQL <URL without
   * its password>") and what chose it: fixed at start; a change (saveDatabase) applies at the next.
   */
  database: z.string(),
  /** Where the database was chosen, and what is saved for the next start (DatabaseStartSchema). */
  databaseStart: DatabaseStartSchema,
  importFolder: z.string().nullable(),
  /** Whether the import folder is being watched by this process right now. */
  watching: z.boolean(),
  thresholds: ThresholdsSchema,
  thresholdSources: ThresholdSourcesSchema,
  /** The ranking family's operating thresholds from the model manifest (what a reset returns to). */
  modelThresholds: ThresholdsSchema,
  rankingModel: RankingModelSchema,
  /** The family the manifest measured best, and the measurement in one sentence. */
  rankingDefault: RankingModelSchema,
  rankingReason: z.string(),
  /** Read-only: the models' state as the core describes it, and each model's provider. */
  modelsDescription: z.string(),
  providers: z.array(ProviderInfoSchema),
});
export type Settings = z.infer<typeof SettingsSchema>;

/** Since when (ISO time) and why a shared database cannot be reached. */
export const DatabaseUnreachableSchema = z.object({ since: z.string(), reason: z.string() });
export type DatabaseUnreachable = z.infer<typeof DatabaseUnreachableSchema>;

export const StatusSchema = z.object({
  dataDir: z.string(),
  /** As in Settings, and "… UNREACHABLE since …" while a shared database cannot be reached. */
  database: z.string(),
  /**
   * Set while the database cannot be reached: what the screen shows is then as of its last
   * successful refresh, not live. Null while it answers.
   */
  databaseUnreachable: DatabaseUnreachableSchema.nullable(),
  counts: z.record(z.string(), z.number()),
  models: z.string(),
  providers: z.array(ProviderInfoSchema),
  changeCounter: z.number().int(),
});
export type Status = z.infer<typeof StatusSchema>;

const Empty = z.strictObject({});
const StudyRef = z.strictObject({ studyUid: z.string().min(1).max(128) });

/** Each message: its request and response schema. The keys are the API's method names. */
export const API_SCHEMAS = {
  worklist: { request: WorklistFilterSchema, response: WorklistResponseSchema },
  study: { request: StudyRef, response: StudyDetailSchema },
  slice: { request: z.strictObject({ instanceId: z.number().int().positive() }), response: SliceResponseSchema },
  review: {
    request: z.strictObject({
      studyUid: z.string().min(1).max(128),
      decision: ReviewDecisionSchema,
      subtypes: z.array(SubtypeSchema).max(5).default([]),
      comment: z.string().max(4000).default(''),
      /**
       * The id of the study's latest decision the reader saw (null: none yet), so that a decision
       * made on what they saw is recorded only if no other came since; otherwise refused (HTTP
       * 409) with the other decision. Absent: recorded regardless.
       */
      after: z.number().int().positive().nullable().optional(),
    }),
    response: z.object({ reviewStatus: ReviewStatusSchema, review: ReviewEntrySchema }),
  },
  exportCsv: {
    request: z.strictObject({ filter: WorklistFilterSchema.default(WorklistFilterSchema.parse({})), reviewedOnly: z.boolean().default(true) }),
    response: z.object({ filename: z.string(), csv: z.string(), rowCount: z.number().int() }),
  },
  quarantine: { request: Empty, response: z.object({ entries: z.array(QuarantineEntrySchema) }) },
  status: { request: Empty, response: StatusSchema },
  getSettings: { request: Empty, response: SettingsSchema },
  updateSettings: {
    request: z.strictObject({
      importFolder: z.string().min(1).max(4096).nullable().optional(),
      /** A new import folder is only taken when the user confirmed it (every file in it is read). */
      confirmImportFolder: z.boolean().optional(),
      /** Labels to override; a label set to null returns to the model's operating threshold. */
      thresholds: z.partialRecord(LabelSchema, z.number().min(0).max(1).nullable()).optional(),
      rankingModel: RankingModelSchema.optional(),
    }),
    response: SettingsSchema,
  },
  /**
   * Saves the database this PC uses from its next start in its start configuration (never in the
   * database itself), with the shared HU folder a PostgreSQL database needs; `test` first makes a
   * short connection and refuses to save when it fails. Needs a signed-in reviewer; audited.
   */
  saveDatabase: {
    request: z.strictObject({
      database: DatabaseChoiceSchema,
      sharedDir: z.string().trim().min(1).max(4096).nullable().optional(),
      test: z.boolean().default(false),
    }),
    response: SettingsSchema,
  },
  /** A short connection to a PostgreSQL database (connect, SELECT 1) with its result in words, never the password. */
  testDatabase: {
    request: z.strictObject({ database: DatabaseChoiceSchema }),
    response: z.object({ ok: z.boolean(), message: z.string() }),
  },
  /**
   * Flag thresholds proposed from this site's reviewed studies (per label on the ranking family's
   * study scores, by the rule of the manifest's defaults: the highest threshold that still flags
   * 95 % of the confirmed studies, a subtype's raised above every dismissed study); nothing
   * changes until the user applies them with updateSettings.
   */
  proposeThresholds: {
    request: Empty,
    response: z.object({
      rankingModel: RankingModelSchema,
      reviewed: z.number().int(),
      labels: z.array(
        z.object({
          label: LabelSchema,
          threshold: z.number().min(0).max(1).nullable(),
          current: z.number().min(0).max(1),
          positives: z.number().int(),
          negatives: z.number().int(),
          sensitivity: z.number().nullable(),
          specificity: z.number().nullable(),
          reason: z.string(),
        }),
      ),
    }),
  },
  /** The change counter: a polling fallback for clients that cannot hold an event stream. */
  changes: { request: Empty, response: z.object({ counter: z.number().int() }) },
  /** Who is signed in on this workstation, and the local reviewers to choose from. */
  session: { request: Empty, response: SessionSchema },
  /** Signs in as a named local reviewer (`create` adds a new name); decisions and changes are theirs. */
  signIn: {
    request: z.strictObject({ name: ReviewerNameSchema, create: z.boolean().default(false) }),
    response: SessionSchema,
  },
  signOut: { request: Empty, response: SessionSchema },
} as const;

export type ApiMethod = keyof typeof API_SCHEMAS;
/** What a caller passes (defaults may be omitted). */
export type ApiRequest<M extends ApiMethod> = z.input<(typeof API_SCHEMAS)[M]['request']>;
/** What a caller gets back. */
export type ApiResponse<M extends ApiMethod> = z.output<(typeof API_SCHEMAS)[M]['response']>;
/** What an implementation receives once a request is validated (defaults filled in). */
export type ApiParsedRequest<M extends ApiMethod> = z.output<(typeof API_SCHEMAS)[M]['request']>;

/** The API, one method per message; implemented in src/main/api, called by the renderer. */
export interface TriageApi {
  /** The ranked worklist under a filter. */
  worklist(req: ApiRequest<'worklist'>): Promise<ApiResponse<'worklist'>>;
  /** Everything the viewer needs about one study, except pixels. */
  study(req: ApiRequest<'study'>): Promise<ApiResponse<'study'>>;
  /** One slice's pixels in Hounsfield units. */
  slice(req: ApiRequest<'slice'>): Promise<ApiResponse<'slice'>>;
  /** Records a review decision (start, confirm, dismiss, re-open) with subtypes and a comment. */
  review(req: ApiRequest<'review'>): Promise<ApiResponse<'review'>>;
  /** The (reviewed) worklist as CSV. */
  exportCsv(req: ApiRequest<'exportCsv'>): Promise<ApiResponse<'exportCsv'>>;
  /** Files refused, each with its reason. */
  quarantine(req: ApiRequest<'quarantine'>): Promise<ApiResponse<'quarantine'>>;
  status(req: ApiRequest<'status'>): Promise<ApiResponse<'status'>>;
  getSettings(req: ApiRequest<'getSettings'>): Promise<ApiResponse<'getSettings'>>;
  updateSettings(req: ApiRequest<'updateSettings'>): Promise<ApiResponse<'updateSettings'>>;
  saveDatabase(req: ApiRequest<'saveDatabase'>): Promise<ApiResponse<'saveDatabase'>>;
  testDatabase(req: ApiRequest<'testDatabase'>): Promise<ApiResponse<'testDatabase'>>;
  proposeThresholds(req: ApiRequest<'proposeThresholds'>): Promise<ApiResponse<'proposeThresholds'>>;
  changes(req: ApiRequest<'changes'>): Promise<ApiResponse<'changes'>>;
  session(req: ApiRequest<'session'>): Promise<ApiResponse<'session'>>;
  signIn(req: ApiRequest<'signIn'>): Promise<ApiResponse<'signIn'>>;
  signOut(req: ApiRequest<'signOut'>): Promise<ApiResponse<'signOut'>>;
}

// Compile-time proof that TriageApi and API_SCHEMAS name the same methods.
type _SameMethods = [keyof TriageApi] extends [ApiMethod] ? ([ApiMethod] extends [keyof TriageApi] ? true : never) : never;
const _sameMethods: _SameMethods = true;
void _sameMethods;

export const API_METHODS = Object.freeze(Object.keys(API_SCHEMAS) as ApiMethod[]);

export function isApiMethod(name: string): name is ApiMethod {
  return Object.prototype.hasOwnProperty.call(API_SCHEMAS, name);
}

/**
 * What an IPC call answers: the method's value, or the error message with a review conflict's
 * decision (Electron; the same error reply the HTTP server sends, ApiErrorSchema).
 */
export type Envelope = { ok: true; value: unknown } | { ok: false; error: string; conflict?: ReviewConflictInfo };

/**
 * The score id under which a study's ranking score is stored and served: the site's chosen
 * family's score, what the worklist sorts by and the viewer opens at.
 */
export const RANKING_SCORE_ID = 'ranking';

/** The IPC channel of a method (Electron). */
export function ipcChannel(method: ApiMethod): string {
  return `triage:${method}`;
}
/** The IPC channel main pushes events on. */
export const EVENT_CHANNEL = 'triage:event';
/** The IPC channel on which the preload (and only code with ipcRenderer) fetches the per-launch secret. */
export const TOKEN_CHANNEL = 'triage:token';
/** The HTTP path of a method (loopback server). */
export function httpPath(method: ApiMethod): string {
  return `/api/${method}`;
}
export const EVENTS_PATH = '/api/events';
/** The header that carries the loopback server's per-launch secret (lower case, as Node reports it). */
export const TOKEN_HEADER = 'x-triage-token';

/** Events main pushes to the renderer (IPC event channel or server-sent events). */
export const ApiEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('changed'),
    counter: z.number().int(),
    /** `database`: the shared database stopped answering, or answers again (status says which). */
    reason: z.enum(['ingest', 'series', 'scoring', 'scored', 'review', 'settings', 'session', 'external', 'database']),
    studyUid: z.string().nullable(),
  }),
  z.object({
    type: z.literal('flagged'),
    studyUid: z.string(),
    patientName: z.string().nullable(),
    accession: z.string().nullable(),
    score: LabelProbabilitiesSchema,
  }),
]);
export type ApiEvent = z.infer<typeof ApiEventSchema>;

/**
 * A review refused because another decision on the study came since the one the reader saw: that
 * decision (`latest`; null: the study has none), so the screen can show who decided what and when.
 */
export const ReviewConflictSchema = z.object({ studyUid: z.string(), latest: ReviewEntrySchema.nullable() });
export type ReviewConflictInfo = z.infer<typeof ReviewConflictSchema>;

/** A transport's error reply: the message only, never a stack, and a review conflict's decision. */
export const ApiErrorSchema = z.object({
  error: z.string(),
  method: z.string().optional(),
  conflict: ReviewConflictSchema.optional(),
});

export class ApiError extends Error {
  constructor(
    message: string,
    readonly method?: string,
    /** Set when a review was refused because another decision came since the one the reader saw. */
    readonly conflict?: ReviewConflictInfo,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export function parseRequest<M extends ApiMethod>(method: M, raw: unknown): ApiParsedRequest<M> {
  const r = API_SCHEMAS[method].request.safeParse(raw ?? {});
  if (!r.success) throw new ApiError(`invalid ${method} request: ${describeIssues(r.error)}`, method);
  return r.data as ApiParsedRequest<M>;
}

export function parseResponse<M extends ApiMethod>(method: M, raw: unknown): ApiResponse<M> {
  const r = API_SCHEMAS[method].response.safeParse(raw);
  if (!r.success) throw new ApiError(`invalid ${method} response: ${describeIssues(r.error)}`, method);
  return r.data as ApiResponse<M>;
}

/**
 * The error a client throws for a failed call's reply (an HTTP error body or an IPC envelope),
 * validated here as replies are: its message, and a review conflict's decision when it carries one.
 * `fallback` is the message for a reply that has none (an HTTP error page, an empty body).
 */
export function errorFromReply(method: ApiMethod, reply: unknown, fallback: string): ApiError {
  if (typeof reply !== 'object' || reply === null || !('error' in reply)) return new ApiError(fallback, method);
  const r = ApiErrorSchema.safeParse(reply);
  if (!r.success) return new ApiError(`invalid ${method} error reply: ${describeIssues(r.error)}`, method);
  return new ApiError(r.data.error, method, r.data.conflict);
}

/*
 * Validation happens once on each edge, on the side that receives:
 * - a request, by the implementation (src/main/api: parseRequest is each method's first step),
 *   because in-process callers (the CLI, the demo, the tests) reach it without any transport;
 * - a response, by the client that receives it (makeClient: the screen), because the screen is
 *   what must never draw a malformed reply; an error reply too (errorFromReply), since the screen
 *   draws a review conflict's decision.
 * The transports in between (HTTP, IPC, the workstation thread) pass both through unchanged.
 */

/** The server side of one message on any transport: the named method of the implementation. */
export async function dispatch(api: TriageApi, method: ApiMethod, raw: unknown): Promise<unknown> {
  if (!isApiMethod(method)) throw new ApiError(`no API method ${String(method)}`);
  const call = api[method] as (req: unknown) => Promise<unknown>;
  return call.call(api, raw ?? {});
}

/** Wraps a raw transport (one function: method + payload → reply) as a TriageApi whose replies are validated. */
export function makeClient(send: (method: ApiMethod, request: unknown) => Promise<unknown>): TriageApi {
  const client = {} as Record<ApiMethod, (req: unknown) => Promise<unknown>>;
  for (const method of API_METHODS) {
    client[method] = async (req: unknown) => parseResponse(method, await send(method, req ?? {}));
  }
  return client as unknown as TriageApi;
}
