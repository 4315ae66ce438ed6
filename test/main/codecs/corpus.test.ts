/**
 * Real files from public DICOM libraries (shared corpus): the CTImage.dcm, CT1_UNC and CT0012
 * families are one image each in many transfer syntaxes, so decoded stored values must equal the
 * uncompressed file's exactly for every lossless syntax, and stay within a stated bound for lossy.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  DecodeError,
  DecoderPool,
  encapsulatedFrameBytes,
  isCompressedTransferSyntax,
  supportedCompressedTransferSyntaxes,
  transferSyntaxName,
} from '../../../src/main/dicom/codecs/index.js';
import { corpusPath, HAVE_CORPUS, decodeFrame, jpegLsNear, maxAbsDiff, mismatches, nativeFrame, parse, rmse } from './support.js';

const pool = new DecoderPool({ size: 2 });
afterAll(() => pool.close());

const CS = 'cornerstone-wado-image-loader/CTImage.dcm_';
const CT_IMAGE_REF = `${CS}LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm`;

describe.skipIf(!HAVE_CORPUS)('transfer syntax table', () => {
  it('names native and compressed syntaxes and lists the supported ones', () => {
    expect(transferSyntaxName('1.2.840.10008.1.2')).toBe('Implicit VR Little Endian');
    expect(transferSyntaxName('1.2.840.10008.1.2.4.80\0')).toBe('JPEG-LS Lossless Image Compression');
    expect(transferSyntaxName('1.2.3.4')).toMatch(/unknown transfer syntax 1\.2\.3\.4/);
    expect(isCompressedTransferSyntax('1.2.840.10008.1.2.5')).toBe(true);
    expect(isCompressedTransferSyntax('1.2.840.10008.1.2.4.51')).toBe(true);
    expect(isCompressedTransferSyntax('1.2.840.10008.1.2.1')).toBe(false);
    expect(isCompressedTransferSyntax('1.2.840.10008.1.2.1.99')).toBe(false);
    const uids = supportedCompressedTransferSyntaxes().map((s) => s.uid);
    for (const uid of ['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.80',
      '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.5']) {
      expect(uids).toContain(uid);
    }
    expect(uids).not.toContain('1.2.840.10008.1.2.4.51');
    expect(uids).not.toContain('1.2.840.10008.1.2.4.201');
  });
});

describe.skipIf(!HAVE_CORPUS)('CTImage.dcm family (cornerstone)', () => {
  const ref = HAVE_CORPUS ? nativeFrame(parse(corpusPath(CT_IMAGE_REF))) : (undefined as never); // read only where the corpus is

  it.each([
    ['JPEG lossless process 14', 'JPEGProcess14TransferSyntax_1.2.840.10008.1.2.4.57.dcm'],
    ['JPEG lossless SV1', 'JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70.dcm'],
    ['JPEG-LS lossless', 'JPEGLSLosslessTransferSyntax_1.2.840.10008.1.2.4.80.dcm'],
    ['JPEG 2000 lossless', 'JPEG2000LosslessOnlyTransferSyntax_1.2.840.10008.1.2.4.90.dcm'],
    ['RLE lossless', 'RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm'],
  ])('%s equals the uncompressed stored values exactly', async (_name, file) => {
    const p = parse(corpusPath(CS + file));
    const got = await decodeFrame(pool, p);
    expect(mismatches(got, ref)).toBe(0);
  });

  it('JPEG-LS near-lossless stays within NEAR of the original', async () => {
    const p = parse(corpusPath(`${CS}JPEGLSLossyTransferSyntax_1.2.840.10008.1.2.4.81.dcm`));
    const near = jpegLsNear(encapsulatedFrameBytes(p.bytes, p.dataSet, 0));
    const got = await decodeFrame(pool, p);
    expect(near).toBeGreaterThan(0);
    expect(maxAbsDiff(got, ref)).toBeLessThanOrEqual(near);
  });

  it('JPEG 2000 lossy: RMSE under 2 stored units (= HU at slope 1), max error at most 10', async () => {
    const p = parse(corpusPath(`${CS}JPEG2000TransferSyntax_1.2.840.10008.1.2.4.91.dcm`));
    const got = await decodeFrame(pool, p);
    // Measured with OpenJPEG (codec-openjpeg 1.3.6): RMSE 0.89, max 5. The bound leaves headroom
    // for rounding changes in a codec update, and is far below anything a reader would see.
    expect(rmse(got, ref)).toBeLessThan(2);
    expect(maxAbsDiff(got, ref)).toBeLessThanOrEqual(10);
  });

  it('JPEG baseline (8-bit, rescaled): decodes, and its HU have PSNR ≥ 40 dB over a 4096 HU range', async () => {
    // Measured: HU RMSE 22.7, PSNR 45.1 dB (8 bits at slope 32.1 cannot do better than ~9 HU).
    const p = parse(corpusPath(`${CS}JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm`));
    expect(p.desc.bitsAllocated).toBe(8);
    const got = await decodeFrame(pool, p);
    const refHu = Array.from(ref, (v) => v * 1 - 1024);
    const hu = Array.from(got, (v) => v * p.slope + p.intercept);
    const e = rmse(hu, refHu);
    const psnr = 20 * Math.log10(4096 / e);
    expect(psnr).toBeGreaterThanOrEqual(40);
  });

  it.each([
    ['1.2.840.10008.1.2.4.51', 'JPEGProcess2_4TransferSyntax_1.2.840.10008.1.2.4.51.dcm', 'JPEG Extended (Process 2 and 4)'],
    ['1.2.840.10008.1.2.4.53', 'JPEGProcess6_8TransferSyntax_1.2.840.10008.1.2.4.53.dcm', 'JPEG Spectral Selection'],
    ['1.2.840.10008.1.2.4.55', 'JPEGProcess10_12TransferSyntax_1.2.840.10008.1.2.4.55.dcm', 'JPEG Full Progression'],
  ])('%s is refused with "not supported yet"', async (uid, file, name) => {
    const p = parse(corpusPath(CS + file));
    expect(p.transferSyntax).toBe(uid);
    const frame = encapsulatedFrameBytes(p.bytes, p.dataSet, 0);
    const err = await pool.decode(p.transferSyntax, frame, p.desc).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).reason).toMatch(/^transfer syntax .* not supported yet$/);
    expect((err as DecodeError).reason).toContain(name);
  });

  it('the Toshiba/other JPEG 2000 CT files decode to plausible CT values', async () => {
    for (const file of ['cornerstone-wado-image-loader/CT1_J2KR', 'cornerstone-wado-image-loader/CT2_J2KR']) {
      const p = parse(corpusPath(file));
      const got = await decodeFrame(pool, p);
      const hu = Array.from(got, (v) => v * p.slope + p.intercept);
      expect(hu.reduce((a, b) => Math.min(a, b))).toBeGreaterThanOrEqual(-3100);
      expect(hu.reduce((a, b) => Math.max(a, b))).toBeLessThanOrEqual(10_000);
      expect(new Set(got).size).toBeGreaterThan(100);
    }
  });
});

describe.skipIf(!HAVE_CORPUS)('CT1_UNC family (dicomParser), single frame, every encapsulation', () => {
  const ref = HAVE_CORPUS ? nativeFrame(parse(corpusPath('dicom-parser/CT1_UNC.explicit_little_endian.dcm'))) : (undefined as never); // read only where the corpus is
  it.each([
    'fragmented_bot_jpeg_ls.80',
    'fragmented_no_bot_jpeg_ls.80',
    'not_fragmented_bot_jpeg_ls.80',
    'not_fragmented_no_bot_jpeg_ls.80',
  ])('%s equals the uncompressed stored values exactly', async (variant) => {
    const p = parse(corpusPath(`dicom-parser/encapsulated/single-frame/CT1_UNC.${variant}.dcm`));
    expect(mismatches(await decodeFrame(pool, p), ref)).toBe(0);
  });
});

describe.skipIf(!HAVE_CORPUS)('CT0012 (dicomParser), two frames, fragmented, with and without offset tables', () => {
  const base = 'dicom-parser/encapsulated/multi-frame/CT0012.';
  const refFile = HAVE_CORPUS ? parse(corpusPath(`${base}explicit_little_endian.dcm`)) : (undefined as never); // read only where the corpus is
  const refs = HAVE_CORPUS ? [nativeFrame(refFile, 0), nativeFrame(refFile, 1)] : [];

  it('the two reference frames differ (so a swapped frame would be caught)', () => {
    expect(mismatches(refs[0]!, refs[1]!)).toBeGreaterThan(1000);
  });

  it.each([
    'fragmented_no_bot_jpeg_lossless.57',
    'fragmented_no_bot_jpeg_lossless.70',
    'fragmented_no_bot_jpeg_ls.80',
    'not_fragmented_bot_jpeg_ls.80',
    'not_fragmented_no_bot_jpeg_ls.80',
    'not_fragmented_bot_rle',
    'not_fragmented_no_bot_rle',
  ])('%s: both frames equal the uncompressed frames exactly', async (variant) => {
    const p = parse(corpusPath(`${base}${variant}.dcm`));
    expect(p.frames).toBe(2);
    for (const i of [0, 1]) expect(mismatches(await decodeFrame(pool, p, i), refs[i]!)).toBe(0);
  });

  it('fragmented_no_bot_jpeg_ls.81 (near-lossless): both frames within NEAR', async () => {
    const p = parse(corpusPath(`${base}fragmented_no_bot_jpeg_ls.81.dcm`));
    for (const i of [0, 1]) {
      const near = jpegLsNear(encapsulatedFrameBytes(p.bytes, p.dataSet, i));
      expect(maxAbsDiff(await decodeFrame(pool, p, i), refs[i]!)).toBeLessThanOrEqual(near);
    }
  });

  it('a frame index past Number of Frames is a DecodeError', () => {
    const p = parse(corpusPath(`${base}not_fragmented_bot_rle.dcm`));
    expect(() => encapsulatedFrameBytes(p.bytes, p.dataSet, 2)).toThrow(DecodeError);
    const native = parse(corpusPath('dicom-parser/CT1_UNC.explicit_little_endian.dcm'));
    expect(() => encapsulatedFrameBytes(native.bytes, native.dataSet, 0)).toThrow(/not encapsulated/);
  });
});

describe.skipIf(!HAVE_CORPUS)('pydicom-data', () => {
  const ref = HAVE_CORPUS ? parse(corpusPath('pydicom-data/emri_small.dcm')) : (undefined as never); // read only where the corpus is
  it.each([
    'emri_small_jpeg_2k_lossless.dcm',
    'emri_small_jpeg_ls_lossless.dcm',
    'emri_small_RLE.dcm',
    // Only its sequence delimiter is missing (8 bytes): every codestream is intact and must
    // decode exactly; dicom-parser tolerates the missing delimiter.
    'emri_small_jpeg_2k_lossless_too_short.dcm',
  ])('%s (10 frames, 12 of 16 bits) equals emri_small.dcm exactly', async (file) => {
    const p = parse(corpusPath(`pydicom-data/${file}`));
    expect(p.frames).toBe(10);
    for (let i = 0; i < p.frames; i++) expect(mismatches(await decodeFrame(pool, p, i), nativeFrame(ref, i))).toBe(0);
  });

  it('JLSL_16_15_1_1F (signed, 15 of 16 bits, JPEG-LS) decodes with sign extension from bit 14', async () => {
    const p = parse(corpusPath('pydicom-data/JLSL_16_15_1_1F.dcm'));
    const got = await decodeFrame(pool, p);
    const min = got.reduce((a, b) => Math.min(a, b));
    const max = got.reduce((a, b) => Math.max(a, b));
    expect(min).toBeGreaterThanOrEqual(-(2 ** 14));
    expect(max).toBeLessThan(2 ** 14);
    expect(min).toBeLessThan(0);
  });
});
