import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { readSlice, QuarantineError, SLICE_SIZE, type HuSlice } from '../../../src/main/dicom/index.js';
import { corpus, CT1_UNC, CT_IMAGE, fixture, HAVE_CORPUS, pydicomHu, tempDir } from '../../helpers.js';

const scratch = tempDir();
afterAll(() => scratch.cleanup());

async function read(path: string): Promise<HuSlice> {
  return readSlice(new Uint8Array(readFileSync(path)));
}

async function refusal(path: string): Promise<string> {
  try {
    await read(path);
  } catch (err) {
    expect(err).toBeInstanceOf(QuarantineError);
    return (err as QuarantineError).reason;
  }
  throw new Error(`${path} was read, expected a refusal`);
}

function variant(name: string, base: string, ...args: string[]): string {
  const out = join(scratch.path, name);
  fixture('variant', '--base', corpus(base), '--out', out, ...args);
  return out;
}

const min = (a: Float32Array) => a.reduce((m, v) => (v < m ? v : m), Infinity);
const max = (a: Float32Array) => a.reduce((m, v) => (v > m ? v : m), -Infinity);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe.skipIf(!HAVE_CORPUS)('reading real CT files', () => {
  it('gives the same HU as pydicom for several real files', async () => {
    for (const rel of [
      CT_IMAGE,
      CT1_UNC,
      'dicom-parser/CT1_UNC.explicit_big_endian.dcm',
      'cornerstone-wado-image-loader/CTImage.dcm_DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99.dcm',
    ]) {
      const slice = await read(corpus(rel));
      expect(slice.hu.length, rel).toBe(SLICE_SIZE * SLICE_SIZE);
      expect(slice.resampled, rel).toBe(false);
      expect(maxAbsDiff(slice.hu, pydicomHu(corpus(rel), scratch.path)), rel).toBe(0);
    }
  });

  it('reads one image identically in every native transfer syntax', async () => {
    const families = [
      [
        CT_IMAGE,
        'cornerstone-wado-image-loader/CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm',
        'cornerstone-wado-image-loader/CTImage.dcm_BigEndianExplicitTransferSyntax_1.2.840.10008.1.2.2.dcm',
        'cornerstone-wado-image-loader/CTImage.dcm_DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99.dcm',
      ],
      [CT1_UNC, 'dicom-parser/CT1_UNC.implicit_little_endian.dcm', 'dicom-parser/CT1_UNC.explicit_big_endian.dcm'],
    ];
    for (const family of families) {
      const reference = await read(corpus(family[0]!));
      for (const rel of family.slice(1)) {
        expect(maxAbsDiff((await read(corpus(rel))).hu, reference.hu), rel).toBe(0);
      }
    }
  });

  it('takes the window from the tags, the first of several values, or the brain window when absent', async () => {
    expect((await read(corpus(CT_IMAGE))).window).toEqual({ center: 40, width: 400, source: 'tags' });
    expect((await read(corpus(CT1_UNC))).window).toEqual({ center: 40, width: 80, source: 'default' });
    const multi = variant('multi-window.dcm', CT1_UNC, '--window', '35\\700:80\\3000');
    expect((await read(multi)).window).toEqual({ center: 35, width: 80, source: 'tags' });
  });

  it('defaults RescaleSlope/Intercept to 1 and 0 when absent', async () => {
    const noRescale = variant('no-rescale.dcm', CT1_UNC, '--delete', 'RescaleSlope', '--delete', 'RescaleIntercept');
    const withRescale = await read(corpus(CT1_UNC));
    const without = await read(noRescale);
    // CT1_UNC's intercept is −1024: without the tags every HU is 1024 higher.
    expect(without.hu[1000]! - withRescale.hu[1000]!).toBe(1024);
  });

  it('masks BitsStored at HighBit and ignores junk in the unused high bits', async () => {
    const junk = variant('junk-bits.dcm', CT1_UNC, '--twelve-bit', 'junk');
    const clean = variant('clean-bits.dcm', CT1_UNC, '--twelve-bit', 'clean');
    const slice = await read(junk);
    // pydicom does not mask, so it is the reference only for the file without junk.
    expect(maxAbsDiff(slice.hu, pydicomHu(clean, scratch.path))).toBe(0);
    expect(maxAbsDiff(pydicomHu(junk, scratch.path), pydicomHu(clean, scratch.path))).toBeGreaterThan(4000);
  });

  it('resamples a slice that is not 512×512 and says so', async () => {
    const small = variant('small.dcm', CT1_UNC, '--downsample', '2');
    const slice = await read(small);
    expect(slice.resampled).toBe(true);
    expect(slice.originalRows).toBe(256);
    expect(slice.hu.length).toBe(512 * 512);
    // Bilinear: the resampled image stays within the original's range.
    const original = pydicomHu(small, scratch.path);
    expect(min(slice.hu)).toBeGreaterThanOrEqual(min(original));
    expect(max(slice.hu)).toBeLessThanOrEqual(max(original));
  });

  it('accepts a gantry tilt of 25° as axial', async () => {
    const tilted = variant('tilt.dcm', CT1_UNC, '--orientation', 'tilt:25');
    expect((await read(tilted)).hu.length).toBe(512 * 512);
  });

  it('accepts an RSNA-style SOPInstanceUID that is not a valid UID', async () => {
    const rsna = variant('rsna-id.dcm', CT1_UNC, '--set', 'SOPInstanceUID=ID_0fe31b044');
    expect((await read(rsna)).header.sopInstanceUid).toBe('ID_0fe31b044');
  });
});

describe.skipIf(!HAVE_CORPUS)('refusing bad files with a one-line reason', () => {
  it('not DICOM', async () => {
    const path = join(scratch.path, 'notes.txt');
    writeFileSync(path, 'this is a text file, not an image\n'.repeat(20));
    expect(await refusal(path)).toMatch(/not a DICOM Part 10 file/);
  });

  it('truncated', async () => {
    const bytes = readFileSync(corpus(CT1_UNC));
    const path = join(scratch.path, 'truncated.dcm');
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(await refusal(path)).toMatch(/truncated/);
    const headerOnly = join(scratch.path, 'header-cut.dcm');
    writeFileSync(headerOnly, bytes.subarray(0, 300));
    expect(await refusal(headerOnly)).toMatch(/truncated|damaged|unreadable|missing/);
  });

  it('cut inside any element, in explicit or implicit VR: says truncated, never only "missing"', async () => {
    for (const path of [corpus(CT1_UNC), variant('implicit.dcm', CT1_UNC, '--implicit')]) {
      const bytes = new Uint8Array(readFileSync(path));
      // Every element's value span in the whole file (the file meta group and the dataset).
      const whole = dicomParser.parseDicom(bytes);
      const spans = Object.values(whole.elements)
        .filter((el) => el.length > 0 && !el.hadUndefinedLength)
        .map((el) => [el.dataOffset, el.dataOffset + el.length] as const);
      const cuts = spans.flatMap(([from, to]) => [from + 1, Math.floor((from + to) / 2), to - 1]).filter((c, i, all) => c > 132 && all.indexOf(c) === i);
      expect(cuts.length).toBeGreaterThan(40);
      for (const cut of cuts) {
        const at = join(scratch.path, `cut-${cut}.dcm`);
        writeFileSync(at, bytes.subarray(0, cut));
        expect(await refusal(at), `${path} cut at byte ${cut}`).toMatch(/truncated or damaged/);
      }
    }
  });

  it('pixel data longer than the header says', async () => {
    expect(await refusal(variant('double-pixels.dcm', CT1_UNC, '--repeat-pixel-data', '2'))).toMatch(
      /pixel data is 1048576 bytes but Rows × Columns × BitsAllocated\/8 is 524288/,
    );
  });

  it('no pixel data', async () => {
    expect(await refusal(variant('no-pixels.dcm', CT1_UNC, '--delete', 'PixelData'))).toMatch(/no pixel data/);
  });

  it('Modality not CT', async () => {
    expect(await refusal(corpus('pydicom-data/MR2_UNCR.dcm'))).toBe('Modality is MR, not CT');
    expect(await refusal(variant('mr.dcm', CT1_UNC, '--set', 'Modality=MR'))).toBe('Modality is MR, not CT');
  });

  it('multi-frame', async () => {
    expect(await refusal(corpus('dicom-parser/encapsulated/multi-frame/CT0012.explicit_little_endian.dcm'))).toMatch(
      /multi-frame image \(2 frames\)/,
    );
  });

  it('colour', async () => {
    expect(await refusal(variant('rgb.dcm', 'pydicom-data/SC_rgb.dcm', '--set', 'Modality=CT', '--set', 'StudyInstanceUID=1.2.3', '--set', 'SeriesInstanceUID=1.2.3.4', '--set', 'SOPInstanceUID=1.2.3.4.5'))).toMatch(/colour image/);
  });

  it('an orientation that is not axial', async () => {
    expect(await refusal(variant('sag.dcm', CT1_UNC, '--orientation', 'sagittal'))).toMatch(/not axial.*90°/);
    expect(await refusal(variant('cor.dcm', CT1_UNC, '--orientation', 'coronal'))).toMatch(/not axial/);
  });

  it('missing UIDs', async () => {
    expect(await refusal(variant('no-study.dcm', CT1_UNC, '--delete', 'StudyInstanceUID'))).toMatch(/missing StudyInstanceUID/);
    expect(await refusal(variant('no-series.dcm', CT1_UNC, '--delete', 'SeriesInstanceUID'))).toMatch(/missing SeriesInstanceUID/);
    expect(await refusal(variant('no-sop.dcm', CT1_UNC, '--delete', 'SOPInstanceUID'))).toMatch(/missing SOPInstanceUID/);
  });

  it('every file in the shared corpus is read or refused, never an unexpected error', async () => {
    const manifest = readFileSync(corpus('MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1);
    let read = 0;
    for (const line of manifest) {
      const rel = line.split('\t')[0]!;
      try {
        await readSlice(new Uint8Array(readFileSync(corpus(rel))));
        read++;
      } catch (err) {
        expect(err, rel).toBeInstanceOf(QuarantineError);
        expect((err as QuarantineError).reason, rel).not.toMatch(/\n/);
      }
    }
    expect(read).toBeGreaterThanOrEqual(7);
  });
});
