/**
 * 12-bit two's complement values under a header that says unsigned with intercept 0 (a share of the
 * RSNA 2019 head-CT files, among others): read as the header says, air becomes +3096 HU. The reader
 * reads them as what they are and says so; the store keeps the sentence with the slice, the viewer's
 * series detail carries it, and an import reports it. Files are real phantom DICOM rewritten by
 * pydicom (test/fixtures/dicom_fixtures.py), so the test runs without the shared corpus.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose } from '../../../src/main/core.js';
import { readSlice } from '../../../src/main/dicom/index.js';
import { WRAPPED_SHARE_MIN, wrappedTwelveBitShare } from '../../../src/main/dicom/read.js';
import type { DicomHeader } from '../../../src/main/dicom/tags.js';
import { fixture, phantomSlices, pydicomHu, PYTHON, REPO_ROOT, tempDir, withDatabase } from '../../helpers.js';

const dir = tempDir('triage-wrapped-');
afterAll(() => dir.cleanup());
let original: string;

function variant(name: string, ...args: string[]): string {
  const out = join(dir.path, name);
  fixture('variant', '--base', original, '--out', out, ...args);
  return out;
}

/** HU as pydicom reads the original, rounded and clipped to what 12 bits can hold. */
function expected(lo: number, hi: number): number[] {
  return Array.from(pydicomHu(original, dir.path), (v) => Math.min(hi, Math.max(lo, Math.round(v))));
}

const read = async (path: string) => readSlice(new Uint8Array(readFileSync(path)));

/** Pixels that differ (a count, so a failure does not print two 262,144-pixel arrays). */
function differing(a: Float32Array, b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return b.filter((v, i) => a[i] !== v).length;
}

describe("12-bit two's complement labelled unsigned", () => {
  beforeAll(() => {
    original = phantomSlices(join(dir.path, 'ph'), 43, 4)[1]!;
  });

  it('is read as two\'s complement, every pixel as the original, and the slice says why', async () => {
    const wrapped = variant('wrapped.dcm', '--twelve-bit', 'wrapped');
    // As the header says it, a third or more of the slice would be bone: what the defect looks like.
    const naive = pydicomHu(wrapped, dir.path);
    expect(naive.filter((v) => v >= 2048).length / naive.length).toBeGreaterThan(0.3);
    const slice = await read(wrapped);
    expect(differing(slice.hu, expected(-2048, 2047))).toBe(0);
    expect(slice.huCorrection).toMatch(
      /^stored values read as 12-bit two's complement: the header says unsigned \(PixelRepresentation 0\) with RescaleIntercept 0, which cannot hold air and would put \d+ % of the pixels at \+2048 HU or more \(air read as bone\)$/,
    );
    // The training and evaluation reader (models/training/data.py) reads the file alike, pixel for pixel.
    const raw = join(dir.path, 'raw');
    execFileSync(PYTHON, ['-m', 'models.training.dicom_to_raw', '--out', raw, wrapped], { cwd: REPO_ROOT, stdio: 'pipe' });
    const buf = readFileSync(join(raw, 'hu.f32'));
    expect(differing(slice.hu, Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4)))).toBe(0);
    // and says why in the same words
    expect((JSON.parse(readFileSync(join(raw, 'meta.json'), 'utf8')) as { huCorrections: string[] }).huCorrections).toEqual([slice.huCorrection]);
  });

  it('leaves unsigned 12-bit values under an intercept that holds air as the header says', async () => {
    const offset = await read(variant('offset.dcm', '--twelve-bit', 'offset'));
    expect(offset.huCorrection).toBeNull();
    expect(differing(offset.hu, expected(-1024, 2047))).toBe(0);
    const phantom = await read(original);
    expect(phantom.huCorrection).toBeNull();
  });

  it('asks the header first, then the share of sign-bit values', () => {
    const header = { rows: 2, columns: 10, bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 0,
      samplesPerPixel: 1, rescaleSlope: 1, rescaleIntercept: 0 } as DicomHeader;
    // 3 of 20 values with bit 11 set (air at 3096, padding at 2048), 17 of brain and bone
    const values = Uint16Array.from([3096, 2048, 4095, ...Array.from({ length: 17 }, (_, i) => 20 + i * 100)]);
    expect(wrappedTwelveBitShare(values, header)).toBeCloseTo(3 / 20);
    // junk above the high bit does not count (the reader masks it off)
    expect(wrappedTwelveBitShare(values.map((v) => v | 0xf000), header)).toBeCloseTo(3 / 20);
    // the header can hold air, or the values are signed or not 12-bit: read as it says
    expect(wrappedTwelveBitShare(values, { ...header, rescaleIntercept: -1024 })).toBeNull();
    expect(wrappedTwelveBitShare(values, { ...header, pixelRepresentation: 1 })).toBeNull();
    expect(wrappedTwelveBitShare(values, { ...header, bitsStored: 16, highBit: 15 })).toBeNull();
    // one dense-bone pixel in forty is under the share that tells a wrapped slice
    const bone = Uint16Array.from({ length: 40 }, (_, i) => (i === 0 ? 2100 : 40));
    expect(wrappedTwelveBitShare(bone, header)).toBeLessThan(WRAPPED_SHARE_MIN);
  });

  it('is stored with its correction, shown with the slice, and reported by the import', async () => {
    const inbox = join(dir.path, 'inbox');
    mkdirSync(inbox);
    copyFileSync(variant('in-wrapped.dcm', '--twelve-bit', 'wrapped'), join(inbox, 'wrapped.dcm'));
    const core = compose({ dataDir: join(dir.path, 'data'), settleMs: 300, stableMs: 300 });
    let correction: string | undefined;
    try {
      const [outcome] = await core.importFolder(inbox);
      correction = outcome!.huCorrection;
      expect(outcome!.outcome).toBe('stored');
      expect(outcome!.huCorrection).toMatch(/^stored values read as 12-bit two's complement/);
      const row = withDatabase(core.dataDir, (db) => db.prepare('SELECT hu_correction FROM instances').get() as { hu_correction: string });
      expect(row.hu_correction).toBe(outcome!.huCorrection);
      const [series] = core.store.series.ofStudy(outcome!.studyUid!);
      expect(series!.slices[0]!.huCorrection).toBe(outcome!.huCorrection);
      // `triage status` counts them, for whoever looks after the site's senders.
      expect(core.status().counts).toMatchObject({ instances: 1, instancesHuCorrected: 1 });
    } finally {
      await core.stop();
    }
    // `triage import` says it in its summary, and lists the files with --json.
    const cli = (data: string, ...args: string[]) =>
      spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'triage.mjs'), '--data-dir', join(dir.path, data), '--init', 'import', '--no-models', ...args, inbox], {
        encoding: 'utf8',
      });
    const text = cli('cli-text');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/\n {2}HU corrected in 1 stored file\(s\) \(first: .*wrapped\.dcm\): stored values read as 12-bit two's complement/);
    const json = JSON.parse(cli('cli-json', '--json').stdout) as { huCorrectedFiles: { path: string; huCorrection: string }[] };
    expect(json.huCorrectedFiles).toEqual([expect.objectContaining({ path: join(inbox, 'wrapped.dcm'), huCorrection: correction })]);
  });
});
