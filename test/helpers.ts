/** Shared test helpers: temp folders, the shared DICOM corpus, and the pydicom fixture maker. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CORPUS = resolve(REPO_ROOT, '..', 'shared', 'dicom-corpus');
export const PYTHON = '/usr/bin/python3';

export function corpus(rel: string): string {
  return join(CORPUS, rel);
}

export function tempDir(prefix = 'triage-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
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
