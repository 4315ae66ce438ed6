/**
 * Checks on a FrameDescription and conversion of codec output to stored values. Used on both
 * sides of the worker boundary: the pool rejects a nonsensical description before it costs a
 * worker round-trip, and the worker checks again because it must not trust its input.
 */
import { DecodeError, type CodecOutput, type FrameDescription, type StoredPixels } from './types.js';

/** Rows and Columns are US (PS3.5 §6.2), so 65535 is the largest a header can honestly say. */
const MAX_DIMENSION = 0xffff;

export function bytesPerSample(desc: FrameDescription): 1 | 2 {
  return desc.bitsAllocated <= 8 ? 1 : 2;
}

export function outputBytes(desc: FrameDescription): number {
  return desc.rows * desc.columns * bytesPerSample(desc);
}

/** Throws a DecodeError naming the first thing wrong with `desc`, if any. */
export function checkDescription(desc: FrameDescription, memoryBytes: number): void {
  const { rows, columns, bitsAllocated, bitsStored, pixelRepresentation, samplesPerPixel } = desc;
  for (const [name, v] of [['rows', rows], ['columns', columns]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_DIMENSION) {
      throw new DecodeError(`frame ${name} ${String(v)} is not a dimension between 1 and ${MAX_DIMENSION}`);
    }
  }
  // CT is monochrome (PS3.3 C.8.2.1.1.2 requires MONOCHROME1/2); colour frames are not ours to
  // decode and the ingest quarantines them before they get here.
  if (samplesPerPixel !== 1) {
    throw new DecodeError(`only single-sample (monochrome) frames are decoded, not samples per pixel ${String(samplesPerPixel)}`);
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw new DecodeError(`bits allocated ${String(bitsAllocated)} is not supported for compressed frames (8 or 16)`);
  }
  if (!Number.isInteger(bitsStored) || bitsStored < 1 || bitsStored > bitsAllocated) {
    throw new DecodeError(`bits stored ${String(bitsStored)} does not fit bits allocated ${bitsAllocated}`);
  }
  if (pixelRepresentation !== 0 && pixelRepresentation !== 1) {
    throw new DecodeError(`pixel representation ${String(pixelRepresentation)} is neither 0 nor 1`);
  }
  // The decoded frame, the codec's copy of it and the compressed input all live at once; a
  // header that asks for more than a quarter of the budget is refused before any decoder runs.
  if (outputBytes(desc) * 4 > memoryBytes) {
    throw new DecodeError(
      `frame of ${rows}×${columns} at ${bitsAllocated} bits exceeds the decoder memory limit of ${Math.round(memoryBytes / 2 ** 20)} MB`,
    );
  }
}

/** The codec's own header must describe the same image as the DICOM header. */
export function checkCodecOutput(label: string, out: CodecOutput, desc: FrameDescription): void {
  if (out.width !== desc.columns || out.height !== desc.rows) {
    throw new DecodeError(
      `${label} stream is ${out.width}×${out.height} but the DICOM header says ${desc.columns}×${desc.rows}`,
    );
  }
  if (out.components !== desc.samplesPerPixel) {
    throw new DecodeError(`${label} stream has ${out.components} components but samples per pixel is ${desc.samplesPerPixel}`);
  }
  if (out.samples.length < desc.rows * desc.columns) {
    throw new DecodeError(`${label} decoder returned ${out.samples.length} samples, expected ${desc.rows * desc.columns}`);
  }
}

/**
 * Codec samples → stored values: keep the low Bits Stored bits and, for Pixel Representation 1,
 * sign-extend from bit Bits Stored − 1 (PS3.5 §8.1.1; the bits above High Bit carry no pixel
 * value). This makes the result independent of whether a codec sign-extended already (OpenJPEG
 * does for signed codestreams) or hands back raw bit patterns (CharLS, the lossless JPEG and RLE
 * decoders) — both give the same low bits.
 */
export function toStoredValues(samples: CodecOutput['samples'], desc: FrameDescription): StoredPixels {
  const n = desc.rows * desc.columns;
  const signed = desc.pixelRepresentation === 1;
  const bits = desc.bitsStored;
  if (desc.bitsAllocated === 8 && !signed) {
    const out = new Uint8Array(n);
    const mask = bits >= 8 ? 0xff : (1 << bits) - 1;
    for (let i = 0; i < n; i++) out[i] = (samples[i] ?? 0) & mask;
    return out;
  }
  if (!signed) {
    const out = new Uint16Array(n);
    const mask = bits >= 16 ? 0xffff : (1 << bits) - 1;
    for (let i = 0; i < n; i++) out[i] = (samples[i] ?? 0) & mask;
    return out;
  }
  // Signed 8-bit frames come back widened to Int16Array: the public type has no Int8Array and
  // the lead's rescale reads numbers, not bytes.
  const out = new Int16Array(n);
  const mask = (2 ** bits - 1) >>> 0;
  const signBit = 2 ** (bits - 1);
  const range = 2 ** bits;
  for (let i = 0; i < n; i++) {
    const u = ((samples[i] ?? 0) & mask) >>> 0;
    out[i] = u >= signBit ? u - range : u;
  }
  return out;
}
