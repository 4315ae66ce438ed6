/**
 * Reads the image size a compressed stream declares, before any decoder sees the stream. A
 * decoder allocates what the stream's own header asks for; checking that against the DICOM header
 * (and the memory budget) first keeps a hostile stream that claims 60000×60000 from ballooning
 * the worker. Bounds-checked throughout: any malformed header is a DecodeError.
 */
import { DecodeError } from './types.js';

export interface StreamHeader {
  /** Start-of-frame marker for JPEG family (0xFFC0–0xFFCF, 0xFFF7 for JPEG-LS), 0 for J2K. */
  marker: number;
  width: number;
  height: number;
  components: number;
  precision: number;
  signed?: boolean;
}

function u16(b: Uint8Array, at: number): number {
  if (at + 2 > b.length) throw new DecodeError('compressed stream ends inside its header');
  return (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number): number {
  if (at + 4 > b.length) throw new DecodeError('compressed stream ends inside its header');
  return ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;
}

/**
 * JPEG (ITU-T T.81 B.2) and JPEG-LS (ITU-T T.87 C.2.2) share the marker-segment syntax; the frame
 * header is SOFn (T.81 B.2.2) or SOF55 = 0xFFF7 (T.87) with the same layout: Lf P Y X Nf.
 */
export function readJpegFrameHeader(b: Uint8Array): StreamHeader {
  if (u16(b, 0) !== 0xffd8) throw new DecodeError('stream does not start with a JPEG SOI marker');
  let at = 2;
  for (let guard = 0; guard < 10_000; guard++) {
    // Fill bytes (0xFF) may precede a marker (T.81 B.1.1.2).
    while (at < b.length && b[at] === 0xff && b[at + 1] === 0xff) at++;
    const marker = u16(b, at);
    if (marker >> 8 !== 0xff) throw new DecodeError(`JPEG marker expected at byte ${at}`);
    at += 2;
    // Markers without a length field: TEM, RSTn, SOI, EOI (T.81 B.1.1.3).
    if (marker === 0xff01 || (marker >= 0xffd0 && marker <= 0xffd8)) continue;
    if (marker === 0xffd9 || marker === 0xffda) throw new DecodeError('JPEG stream has no frame header before its scan');
    const length = u16(b, at);
    if (length < 2) throw new DecodeError('JPEG marker segment has an invalid length');
    const isSof =
      (marker >= 0xffc0 && marker <= 0xffcf && marker !== 0xffc4 && marker !== 0xffc8 && marker !== 0xffcc) ||
      marker === 0xfff7;
    if (isSof) {
      if (at + 8 > b.length) throw new DecodeError('JPEG frame header is truncated');
      return {
        marker,
        precision: b[at + 2]!,
        height: u16(b, at + 3),
        width: u16(b, at + 5),
        components: b[at + 7]!,
      };
    }
    at += length;
  }
  throw new DecodeError('JPEG stream has too many marker segments before its frame header');
}

/**
 * JPEG 2000 codestream (ISO/IEC 15444-1 A.5.1): SOC (FF4F) then SIZ (FF51). Some writers wrap it
 * in a JP2 file (Annex I) although PS3.5 A.4.4 asks for the bare codestream; we accept both and
 * hand the decoder the codestream.
 */
export function j2kCodestream(b: Uint8Array): Uint8Array {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0x4f) return b;
  // JP2 signature box: length 12, type 'jP  ' (I.5.1).
  if (b.length >= 12 && u32(b, 0) === 12 && u32(b, 4) === 0x6a502020) {
    let at = 0;
    while (at + 8 <= b.length) {
      let len = u32(b, at);
      const type = u32(b, at + 4);
      let header = 8;
      if (len === 1) {
        // XLBox: 64-bit length; a frame never needs the high word.
        if (u32(b, at + 8) !== 0) throw new DecodeError('JP2 box is too large');
        len = u32(b, at + 12);
        header = 16;
      } else if (len === 0) {
        len = b.length - at;
      }
      if (len < header || at + len > b.length) throw new DecodeError('JP2 box length runs past the end of the stream');
      if (type === 0x6a703263 /* 'jp2c' */) return b.subarray(at + header, at + len);
      at += len;
    }
    throw new DecodeError('JP2 file has no contiguous codestream box');
  }
  throw new DecodeError('stream is not a JPEG 2000 codestream (no SOC marker)');
}

export function readJ2kSiz(codestream: Uint8Array): StreamHeader {
  const b = codestream;
  if (u16(b, 0) !== 0xff4f || u16(b, 2) !== 0xff51) {
    throw new DecodeError('JPEG 2000 codestream does not start with SOC and SIZ markers');
  }
  // SIZ: Lsiz Rsiz Xsiz Ysiz XOsiz YOsiz XTsiz YTsiz XTOsiz YTOsiz Csiz {Ssiz XRsiz YRsiz}.
  const xsiz = u32(b, 8);
  const ysiz = u32(b, 12);
  const xosiz = u32(b, 16);
  const yosiz = u32(b, 20);
  const csiz = u16(b, 40);
  if (csiz < 1) throw new DecodeError('JPEG 2000 codestream declares no components');
  if (42 >= b.length) throw new DecodeError('JPEG 2000 SIZ marker is truncated');
  const ssiz = b[42]!;
  if (xosiz > xsiz || yosiz > ysiz) throw new DecodeError('JPEG 2000 image offset lies outside the image');
  return {
    marker: 0,
    width: xsiz - xosiz,
    height: ysiz - yosiz,
    components: csiz,
    precision: (ssiz & 0x7f) + 1,
    signed: (ssiz & 0x80) !== 0,
  };
}

/** A stream's declared size must match the DICOM header before its decoder may allocate for it. */
export function checkDeclaredSize(
  label: string,
  h: StreamHeader,
  desc: { rows: number; columns: number; samplesPerPixel: number },
): void {
  if (h.width !== desc.columns || h.height !== desc.rows) {
    throw new DecodeError(`${label} stream declares ${h.width}×${h.height} but the DICOM header says ${desc.columns}×${desc.rows}`);
  }
  if (h.components !== desc.samplesPerPixel) {
    throw new DecodeError(`${label} stream declares ${h.components} components but samples per pixel is ${desc.samplesPerPixel}`);
  }
  if (h.precision < 1 || h.precision > 16) {
    throw new DecodeError(`${label} stream declares ${h.precision}-bit samples; at most 16 are supported`);
  }
}

/**
 * JPEG, JPEG-LS (EOI) and JPEG 2000 (EOC) streams all end with 0xFFD9. Some decoders (OpenJPEG,
 * libjpeg-turbo) decode a stream cut short without complaint and fill in what is missing; for a
 * lossless CT that silently changes HU, so a stream without its end marker is refused. A fragment
 * may carry a pad byte after the marker (PS3.5 A.4: even length; seen as 0x00 and 0xFF).
 * Returns the offset of the final 0xFFD9.
 */
export function checkEndMarker(label: string, b: Uint8Array): number {
  let end = b.length;
  while (end > 2 && b.length - end < 4 && (b[end - 1] === 0x00 || b[end - 1] === 0xff) && !(b[end - 2] === 0xff && b[end - 1] === 0xd9)) {
    end--;
  }
  if (end < 2 || b[end - 2] !== 0xff || b[end - 1] !== 0xd9) {
    throw new DecodeError(`${label} stream is truncated: it does not end with an end-of-image marker`);
  }
  return end - 2;
}
