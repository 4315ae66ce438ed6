/**
 * Lesion maps (table `lesion_maps`) and the volume estimates summed from them (`study_volumes`).
 *
 * A map is kept as the network drew it, one byte per map pixel (probability ×255, channel by row
 * by column, one channel per subtype in label order), deflated: most of a slice is background,
 * so a 5×128×128 map of 80 KB keeps a few KB (a stride-2 network's 5×256×256, 320 KB, likewise;
 * the size is the row's own, never assumed). The viewer overlays it; the triage stage sums it
 * into a volume, which is stored per study beside the study scores and cleared with them.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import type { SqlHandle } from './handle.js';
import { nowIso } from './handle.js';
import { numberList } from './columns.js';
import { jsonListValues } from './dialect.js';
import { countedSeriesJoin } from './read-series.js';
import type { VolumeEstimate } from '../../shared/api.js';

/** One slice's map from one network. */
export interface LesionMap {
  modelId: string;
  channels: number;
  height: number;
  width: number;
  /** channels×height×width bytes: probability ×255. */
  data: Uint8Array;
}

/** A map with what a volume needs from its slice: where it lies and how large its pixels are. */
export interface LesionMapSlice extends LesionMap {
  instanceId: number;
  seriesUid: string;
  slicePosition: number | null;
  /** PixelSpacing of the original slice (row, column spacing in mm), as stored; null when absent. */
  pixelSpacing: [number, number] | null;
  originalRows: number;
  originalColumns: number;
  sliceThickness: number | null;
}

/** Which series count, as for the study scores (PredictionRepository.ofStudy). */
export interface LesionMapFilter {
  withReceiving: boolean;
  includingSeries?: string | undefined;
}

function toLesionMap(r: Record<string, unknown>): LesionMap {
  return {
    modelId: r.model_id as string,
    channels: r.channels as number,
    height: r.height as number,
    width: r.width as number,
    data: new Uint8Array(inflateSync(r.map as Buffer)),
  };
}

function toVolume(r: Record<string, unknown>): VolumeEstimate {
  return {
    modelId: r.model_id as string,
    seriesUid: r.series_uid as string,
    totalMl: r.total_ml as number,
    subtypes: JSON.parse(r.subtypes as string) as Record<string, number>,
    slices: r.slices as number,
    provisional: r.provisional === 1,
    computedAt: r.computed_at as string,
  };
}

export class LesionMapRepository {
  constructor(private readonly db: SqlHandle) {}

  /** Stores one network's maps of some slices; `modelSha256` is the file that drew them. */
  save(
    modelId: string,
    modelSha256: string | null,
    shape: { channels: number; height: number; width: number },
    rows: readonly { instanceId: number; map: Uint8Array }[],
  ): void {
    const size = shape.channels * shape.height * shape.width;
    const stmt = this.db.prepare(
      `INSERT INTO lesion_maps (instance_id, model_id, model_sha256, channels, height, width, map, created_at)
       VALUES (@instanceId, @modelId, @modelSha256, @channels, @height, @width, @map, @at)
       ON CONFLICT (instance_id, model_id) DO UPDATE SET model_sha256 = excluded.model_sha256, channels = excluded.channels,
         height = excluded.height, width = excluded.width, map = excluded.map, created_at = excluded.created_at`,
    );
    const at = nowIso();
    this.db.transaction(() => {
      for (const r of rows) {
        if (r.map.length !== size) throw new Error(`lesion map of instance ${r.instanceId}: ${r.map.length} bytes, expected ${size}`);
        stmt.run({ instanceId: r.instanceId, modelId, modelSha256, ...shape, map: deflateSync(r.map), at });
      }
    })();
  }

  /** A slice's map (the newest when several networks drew one); undefined when none has. */
  ofInstance(instanceId: number): LesionMap | undefined {
    const row = this.db
      .prepare('SELECT * FROM lesion_maps WHERE instance_id = @instanceId ORDER BY created_at DESC, model_id LIMIT 1')
      .get({ instanceId }) as Record<string, unknown> | undefined;
    return row ? toLesionMap(row) : undefined;
  }

  /**
   * One network's maps of a study's read series (settled and scored; `withReceiving`: arriving
   * too; `includingSeries`: that series whatever its state), with each slice's geometry, in series
   * then slice order.
   */
  ofStudy(studyUid: string, modelId: string, filter: LesionMapFilter): LesionMapSlice[] {
    const rows = this.db
      .prepare(
        `SELECT m.*, i.series_uid, i.slice_position, i.pixel_spacing, i.original_rows, i.original_columns, s.slice_thickness
         FROM lesion_maps m JOIN instances i ON i.id = m.instance_id
         ${countedSeriesJoin(filter.withReceiving)}
         WHERE i.study_uid = @studyUid AND m.model_id = @modelId ORDER BY i.series_uid, i.slice_index, i.id`,
      )
      .all({ studyUid, modelId, including: filter.includingSeries ?? null }) as Record<string, unknown>[];
    return rows.map((r) => ({
      ...toLesionMap(r),
      instanceId: r.instance_id as number,
      seriesUid: r.series_uid as string,
      slicePosition: (r.slice_position as number | null) ?? null,
      pixelSpacing: numberList(r.pixel_spacing, 2) as [number, number] | null,
      originalRows: r.original_rows as number,
      originalColumns: r.original_columns as number,
      sliceThickness: (r.slice_thickness as number | null) ?? null,
    }));
  }

  saveVolume(studyUid: string, v: Omit<VolumeEstimate, 'computedAt'>): void {
    this.db
      .prepare(
        `INSERT INTO study_volumes (study_uid, model_id, series_uid, total_ml, subtypes, slices, provisional, computed_at)
         VALUES (@studyUid, @modelId, @seriesUid, @totalMl, @subtypes, @slices, @provisional, @at)
         ON CONFLICT (study_uid, model_id) DO UPDATE SET series_uid = excluded.series_uid, total_ml = excluded.total_ml,
           subtypes = excluded.subtypes, slices = excluded.slices, provisional = excluded.provisional, computed_at = excluded.computed_at`,
      )
      .run({ studyUid, ...v, subtypes: JSON.stringify(v.subtypes), provisional: v.provisional ? 1 : 0, at: nowIso() });
  }

  /** Removes a study's volume estimates (with its scores, before they are written again). */
  clearVolumes(studyUid: string): void {
    this.db.prepare('DELETE FROM study_volumes WHERE study_uid = @studyUid').run({ studyUid });
  }

  /** Each of these studies' total estimate (mL), for the worklist page. */
  totals(studyUids: readonly string[]): Map<string, number> {
    const out = new Map<string, number>();
    if (!studyUids.length) return out;
    const rows = this.db
      .prepare(
        `SELECT study_uid, total_ml FROM study_volumes WHERE study_uid IN ${jsonListValues(this.db, 'uids', 'text')}
         ORDER BY computed_at, model_id`,
      )
      .all({ uids: JSON.stringify(studyUids) }) as { study_uid: string; total_ml: number }[];
    for (const r of rows) out.set(r.study_uid, r.total_ml); // the newest last, so it stays
    return out;
  }

  /** The study's volume estimate (the newest when several networks made one). */
  volumeOf(studyUid: string): VolumeEstimate | null {
    const row = this.db
      .prepare('SELECT * FROM study_volumes WHERE study_uid = @studyUid ORDER BY computed_at DESC, model_id LIMIT 1')
      .get({ studyUid }) as Record<string, unknown> | undefined;
    return row ? toVolume(row) : null;
  }
}
