/**
 * Test data for the screen tests: real DICOM series cloned from a real CT slice (make_series.py,
 * pydicom), and — as test setup only — model outputs written straight into a test database
 * (the inference stage writes these rows in the app; the tests need known scores to rank).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LABELS, probabilitiesToArray, type LabelProbabilities } from '../../src/shared/labels.js';
import type { Db } from '../../src/main/store/index.js';
import { savePredictions, saveStudyScore } from '../../src/main/store/predictions.js';

const here = dirname(fileURLToPath(import.meta.url));
export const CT_SLICE = join(here, '..', '..', '..', 'shared', 'dicom-corpus', 'dicom-parser', 'CT1_UNC.explicit_little_endian.dcm');

export interface FixtureStudy {
  studyUid: string;
  seriesUid: string;
  patientName: string;
  patientId: string;
  accession: string;
  description: string;
  slices: number;
  lesion?: boolean;
  window?: [number, number] | null;
}

export function ctSource(): string {
  for (const p of [process.env.TRIAGE_CT_SLICE, CT_SLICE]) {
    if (p) {
      try {
        readFileSync(p, { flag: 'r' }).subarray(0, 1);
        return p;
      } catch {
        // try the next
      }
    }
  }
  // A fresh clone has no shared corpus: one phantom head-CT slice is the source instead.
  const out = join(mkdtempSync(join(tmpdir(), 'triage-ctsource-')), 'ph');
  const repo = join(here, '..', '..');
  execFileSync(process.env.TRIAGE_PYTHON ?? '/usr/bin/python3', ['-m', 'models.phantom', 'generate', '--studies', '1', '--seed', '5',
    '--slices-min', '4', '--slices-max', '4', '--workers', '1', '--out', out], { cwd: repo, stdio: 'pipe' });
  const folder = join(out, 'study_00000');
  return join(folder, readdirSync(folder).filter((f) => f.endsWith('.dcm')).sort()[2]!);
}

export function makeSeries(out: string, studies: FixtureStudy[]): void {
  mkdirSync(out, { recursive: true });
  execFileSync(process.env.TRIAGE_PYTHON ?? '/usr/bin/python3', [join(here, 'make_series.py')], {
    input: JSON.stringify({ source: ctSource(), out, studies }),
    stdio: ['pipe', 'inherit', 'inherit'],
  });
}

/** A file no DICOM reader accepts: the first 600 bytes of a real slice. */
export function makeTruncated(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const bytes = readFileSync(ctSource());
  writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2))); // a copy stopped half way
}

export function copyInto(src: string, dest: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(src, dest);
}

export function probs(p: Partial<LabelProbabilities>): LabelProbabilities {
  const out = {} as LabelProbabilities;
  for (const l of LABELS) out[l] = p[l] ?? 0.02;
  return out;
}

export function putStudyScore(db: Db, studyUid: string, modelId: string, p: LabelProbabilities, keySlices: number[] = []): void {
  saveStudyScore(db, studyUid, modelId, probabilitiesToArray(p), keySlices);
}

/** Per-slice outputs of one model for every slice of a study; marks its series scored. */
export function putPredictions(
  db: Db,
  studyUid: string,
  modelId: string,
  provider: string,
  perSlice: (sliceIndex: number, n: number) => LabelProbabilities,
): number[] {
  const ids = (db.prepare('SELECT id FROM instances WHERE study_uid = ? ORDER BY slice_index').all(studyUid) as { id: number }[]).map((r) => r.id);
  savePredictions(db, modelId, '1', provider, ids.map((instanceId, i) => ({ instanceId, probabilities: probabilitiesToArray(perSlice(i, ids.length)) })));
  db.prepare("UPDATE series SET state = 'scored', state_reason = NULL WHERE study_uid = ?").run(studyUid);
  return ids;
}

/** A bump peaking at slice `peak`, for per-slice curves. */
export function bump(i: number, peak: number, height: number, spread = 3): number {
  return Math.max(0.01, height * Math.exp(-((i - peak) ** 2) / (2 * spread * spread)));
}

export interface PhantomStudy {
  dir: string;
  studyUid: string;
  slices: number;
  /** SOPInstanceUIDs (RSNA `ID_…`) of slices whose truth label `any` is 1. */
  bleeding: Set<string>;
  /** The first WindowCenter/WindowWidth of its files as "C/W" (brain 40/80 when they carry none). */
  window: string;
}

/**
 * One synthetic head-CT study from the project's phantom generator (models/phantom), or null
 * when the generator is not available here: the screen tests then use cloned corpus slices.
 */
export function phantomStudy(out: string, seed = 7, slices = 16): PhantomStudy | null {
  const repo = join(here, '..', '..');
  if (!existsSync(join(repo, 'models', 'phantom', '__main__.py'))) return null;
  try {
    execFileSync(
      process.env.TRIAGE_PYTHON ?? '/usr/bin/python3',
      ['-m', 'models.phantom', 'generate', '--studies', '1', '--seed', String(seed), '--slices-min', String(slices), '--slices-max', String(slices), '--workers', '1', '--out', out],
      { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 },
    );
    const [, row] = readFileSync(join(out, 'studies.csv'), 'utf8').trim().split('\n');
    const cells = row!.split(',');
    const bleeding = new Set<string>();
    for (const line of readFileSync(join(out, 'stage_2_train.csv'), 'utf8').split('\n')) {
      const m = /^(ID_[0-9a-f]+)_any,1$/.exec(line.trim());
      if (m) bleeding.add(m[1]!);
    }
    const meta = JSON.parse(readFileSync(join(out, 'study_00000', 'phantom.json'), 'utf8')) as { windows: [number, number][] };
    const [c, w] = meta.windows[0] ?? [40, 80];
    return { dir: join(out, 'study_00000'), studyUid: cells[0]!, slices: Number(cells[3]), bleeding, window: `${c}/${w}` };
  } catch {
    return null;
  }
}
