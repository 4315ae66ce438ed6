/** Shared test helpers: temp folders, the shared DICOM corpus, and the pydicom fixture maker. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Db } from '../src/main/store/index.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CORPUS = resolve(REPO_ROOT, '..', 'shared', 'dicom-corpus');
/**
 * The shared corpus of real public DICOM files sits beside a developer's checkout, not in a fresh
 * clone: tests that need it run only when it is there (the rest use phantom files made at test time).
 */
export const HAVE_CORPUS = existsSync(CORPUS);
export const PYTHON = '/usr/bin/python3';

export function corpus(rel: string): string {
  return join(CORPUS, rel);
}

export function tempDir(prefix = 'triage-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A connection of the test's own to a data folder's database, beside the app's, for looking at
 * rows the app has no query for or breaking them on purpose; closed when `use` returns.
 */
export function withDatabase<T>(dataDir: string, use: (db: Db) => T): T {
  const db = openDatabase(dataDir);
  try {
    return use(db);
  } finally {
    db.close();
  }
}

/** Runs test/fixtures/dicom_fixtures.py with the given arguments. */
export function fixture(...args: string[]): void {
  execFileSync(PYTHON, [join(REPO_ROOT, 'test', 'fixtures', 'dicom_fixtures.py'), ...args], { stdio: 'pipe' });
}

/** HU of a file as pydicom reads it (the independent reader). */
export function pydicomHu(file: string, scratchDir: string): Float32Array {
  const out = join(scratchDir, `hu-${Math.random().toString(36).slice(2)}.f32`);
  fixture('hu', '--file', file, '--out', out);
  const buf = readFileSync(out);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

export const CT_IMAGE = 'cornerstone-wado-image-loader/CTImage.dcm';
export const CT1_UNC = 'dicom-parser/CT1_UNC.explicit_little_endian.dcm';

/**
 * A short-length element (group, element) of a little-endian data set, explicit or implicit VR:
 * where its tag starts, where its value starts, and the value's length. For tests that rewrite
 * one element's bytes as a broken writer would (no DICOM library would write them).
 */
export function findElement(buf: Uint8Array, group: number, element: number): { tagAt: number; explicit: boolean; valueAt: number; length: number } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 132; i + 8 < buf.length; i++) {
    if (view.getUint16(i, true) !== group || view.getUint16(i + 2, true) !== element) continue;
    const explicit = /^[A-Z]{2}$/.test(String.fromCharCode(buf[i + 4]!, buf[i + 5]!));
    return explicit
      ? { tagAt: i, explicit, valueAt: i + 8, length: view.getUint16(i + 6, true) }
      : { tagAt: i, explicit, valueAt: i + 8, length: view.getUint32(i + 4, true) };
  }
  throw new Error(`(${group.toString(16)},${element.toString(16)}) not found`);
}

/** A copy of `buf` with a text element's value replaced by `text` (null: the element removed). */
export function withElementText(buf: Uint8Array, group: number, element: number, text: string | null): Uint8Array {
  const el = findElement(buf, group, element);
  const end = el.valueAt + el.length;
  if (text === null) return Buffer.concat([buf.subarray(0, el.tagAt), buf.subarray(end)]);
  const value = Buffer.from(text.length % 2 ? `${text} ` : text, 'latin1');
  const head = Buffer.from(buf.subarray(el.tagAt, el.valueAt));
  if (el.explicit) head.writeUInt16LE(value.length, 6);
  else head.writeUInt32LE(value.length, 4);
  return Buffer.concat([buf.subarray(0, el.tagAt), head, value, buf.subarray(end)]);
}

/** Writes `count` phantom head-CT slices (one study) under `out`/study_00000 and returns their paths. */
export function phantomSlices(out: string, seed: number, count = 4): string[] {
  execFileSync(PYTHON, ['-m', 'models.phantom', 'generate', '--studies', '1', '--seed', String(seed), '--slices-min', String(count),
    '--slices-max', String(count), '--out', out], { cwd: REPO_ROOT, stdio: 'pipe' });
  const folder = join(out, 'study_00000');
  return readdirSync(folder).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(folder, f));
}

/**
 * Runs a Python snippet from the repository root (so `models.…` imports) with `input` as JSON on
 * its standard input, and returns what it prints as JSON: the agreement tests ask the training
 * code for its answer on the data the TypeScript side uses.
 */
export function pythonJson<T>(code: string, input: unknown): T {
  return JSON.parse(
    execFileSync(PYTHON, ['-c', code], { cwd: REPO_ROOT, input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 << 20 }),
  ) as T;
}

/**
 * A models folder under `out` whose manifest lists only the shipped model `id`, its files linked,
 * not copied: for tests of a whole workstation that need a real network but not all of them.
 */
export function modelsFolderWith(out: string, id: string): string {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'manifest.json'), 'utf8')) as { models: { id: string; files: { path: string }[] }[] };
  const model = manifest.models.find((m) => m.id === id);
  if (!model) throw new Error(`no model ${id} in models/manifest.json`);
  for (const f of model.files) {
    mkdirSync(join(out, f.path, '..'), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'models', f.path), join(out, f.path));
  }
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ models: [model], ensembles: [] }));
  return out;
}
