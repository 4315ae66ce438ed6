/**
 * From lesion maps to a bleed-volume estimate (one module owns this rule; the training code's
 * lesion_unet.volume_ml is the same sum, so its measured accuracy applies here).
 *
 * A map pixel counts when its probability reaches the network's threshold; its volume is its area
 * on the slice (the slice's pixel spacing, scaled to the 512×512 copy the network read, times the
 * map's stride squared) times the slice spacing (the median distance between neighbouring slice
 * positions; the slice thickness when positions are missing). The total counts a pixel once even
 * when two subtypes' maps reach the threshold there. A series without pixel spacing, or without
 * positions and thickness, has no volume: a number in mL needs both.
 *
 * A study's estimate is its largest series estimate: two series of one head measure one bleed.
 */
import { SUBTYPES } from '../../shared/labels.js';
import type { VolumeEstimate } from '../../shared/api.js';

/** What the sum needs of each slice's map. */
export interface MapSlice {
  seriesUid: string;
  channels: number;
  height: number;
  width: number;
  data: Uint8Array;
  slicePosition: number | null;
  pixelSpacing: readonly [number, number] | null;
  originalRows: number;
  originalColumns: number;
  sliceThickness: number | null;
}

/** The side of the copy the networks read (model contract). */
const COPY_SIZE = 512;

/** The distance between neighbouring slices (mm): the median gap between positions, else the thickness. */
export function sliceSpacingMm(positions: readonly (number | null)[], thickness: number | null): number | null {
  const known = positions.filter((p): p is number => p !== null && Number.isFinite(p)).sort((a, b) => a - b);
  const gaps = known
    .slice(1)
    .map((p, i) => p - known[i]!)
    .filter((g) => g > 1e-3)
    .sort((a, b) => a - b);
  if (gaps.length) {
    const mid = gaps.length >> 1;
    return gaps.length % 2 ? gaps[mid]! : (gaps[mid - 1]! + gaps[mid]!) / 2;
  }
  return thickness !== null && thickness > 0 ? thickness : null;
}

function usableSpacing(spacing: readonly [number, number] | null): spacing is readonly [number, number] {
  return !!spacing && spacing[0] > 0 && spacing[1] > 0;
}

/** One series' estimate, or null when its geometry cannot give one. */
export function seriesVolume(
  slices: readonly MapSlice[],
  threshold: number,
): Omit<VolumeEstimate, 'modelId' | 'provisional' | 'computedAt'> | null {
  const first = slices[0];
  if (!first || !usableSpacing(first.pixelSpacing)) return null;
  const dz = sliceSpacingMm(
    slices.map((s) => s.slicePosition),
    first.sliceThickness,
  );
  if (dz === null) return null;
  const cutoff = Math.round(threshold * 255);
  const counts = new Array<number>(SUBTYPES.length).fill(0);
  let ml = 0;
  for (const s of slices) {
    if (!usableSpacing(s.pixelSpacing) || s.channels !== SUBTYPES.length) return null;
    const rowMm = ((s.pixelSpacing[0] * s.originalRows) / COPY_SIZE) * (COPY_SIZE / s.height);
    const colMm = ((s.pixelSpacing[1] * s.originalColumns) / COPY_SIZE) * (COPY_SIZE / s.width);
    const voxelMl = (rowMm * colMm * dz) / 1000;
    const plane = s.height * s.width;
    let any = 0;
    for (let p = 0; p < plane; p++) {
      let hit = false;
      for (let c = 0; c < s.channels; c++) {
        if (s.data[c * plane + p]! >= cutoff) {
          counts[c]! += voxelMl;
          hit = true;
        }
      }
      if (hit) any++;
    }
    ml += any * voxelMl;
  }
  return {
    seriesUid: first.seriesUid,
    totalMl: round2(ml),
    subtypes: Object.fromEntries(SUBTYPES.map((l, c) => [l, round2(counts[c]!)])),
    slices: slices.length,
  };
}

/** A study's estimate: the largest of its series' estimates; null when none could be made. */
export function studyVolume(
  slices: readonly MapSlice[],
  threshold: number,
): Omit<VolumeEstimate, 'modelId' | 'provisional' | 'computedAt'> | null {
  const bySeries = new Map<string, MapSlice[]>();
  for (const s of slices) {
    const list = bySeries.get(s.seriesUid) ?? [];
    list.push(s);
    bySeries.set(s.seriesUid, list);
  }
  let best: ReturnType<typeof seriesVolume> = null;
  for (const list of bySeries.values()) {
    const v = seriesVolume(list, threshold);
    if (v && (!best || v.totalMl > best.totalMl)) best = v;
  }
  return best;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
