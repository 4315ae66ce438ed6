/**
 * Test support for the codec tests: read a Part 10 file with dicom-parser directly (independent of
 * the lead's reader), get a frame's stored values from an uncompressed file, and decode a frame of
 * a compressed file through a DecoderPool.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import { expect } from 'vitest';
import { CORPUS, HAVE_CORPUS } from '../../helpers.js';

export { HAVE_CORPUS };
import { encapsulatedFrameBytes, type DecoderPool, type FrameDescription } from '../../../src/main/dicom/codecs/index.js';

export const corpusPath = (rel: string): string => join(CORPUS, rel);

export interface Parsed {
  bytes: Uint8Array;
  dataSet: DataSet;
  transferSyntax: string;
  desc: FrameDescription;
  frames: number;
  slope: number;
  intercept: number;
}

export function parse(file: string): Parsed {
  const bytes = new Uint8Array(readFileSync(file));
  const dataSet = dicomParser.parseDicom(bytes);
  const desc: FrameDescription = {
    rows: dataSet.uint16('x00280010')!,
    columns: dataSet.uint16('x00280011')!,
    bitsAllocated: dataSet.uint16('x00280100')!,
    bitsStored: dataSet.uint16('x00280101')!,
    pixelRepresentation: dataSet.uint16('x00280103') === 1 ? 1 : 0,
    samplesPerPixel: dataSet.uint16('x00280002') ?? 1,
  };
  return {
    bytes,
    dataSet,
    transferSyntax: (dataSet.string('x00020010') ?? '').replace(/\0/g, ''),
    desc,
    frames: dataSet.intString('x00280008') ?? 1,
    slope: dataSet.floatString('x00281053') ?? 1,
    intercept: dataSet.floatString('x00281052') ?? 0,
  };
}

/** Stored values of frame `index` of an explicit/implicit little-endian file, masked to Bits Stored. */
export function nativeFrame(p: Parsed, index = 0): Int32Array {
  const el = p.dataSet.elements['x7fe00010']!;
  const n = p.desc.rows * p.desc.columns;
  const bytesPer = p.desc.bitsAllocated / 8;
  const start = el.dataOffset + index * n * bytesPer;
  const view = new DataView(p.bytes.buffer, p.bytes.byteOffset + start, n * bytesPer);
  const out = new Int32Array(n);
  const bits = p.desc.bitsStored;
  for (let i = 0; i < n; i++) {
    let v = bytesPer === 2 ? view.getUint16(i * 2, true) : view.getUint8(i);
    v &= 2 ** bits - 1;
    if (p.desc.pixelRepresentation === 1 && v >= 2 ** (bits - 1)) v -= 2 ** bits;
    out[i] = v;
  }
  return out;
}

export async function decodeFrame(pool: DecoderPool, p: Parsed, index = 0): Promise<Int32Array> {
  const frame = encapsulatedFrameBytes(p.bytes, p.dataSet, index);
  const px = await pool.decode(p.transferSyntax, frame, p.desc);
  expect(px.length).toBe(p.desc.rows * p.desc.columns);
  return Int32Array.from(px);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function rmse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s / a.length);
}

/** Number of samples that differ (0 for an exact match): a readable failure message. */
export function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n + Math.abs(a.length - b.length);
}

/** NEAR of a JPEG-LS stream, from its first SOS segment (ITU-T T.87 C.2.3). */
export function jpegLsNear(frame: Uint8Array): number {
  for (let i = 2; i + 1 < frame.length; ) {
    if (frame[i] !== 0xff) throw new Error('not at a marker');
    const marker = frame[i + 1]!;
    const len = (frame[i + 2]! << 8) | frame[i + 3]!;
    if (marker === 0xda) {
      const ns = frame[i + 4]!;
      return frame[i + 5 + ns * 2]!;
    }
    i += 2 + len;
  }
  throw new Error('no SOS');
}
