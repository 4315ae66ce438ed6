/**
 * Instances (table `instances`): one row per stored slice, with its geometry, window, rescale,
 * where its HU copy and its original file are, and its place in its series once ordered.
 * Recording a read slice also makes or updates its study and series rows and its file's row, in
 * one transaction, so a process killed at any moment leaves either all of it or none.
 */
import type { SqlHandle } from './handle.js';
import { nowIso } from './handle.js';
import type { FileOutcome, FileRepository } from './files.js';
import type { SeriesRepository } from './series.js';
import type { StudyRepository } from './studies.js';
import type { NewInstance } from './arrival.js';

export type { NewInstance } from './arrival.js';


export interface InstanceRow {
  id: number;
  sopUid: string;
  seriesUid: string;
  studyUid: string;
  instanceNumber: number | null;
  positionX: number | null;
  positionY: number | null;
  positionZ: number | null;
  /** ImageOrientationPatient as JSON [6], as stored. */
  orientation: string | null;
  sliceIndex: number | null;
  slicePosition: number | null;
  originalRows: number;
  originalColumns: number;
  resampled: boolean;
  /** Why the stored values were not read as the header says; null when they were. */
  huCorrection: string | null;
  windowCenter: number;
  windowWidth: number;
  windowSource: 'tags' | 'default';
  /** Relative to the data folder. */
  huPath: string;
  sourcePath: string;
  fileSha256: string;
  pixelSha256: string;
  receivedAt: string;
}

/** A slice's place in its series: its index (0 = first) and its position along the normal (mm). */
export interface SliceOrder {
  id: number;
  sliceIndex: number;
  slicePosition: number | null;
}

function toInstanceRow(r: Record<string, unknown>): InstanceRow {
  return {
    id: r.id as number,
    sopUid: r.sop_uid as string,
    seriesUid: r.series_uid as string,
    studyUid: r.study_uid as string,
    instanceNumber: (r.instance_number as number | null) ?? null,
    positionX: (r.position_x as number | null) ?? null,
    positionY: (r.position_y as number | null) ?? null,
    positionZ: (r.position_z as number | null) ?? null,
    orientation: (r.orientation as string | null) ?? null,
    sliceIndex: (r.slice_index as number | null) ?? null,
    slicePosition: (r.slice_position as number | null) ?? null,
    originalRows: r.original_rows as number,
    originalColumns: r.original_columns as number,
    resampled: r.resampled === 1,
    huCorrection: (r.hu_correction as string | null) ?? null,
    windowCenter: r.window_center as number,
    windowWidth: r.window_width as number,
    windowSource: r.window_source as 'tags' | 'default',
    huPath: r.hu_path as string,
    sourcePath: r.source_path as string,
    fileSha256: r.file_sha256 as string,
    pixelSha256: r.pixel_sha256 as string,
    receivedAt: r.received_at as string,
  };
}

/** A SeriesInstanceUID seen under two StudyInstanceUIDs: the file is refused, the first kept. */
export class SeriesStudyMismatch extends Error {
  constructor(seriesUid: string, existingStudy: string, newStudy: string) {
    super(`SeriesInstanceUID ${seriesUid} already belongs to study ${existingStudy}, not ${newStudy}`);
  }
}

export class InstanceRepository {
  constructor(
    private readonly db: SqlHandle,
    private readonly tables: { studies: StudyRepository; series: SeriesRepository; files: FileRepository },
  ) {}

  bySop(sopUid: string): InstanceRow | undefined {
    const row = this.db.prepare('SELECT * FROM instances WHERE sop_uid = @sopUid').get({ sopUid }) as Record<string, unknown> | undefined;
    return row ? toInstanceRow(row) : undefined;
  }

  /** A series' slices in their order (arrival order for those not yet ordered). */
  ofSeries(seriesUid: string): InstanceRow[] {
    return (
      this.db.prepare('SELECT * FROM instances WHERE series_uid = @seriesUid ORDER BY slice_index, id').all({ seriesUid }) as Record<
        string,
        unknown
      >[]
    ).map(toInstanceRow);
  }

  /** Where a slice's HU file lives (relative to the data folder). */
  huPath(instanceId: number): string | undefined {
    const row = this.db.prepare('SELECT hu_path FROM instances WHERE id = @instanceId').get({ instanceId }) as { hu_path: string } | undefined;
    return row?.hu_path;
  }

  sopUid(instanceId: number): string | undefined {
    const row = this.db.prepare('SELECT sop_uid FROM instances WHERE id = @instanceId').get({ instanceId }) as { sop_uid: string } | undefined;
    return row?.sop_uid;
  }

  /**
   * Writes slices' places in their series: the interim order of a series still arriving (so a
   * provisional score reads the slices in their place), or the final one when it settles.
   */
  writeOrder(order: readonly SliceOrder[]): void {
    const set = this.db.prepare('UPDATE instances SET slice_index = @sliceIndex, slice_position = @slicePosition WHERE id = @id');
    this.db.transaction(() => {
      for (const o of order) set.run({ sliceIndex: o.sliceIndex, slicePosition: o.slicePosition, id: o.id });
    })();
  }

  /**
   * Records a read slice. The same SOPInstanceUID with the same pixels is stored once
   * ('duplicate'); with different pixels it is a 'conflict', recorded and never overwritten.
   */
  record(i: NewInstance): { outcome: FileOutcome; instanceId: number } {
    const { studies, series, files } = this.tables;
    const at = nowIso();
    const file = { path: i.sourcePath, sha256: i.fileSha256, size: i.size, at };
    return this.db.transaction(() => {
      const existing = this.bySop(i.sopUid);
      if (existing) {
        if (existing.pixelSha256 === i.pixelSha256) {
          files.record({ ...file, outcome: 'duplicate', instanceId: existing.id });
          return { outcome: 'duplicate' as const, instanceId: existing.id };
        }
        files.recordConflict({ sopUid: i.sopUid, path: i.sourcePath, fileSha256: i.fileSha256, pixelSha256: i.pixelSha256, size: i.size }, existing, at);
        return { outcome: 'conflict' as const, instanceId: existing.id };
      }
      studies.recordArrival(i, at);
      const seriesStudy = series.get(i.seriesUid)?.studyUid;
      if (seriesStudy !== undefined && seriesStudy !== i.studyUid) throw new SeriesStudyMismatch(i.seriesUid, seriesStudy, i.studyUid);
      series.recordArrival(i, at);
      const id = this.insert(i, at);
      files.record({ ...file, outcome: 'stored', instanceId: id });
      files.resolveRefusals(i.sourcePath, at);
      return { outcome: 'stored' as const, instanceId: id };
    })();
  }

  /** The instance row (geometry, window, rescale, where its HU and its original are); returns its id. */
  private insert(i: NewInstance, at: string): number {
    const row = this.db
      .prepare(
        `INSERT INTO instances (sop_uid, series_uid, study_uid, instance_number, position_x, position_y, position_z,
           orientation, original_rows, original_columns, resampled, pixel_spacing, window_center, window_width,
           window_source, rescale_slope, rescale_intercept, transfer_syntax, file_sha256, pixel_sha256, hu_path,
           source_path, received_at, hu_correction)
         VALUES (@sopUid, @seriesUid, @studyUid, @instanceNumber, @positionX, @positionY, @positionZ,
           @orientation, @originalRows, @originalColumns, @resampled, @pixelSpacing, @windowCenter, @windowWidth,
           @windowSource, @rescaleSlope, @rescaleIntercept, @transferSyntax, @fileSha256, @pixelSha256, @huPath,
           @sourcePath, @at, @huCorrection)
         RETURNING id`,
      )
      .get({
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
        huCorrection: i.huCorrection ?? null,
      }) as { id: number };
    return row.id;
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM instances').get() as { n: number }).n;
  }

  /** Slices whose stored values were not read as their header says (a sender to tell). */
  huCorrectedCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM instances WHERE hu_correction IS NOT NULL').get() as { n: number }).n;
  }
}
