/**
 * Which series of a study the networks read. A head CT study often holds several series: a
 * localizer, the axial brain series in a soft kernel, the same data in a bone kernel, thin-slice
 * and thick-slice reconstructions. The networks were trained on axial 5 mm soft-kernel slices
 * (RSNA 2019); a bone kernel's noise or a 0.6 mm slice's looks like blood to them, and scoring
 * every series multiplies the work. So each study reads one series — the one a radiologist would
 * read first — and every other series records why it was skipped.
 *
 * Preference, in order: not a localizer; without contrast (the networks were trained on
 * non-contrast CT and read enhancing vessels as blood, so of a study's pre- and post-contrast series
 * the first is read); a soft-tissue kernel (not bone/lung/sharp); slice thickness nearest 3–7 mm;
 * more slices. The input is what the DICOM says (ImageType, ContrastBolusAgent, ConvolutionKernel,
 * SliceThickness, SeriesDescription); nothing is guessed from pixels.
 */

import { contrastInWords } from '../../shared/api.js';
import type { SeriesFacts } from '../store/index.js';

export type { SeriesFacts };

export interface SeriesChoice {
  /** The series the networks read; null only for a study without series. */
  read: string | null;
  /** Every other series, with the reason in words. */
  skipped: Map<string, string>;
}

// Sharp (bone, lung, detail) reconstruction kernels by vendor naming: GE BONE/BONEPLUS/LUNG/EDGE/
// DETAIL/CHST, Siemens H/J/I/B/Q with a number of 60 or more (H70h, Br64, J70h, I70f), Canon FC3x
// and FC8x, Philips Y-C…Y-F and D/E/L.
const SHARP_KERNEL = /BONE|LUNG|EDGE|DETAIL|SHARP|CHST|^[BHIJQ]r?[6-9]\d|^FC[38]\d|^Y-?[C-F]\b|^[DEL]$/i;
const SHARP_DESCRIPTION = /\b(bone|lung|knochen|os)\b/i;

export function isLocalizer(f: SeriesFacts): boolean {
  return /(^|\\)LOCALIZER($|\\)/i.test(f.imageType ?? '') || /\b(scout|topogram|localizer|surview|scanogram)\b/i.test(f.description ?? '');
}

/**
 * Taken with contrast, as the DICOM says: the Contrast/Bolus module is there (its agent may be
 * empty). A series without it may still be enhanced; the pixels are not asked.
 */
export function isContrastEnhanced(f: Pick<SeriesFacts, 'contrastAgent'>): boolean {
  return f.contrastAgent !== null;
}

export function isSharpKernel(f: SeriesFacts): boolean {
  return SHARP_KERNEL.test((f.kernel ?? '').trim()) || SHARP_DESCRIPTION.test(f.description ?? '');
}

/** 0 for 3–7 mm, 1 for 2–3 or 7–10 mm or unknown, 2 beyond. */
function thicknessPenalty(t: number | null): number {
  if (t === null || !Number.isFinite(t) || t <= 0) return 1;
  if (t >= 3 && t <= 7) return 0;
  if (t >= 2 && t <= 10) return 1;
  return 2;
}

function rank(f: SeriesFacts): number[] {
  return [isLocalizer(f) ? 1 : 0, isContrastEnhanced(f) ? 1 : 0, isSharpKernel(f) ? 1 : 0, thicknessPenalty(f.sliceThickness), -f.sliceCount];
}

function compare(a: SeriesFacts, b: SeriesFacts): number {
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
  return a.seriesUid < b.seriesUid ? -1 : a.seriesUid > b.seriesUid ? 1 : 0;
}

function name(f: SeriesFacts): string {
  const mm = f.sliceThickness !== null ? `${f.sliceThickness} mm` : 'thickness not given';
  return `"${f.description ?? f.seriesUid}" (${mm}${f.kernel ? `, kernel ${f.kernel}` : ''})`;
}

function whySkipped(f: SeriesFacts, read: SeriesFacts): string {
  const instead = `the networks read ${name(read)}`;
  if (isLocalizer(f)) return `a localizer, not an axial head series: ${instead}`;
  if (isContrastEnhanced(f) && !isContrastEnhanced(read)) {
    return `${contrastInWords(f.contrastAgent!)}; the networks were trained on non-contrast CT: ${instead}`;
  }
  if (isSharpKernel(f) && !isSharpKernel(read)) return `bone or sharp kernel${f.kernel ? ` (${f.kernel})` : ''}: ${instead}`;
  if (thicknessPenalty(f.sliceThickness) > thicknessPenalty(read.sliceThickness)) {
    return `${f.sliceThickness !== null ? `${f.sliceThickness} mm slices` : 'slice thickness not given'} (the networks were trained on 5 mm): ${instead}`;
  }
  return `another series of this study is read: ${instead}`;
}

export function chooseSeries(series: readonly SeriesFacts[]): SeriesChoice {
  const skipped = new Map<string, string>();
  if (!series.length) return { read: null, skipped };
  const sorted = [...series].sort(compare);
  const read = sorted[0]!;
  for (const f of sorted.slice(1)) skipped.set(f.seriesUid, whySkipped(f, read));
  return { read: read.seriesUid, skipped };
}
