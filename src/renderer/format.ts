/** Display helpers: label abbreviations radiologists use, percentages, times. */
import { LABELS, SUBTYPES, type Label } from '../shared/labels.js';
import type { LabelProbabilities } from '../shared/labels.js';
import { contrastInWords, type SeriesDetail, type SliceInfo } from '../shared/api.js';

export const LABEL_SHORT: Record<Label, string> = {
  any: 'ICH',
  epidural: 'EDH',
  intraparenchymal: 'IPH',
  intraventricular: 'IVH',
  subarachnoid: 'SAH',
  subdural: 'SDH',
};

/** One colour per label, the same in badges, the strip and the model table. */
export const LABEL_COLOUR: Record<Label, string> = {
  any: '#f2f2f2',
  epidural: '#ff6b6b',
  intraparenchymal: '#ffa94d',
  intraventricular: '#ffd43b',
  subarachnoid: '#69db7c',
  subdural: '#4dabf7',
};

/**
 * What the viewer says of a series the networks read although it was taken with contrast (no
 * series of the study without it arrived); null when it was not, or when the networks skip it.
 */
export function contrastCaution(series: Pick<SeriesDetail, 'contrastAgent' | 'skippedReason'>): string | null {
  if (series.contrastAgent === null || series.skippedReason) return null;
  return (
    `This series is ${contrastInWords(series.contrastAgent)}, and no series of the study without contrast was received. ` +
    'The networks were trained on non-contrast head CT: enhancing vessels, sinuses and choroid plexus can score as blood.'
  );
}

/**
 * What the viewer says under a slice whose stored values were not read as its header says (the
 * DICOM reader's one correction); null for a slice read as its header says.
 */
export function huCorrectionNote(slice: Pick<SliceInfo, 'huCorrection'>): string | null {
  if (!slice.huCorrection) return null;
  return `HU of this slice corrected on reading: ${slice.huCorrection}. Its header is wrong; the scanner or PACS that sent it should be told.`;
}

export function pct(p: number): string {
  return `${Math.round(p * 100)}%`;
}

/** Subtypes by descending probability, at most `n`, above `floor`. */
export function topSubtypes(score: LabelProbabilities, n = 3, floor = 0.1): { label: Label; p: number }[] {
  return SUBTYPES.map((label) => ({ label: label as Label, p: score[label] }))
    .filter((x) => x.p >= floor)
    .sort((a, b) => b.p - a.p)
    .slice(0, n);
}

/**
 * Why a subtype may read higher than ICH ("any"): each label is its own output of the networks,
 * calibrated on its own, not a share of "any". Shown wherever a subtype exceeds it.
 */
export const SUBTYPE_ABOVE_ANY =
  'above ICH: each label is a separate, separately calibrated output of the networks (not a share of ICH); the study is flagged when any label reaches its own threshold';

export function subtypeTitle(label: Label, p: number, any: number): string {
  return `${label} ${pct(p)}` + (p > any ? ` — ${SUBTYPE_ABOVE_ANY}` : '');
}

/** DICOM age string ('067Y', '018M', '003W', '005D') in words a reader scans: '67 y', '18 mo'. */
export function ageText(age: string | null): string | null {
  const m = age ? /^(\d{1,3})([DWMY])$/.exec(age.trim().toUpperCase()) : null;
  if (!m) return age?.trim() || null;
  return `${Number(m[1])} ${{ D: 'd', W: 'wk', M: 'mo', Y: 'y' }[m[2] as 'D' | 'W' | 'M' | 'Y']}`;
}

/** StudyDate (YYYYMMDD) and StudyTime (HHMM…) as 'YYYY-MM-DD HH:MM'; what is missing is left out. */
export function studyWhen(date: string | null, time: string | null): string | null {
  const d = date && /^\d{8}$/.test(date.trim()) ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}` : null;
  const t = time && /^\d{4}/.test(time.trim()) ? `${time.slice(0, 2)}:${time.slice(2, 4)}` : null;
  return d ? (t ? `${d} ${t}` : d) : null;
}

export function waiting(sinceIso: string, now: number): string {
  const mins = Math.max(0, Math.floor((now - Date.parse(sinceIso)) / 60_000));
  if (mins < 60) return `${mins} min`;
  const h = Math.floor(mins / 60);
  if (h < 48) return `${h} h ${mins % 60} min`;
  return `${Math.floor(h / 24)} d`;
}

export function localTime(iso: string): string {
  const d = new Date(iso);
  const today = new Date();
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  return d.toDateString() === today.toDateString() ? hm : `${d.toLocaleDateString()} ${hm}`;
}

/** A time of day to the second ('14:03:27'), where which minute is not enough: what a screen is as of, who decided first. */
export function clockTime(at: string | number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

const MODEL_SHORT: Record<string, string> = {
  convlstm: 'Conv-LSTM',
  ensemble: 'Ensemble',
  efficientnet_b3: 'EffNet-B3',
  inception_resnet_v2: 'IncRes-v2',
  lesion_unet: 'Lesion maps',
  ranking: 'Ranking',
};

/**
 * A bleed-volume estimate as the screen writes it: "≈ 12 mL" (one decimal below 10 mL). It is a
 * network's estimate, so it always carries "≈" and the caller's title says where it comes from.
 */
export function volumeText(ml: number): string {
  return `≈ ${mlText(ml)}`;
}

/** Millilitres to one decimal below 10 mL (a part of an estimate already marked "≈"). */
export function mlText(ml: number): string {
  return `${ml < 10 ? ml.toFixed(1) : Math.round(ml)} mL`;
}

/** What every volume's tooltip says: what the number is and is not. */
export const VOLUME_TITLE =
  'Bleed volume estimate: lesion-map pixels above the threshold × pixel spacing × slice spacing, by a network trained on synthetic data only. Not a measurement; not clinically validated.';

/** A short column title for a model id (the full id stays in the tooltip). */
export function modelShort(id: string): string {
  return MODEL_SHORT[id] ?? id;
}

export const STATUS_TEXT = { new: 'new', in_review: 'in review', confirmed: 'confirmed', dismissed: 'dismissed' } as const;

export function providerShort(p: string): string {
  const short = p.replace(/ExecutionProvider$/i, '');
  return /^(cpu|cuda|dml|coreml)$/i.test(short) ? short.toUpperCase() : short;
}

export { LABELS, SUBTYPES };
