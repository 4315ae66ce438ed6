/**
 * Series (table `series`): made by a series' first slice, 'receiving' while slices arrive, then
 * settled ('ready'), and 'scored', 'awaiting_model' or 'failed' as the work on it goes; which
 * series of a study the networks read, and why the others are not. Also a study's series with
 * their slices as the viewer shows them.
 */
import { numberList } from './columns.js';
import type { SqlHandle } from './handle.js';
import { dialectOf, nowIso } from './handle.js';
import type { NewInstance } from './arrival.js';
import type { SeriesDetail } from '../../shared/api.js';

export type SeriesState = 'receiving' | 'ready' | 'awaiting_model' | 'scored' | 'failed';

export interface SeriesRow {
  seriesUid: string;
  studyUid: string;
  seriesNumber: number | null;
  description: string | null;
  state: SeriesState;
  stateReason: string | null;
  lastArrivalAt: string;
  readyAt: string | null;
  sliceCount: number;
  /** ImageType as written, values separated by backslashes (e.g. ORIGINAL\PRIMARY\AXIAL). */
  imageType: string | null;
  kernel: string | null;
  sliceThickness: number | null;
  /** ContrastBolusAgent of its first slice: '' when present but empty, null when absent (no contrast). */
  contrastAgent: string | null;
  /** Why the networks do not read this series (another of its study is read); null when read. */
  skippedReason: string | null;
}

/** What the DICOM says about a series, as series selection (assemble/select.ts) weighs it. */
export interface SeriesFacts {
  seriesUid: string;
  description: string | null;
  /** ImageType as written, values separated by backslashes (e.g. ORIGINAL\PRIMARY\AXIAL). */
  imageType: string | null;
  kernel: string | null;
  sliceThickness: number | null;
  /** ContrastBolusAgent: '' when present but empty, null when absent (no contrast). */
  contrastAgent: string | null;
  sliceCount: number;
}

/** A series still arriving, with how many slices it holds now. */
export interface ArrivingSeries {
  seriesUid: string;
  studyUid: string;
  sliceCount: number;
}

function toSeriesRow(r: Record<string, unknown>): SeriesRow {
  return {
    seriesUid: r.series_uid as string,
    studyUid: r.study_uid as string,
    seriesNumber: (r.series_number as number | null) ?? null,
    description: (r.description as string | null) ?? null,
    state: r.state as SeriesState,
    stateReason: (r.state_reason as string | null) ?? null,
    lastArrivalAt: r.last_arrival_at as string,
    readyAt: (r.ready_at as string | null) ?? null,
    sliceCount: r.slice_count as number,
    imageType: (r.image_type as string | null) ?? null,
    kernel: (r.kernel as string | null) ?? null,
    sliceThickness: (r.slice_thickness as number | null) ?? null,
    contrastAgent: (r.contrast_agent as string | null) ?? null,
    skippedReason: (r.skipped_reason as string | null) ?? null,
  };
}

/** One slice as the viewer lists it; `position` is its place in arrival order until the series settles. */
function toSliceDetail(r: Record<string, unknown>, position: number): SeriesDetail['slices'][number] {
  return {
    instanceId: r.id as number,
    sopUid: r.sop_uid as string,
    sliceIndex: (r.slice_index as number | null) ?? position,
    instanceNumber: (r.instance_number as number | null) ?? null,
    slicePosition: (r.slice_position as number | null) ?? null,
    window: {
      center: r.window_center as number,
      width: r.window_width as number,
      source: r.window_source as 'tags' | 'default',
    },
    resampled: r.resampled === 1,
    huCorrection: (r.hu_correction as string | null) ?? null,
    originalRows: r.original_rows as number,
    originalColumns: r.original_columns as number,
    orientation: numberList(r.orientation, 6),
    pixelSpacing: numberList(r.pixel_spacing, 2),
  };
}


/**
 * Series `se` in the order they were first seen. A series is made with its first slice, in one
 * transaction (instances.record), so its first slice's id says when; PostgreSQL has no rowid, and
 * its rows come back in no particular order without ORDER BY.
 */
const FIRST_SEEN = '(SELECT MIN(i.id) FROM instances i WHERE i.series_uid = se.series_uid), se.series_uid';

/** The store's key space for series advisory locks ("tr" in ASCII), apart from other applications' keys. */
const SCORING_LOCK_SPACE = 0x7472;

export class SeriesRepository {
  constructor(private readonly db: SqlHandle) {}

  get(seriesUid: string): SeriesRow | undefined {
    const row = this.db.prepare('SELECT * FROM series WHERE series_uid = @seriesUid').get({ seriesUid }) as Record<string, unknown> | undefined;
    return row ? toSeriesRow(row) : undefined;
  }

  /**
   * A slice of the series arrived: its first slice makes the row. A slice arriving for a series that
   * was already settled sends it back to 'receiving': it will be re-ordered and re-scored, never
   * left with a score that ignores it.
   */
  recordArrival(i: NewInstance, at: string): void {
    this.db
      .prepare(
        `INSERT INTO series (series_uid, study_uid, series_number, description, state, last_arrival_at, slice_count,
                             image_type, kernel, slice_thickness, contrast_agent)
         VALUES (@seriesUid, @studyUid, @seriesNumber, @description, 'receiving', @at, 1, @imageType, @kernel, @sliceThickness,
                 @contrastAgent)
         ON CONFLICT(series_uid) DO UPDATE SET state = 'receiving', state_reason = NULL,
           last_arrival_at = excluded.last_arrival_at, slice_count = series.slice_count + 1,
           image_type = COALESCE(series.image_type, excluded.image_type), kernel = COALESCE(series.kernel, excluded.kernel),
           slice_thickness = COALESCE(series.slice_thickness, excluded.slice_thickness),
           contrast_agent = COALESCE(series.contrast_agent, excluded.contrast_agent)`,
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
        contrastAgent: i.contrastAgent ?? null,
      });
  }

  /** Series still receiving whose last slice arrived at or before `cutoffIso` (all when null), the longest waiting first. */
  toSettle(cutoffIso: string | null): SeriesRow[] {
    const sql =
      cutoffIso === null
        ? "SELECT * FROM series WHERE state = 'receiving' ORDER BY last_arrival_at, series_uid"
        : "SELECT * FROM series WHERE state = 'receiving' AND last_arrival_at <= @cutoff ORDER BY last_arrival_at, series_uid";
    return (this.db.prepare(sql).all(cutoffIso === null ? {} : { cutoff: cutoffIso }) as Record<string, unknown>[]).map(toSeriesRow);
  }

  /** Series in one state, in the order they were first seen. */
  inState(state: SeriesState): SeriesRow[] {
    return (
      this.db
        .prepare(`SELECT * FROM series se WHERE state = @state ORDER BY ${FIRST_SEEN}`)
        .all({ state }) as Record<string, unknown>[]
    ).map(toSeriesRow);
  }

  /** Marks a settled series ready with its final slice count; its order is written beside it (instances.writeOrder). */
  markReady(seriesUid: string, sliceCount: number): void {
    this.db
      .prepare("UPDATE series SET state = 'ready', state_reason = NULL, ready_at = @at, slice_count = @sliceCount WHERE series_uid = @seriesUid")
      .run({ at: nowIso(), sliceCount, seriesUid });
  }

  setState(seriesUid: string, state: SeriesState, reason: string | null): void {
    this.db.prepare('UPDATE series SET state = @state, state_reason = @reason WHERE series_uid = @seriesUid').run({ state, reason, seriesUid });
  }

  /** What the series choice reads about a study's series: settled ones only, or all. */
  facts(studyUid: string, opts: { settledOnly: boolean }): SeriesFacts[] {
    const rows = this.db
      .prepare(
        `SELECT se.*, (SELECT COUNT(*) FROM instances i WHERE i.series_uid = se.series_uid) AS n FROM series se
         WHERE se.study_uid = @studyUid ${opts.settledOnly ? "AND se.state <> 'receiving'" : ''} ORDER BY ${FIRST_SEEN}`,
      )
      .all({ studyUid }) as Record<string, unknown>[];
    return rows.map((r) => {
      const s = toSeriesRow(r);
      return {
        seriesUid: s.seriesUid,
        description: s.description,
        imageType: s.imageType,
        kernel: s.kernel,
        sliceThickness: s.sliceThickness,
        contrastAgent: s.contrastAgent,
        sliceCount: r.n as number,
      };
    });
  }

  /** Records which series of a study the networks read (reason null) and why the others are not. */
  setChoice(choice: { read: string | null; skipped: ReadonlyMap<string, string> }): void {
    const set = this.db.prepare('UPDATE series SET skipped_reason = @reason WHERE series_uid = @seriesUid');
    this.db.transaction(() => {
      if (choice.read) set.run({ reason: null, seriesUid: choice.read });
      for (const [seriesUid, reason] of choice.skipped) set.run({ reason, seriesUid });
    })();
  }

  /**
   * Takes a series for a provisional run of the networks, unless another workstation on the same
   * database has it: the release function, or null when it is taken. When one study reaches two
   * workstations at once each stores some of its slices, and both would otherwise run the networks
   * on the same slices. On PostgreSQL an advisory lock held by the connection, keyed by the series (the server drops
   * it with the connection, so a workstation that dies holds nothing); SQLite has one writer.
   */
  holdForScoring(seriesUid: string): (() => void) | null {
    if (dialectOf(this.db) === 'sqlite') return () => {};
    const key = { space: SCORING_LOCK_SPACE, seriesUid };
    const taken = this.db.prepare('SELECT pg_try_advisory_lock(@space, hashtext(@seriesUid)) AS ok').get(key) as { ok: boolean };
    if (!taken.ok) return null;
    return () => void this.db.prepare('SELECT pg_advisory_unlock(@space, hashtext(@seriesUid)) AS ok').get(key);
  }

  /** Series still arriving, with how many slices each holds now, the longest-waiting first. */
  arriving(): ArrivingSeries[] {
    const rows = this.db
      .prepare(
        `SELECT se.series_uid, se.study_uid, COUNT(i.id) AS slice_count FROM series se JOIN instances i ON i.series_uid = se.series_uid
         WHERE se.state = 'receiving' GROUP BY se.series_uid ORDER BY MIN(i.id)`,
      )
      .all() as Record<string, unknown>[];
    return rows.map((r) => ({ seriesUid: r.series_uid as string, studyUid: r.study_uid as string, sliceCount: r.slice_count as number }));
  }

  /** A study's series with their slices, in series number then slice order, as the viewer lists them. */
  ofStudy(studyUid: string): SeriesDetail[] {
    const series = (
      this.db
        .prepare('SELECT * FROM series WHERE study_uid = @studyUid ORDER BY series_number IS NULL, series_number, series_uid')
        .all({ studyUid }) as Record<string, unknown>[]
    ).map(toSeriesRow);
    const slices = this.db.prepare(
      // Until a series settles its slices have no index yet: show them in arrival order.
      `SELECT id, sop_uid, slice_index, instance_number, slice_position, window_center, window_width, window_source,
              resampled, original_rows, original_columns, orientation, pixel_spacing, hu_correction
       FROM instances WHERE series_uid = @seriesUid ORDER BY slice_index IS NULL, slice_index, instance_number, id`,
    );
    return series.map((s) => ({
      seriesUid: s.seriesUid,
      seriesNumber: s.seriesNumber,
      description: s.description,
      state: s.state,
      stateReason: s.stateReason,
      skippedReason: s.skippedReason,
      contrastAgent: s.contrastAgent,
      slices: (slices.all({ seriesUid: s.seriesUid }) as Record<string, unknown>[]).map(toSliceDetail),
    }));
  }

  count(state?: SeriesState): number {
    const sql = state === undefined ? 'SELECT COUNT(*) AS n FROM series' : 'SELECT COUNT(*) AS n FROM series WHERE state = @state';
    return (this.db.prepare(sql).get(state === undefined ? {} : { state }) as { n: number }).n;
  }
}
