/**
 * RLE Lossless (PS3.5 A.4.2 and Annex G), written here: it is ~60 lines of PackBits, and no
 * maintained npm package decodes the DICOM flavour on its own (cornerstone3D keeps its RLE
 * decoder inside @cornerstonejs/dicom-image-loader rather than as a codec package).
 *
 * Frame layout (G.3): a 64-byte header of 16 little-endian UL — the number of segments (≤ 15)
 * and the byte offset of each segment — then the segments. A 16-bit sample is split into two
 * segments, most significant byte first (G.2); each segment decodes to rows × columns bytes.
 */
import { DecodeError, type Codec, type CodecOutput, type FrameDescription } from './types.js';

const LABEL = 'RLE';

function u32le(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** PackBits (G.3.1) into `out` at `start`, every `stride` bytes, exactly `count` bytes. */
function unpackSegment(src: Uint8Array, begin: number, end: number, out: Uint8Array, start: number, stride: number, count: number, index: number): void {
  let i = begin;
  let produced = 0;
  let o = start;
  while (produced < count && i < end) {
    const n = src[i++]!;
    if (n < 128) {
      // Literal run of n + 1 bytes.
      const len = n + 1;
      if (i + len > end) throw new DecodeError(`RLE segment ${index} literal run runs past the segment end`);
      const take = Math.min(len, count - produced);
      for (let k = 0; k < take; k++) {
        out[o] = src[i + k]!;
        o += stride;
      }
      produced += take;
      i += len;
    } else if (n > 128) {
      // Replicate the next byte 257 − n times (n read as a signed byte −1…−127).
      if (i >= end) throw new DecodeError(`RLE segment ${index} replicate run runs past the segment end`);
      const value = src[i++]!;
      const take = Math.min(257 - n, count - produced);
      for (let k = 0; k < take; k++) {
        out[o] = value;
        o += stride;
      }
      produced += take;
    }
    // n = 128 (−128) is a no-op (G.3.1).
  }
  if (produced < count) {
    throw new DecodeError(`RLE segment ${index} decodes to ${produced} bytes, expected ${count}`);
  }
}

export const rleCodec: Codec = {
  label: LABEL,
  async decode(frame: Uint8Array, desc: FrameDescription): Promise<CodecOutput> {
    if (frame.length < 64) throw new DecodeError('RLE frame is shorter than its 64-byte header');
    const bytesPerSample = desc.bitsAllocated <= 8 ? 1 : 2;
    const expected = bytesPerSample * desc.samplesPerPixel;
    const segments = u32le(frame, 0);
    if (segments !== expected) {
      throw new DecodeError(`RLE frame has ${segments} segments; ${desc.bitsAllocated}-bit data with ${desc.samplesPerPixel} sample(s) needs ${expected}`);
    }
    const offsets: number[] = [];
    for (let s = 0; s < segments; s++) offsets.push(u32le(frame, 4 + 4 * s));
    for (let s = 0; s < segments; s++) {
      const begin = offsets[s]!;
      const end = s + 1 < segments ? offsets[s + 1]! : frame.length;
      if (begin < 64 || begin > end || end > frame.length) {
        throw new DecodeError(`RLE segment ${s + 1} offset ${begin} lies outside the frame`);
      }
    }
    const pixels = desc.rows * desc.columns;
    const out = new Uint8Array(pixels * bytesPerSample);
    for (let s = 0; s < segments; s++) {
      const begin = offsets[s]!;
      const end = s + 1 < segments ? offsets[s + 1]! : frame.length;
      // Segment 0 is the most significant byte (G.2); our output is little-endian 16-bit.
      const byteInSample = bytesPerSample === 2 ? 1 - s : 0;
      unpackSegment(frame, begin, end, out, byteInSample, bytesPerSample, pixels, s + 1);
    }
    const samples = bytesPerSample === 2 ? new Uint16Array(out.buffer, 0, pixels) : out;
    return { samples, width: desc.columns, height: desc.rows, components: desc.samplesPerPixel };
  },
};
