/**
 * The compressed bytes of one frame of encapsulated Pixel Data (PS3.5 A.4), joined from its
 * fragments with dicom-parser's own functions.
 *
 * Where a frame starts is read, in order of preference, from: the Extended Offset Table
 * (7FE0,0001), the Basic Offset Table (the first item), a one-frame object (all fragments are
 * that frame), one fragment per frame, and finally the codestream start markers — since PS3.5
 * A.4 (2016+) a frame always begins a new fragment, a fragment that begins with a JPEG SOI, a
 * JPEG 2000 SOC/SIZ or a JP2 signature starts a frame.
 */
import dicomParser from 'dicom-parser';
import type { DataSet, Element, Fragment } from 'dicom-parser';
import { DecodeError } from './types.js';

const PIXEL_DATA = 'x7fe00010';
const EXTENDED_OFFSET_TABLE = 'x7fe00001';
const NUMBER_OF_FRAMES = 'x00280008';

function bytesOf(dataSet: DataSet, fallback: Uint8Array): Uint8Array {
  // Fragment positions are offsets into the array the data set was parsed from — for a deflated
  // file that is the inflated copy dicom-parser made, not the file's bytes.
  return (dataSet.byteArray as Uint8Array | undefined) ?? fallback;
}

function startsAStream(bytes: Uint8Array, f: Fragment): boolean {
  const p = f.position;
  if (f.length < 4 || p + 4 > bytes.length) return false;
  const b0 = bytes[p]!, b1 = bytes[p + 1]!, b2 = bytes[p + 2]!, b3 = bytes[p + 3]!;
  if (b0 === 0xff && b1 === 0xd8 && b2 === 0xff) return true; // JPEG / JPEG-LS SOI
  if (b0 === 0xff && b1 === 0x4f && b2 === 0xff && b3 === 0x51) return true; // J2K SOC + SIZ
  return b0 === 0 && b1 === 0 && b2 === 0 && b3 === 0x0c && f.length >= 8 && bytes[p + 4] === 0x6a; // JP2 'jP  '
}

function numberOfFrames(dataSet: DataSet): number {
  const n = dataSet.intString(NUMBER_OF_FRAMES);
  return n !== undefined && Number.isInteger(n) && n > 0 ? n : 1;
}

function readExtendedOffsets(dataSet: DataSet, bytes: Uint8Array): number[] | undefined {
  const el = dataSet.elements[EXTENDED_OFFSET_TABLE];
  if (!el || el.length < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + el.dataOffset, el.length);
  const out: number[] = [];
  // OV, 64-bit little-endian offsets (PS3.3 C.7.6.3.1.8); dicom-parser only reads explicit VR
  // little endian here, the one syntax family the table is defined for.
  for (let at = 0; at + 8 <= el.length; at += 8) out.push(Number(view.getBigUint64(at, true)));
  return out;
}

function join(dataSet: DataSet, el: Element, start: number, count: number): Uint8Array {
  return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, el, start, count) as Uint8Array;
}

/**
 * Input: the Part 10 bytes, their parsed data set, and a zero-based frame index. Output: that
 * frame's compressed stream (a view when it is one fragment, a copy when several are joined).
 * Throws DecodeError when the pixel data is not encapsulated or the frame cannot be located.
 */
export function encapsulatedFrameBytes(byteArray: Uint8Array, dataSet: DataSet, frameIndex: number): Uint8Array {
  const el = dataSet.elements[PIXEL_DATA];
  if (!el) throw new DecodeError('the object has no Pixel Data');
  const fragments = el.fragments;
  if (!el.encapsulatedPixelData || !fragments) throw new DecodeError('Pixel Data is not encapsulated');
  if (fragments.length === 0) throw new DecodeError('encapsulated Pixel Data has no fragments');
  const frames = numberOfFrames(dataSet);
  if (!Number.isInteger(frameIndex) || frameIndex < 0 || frameIndex >= frames) {
    throw new DecodeError(`frame ${frameIndex} does not exist (Number of Frames is ${frames})`);
  }
  const bytes = bytesOf(dataSet, byteArray);
  try {
    const extended = readExtendedOffsets(dataSet, bytes);
    if (extended && extended.length === frames) {
      // With an Extended Offset Table each frame is exactly one fragment (PS3.5 A.4).
      const index = fragments.findIndex((f) => f.offset === extended[frameIndex]);
      if (index < 0) throw new DecodeError(`Extended Offset Table points frame ${frameIndex} at no fragment`);
      return join(dataSet, el, index, 1);
    }
    const bot = el.basicOffsetTable ?? [];
    if (bot.length > 0) {
      if (bot.length !== frames) {
        throw new DecodeError(`Basic Offset Table lists ${bot.length} frames but Number of Frames is ${frames}`);
      }
      return dicomParser.readEncapsulatedImageFrame(dataSet, el, frameIndex) as Uint8Array;
    }
    if (frames === 1) return join(dataSet, el, 0, fragments.length);
    if (fragments.length === frames) return join(dataSet, el, frameIndex, 1);
    const starts = fragments.flatMap((f, i) => (startsAStream(bytes, f) ? [i] : []));
    if (starts.length !== frames || starts[0] !== 0) {
      throw new DecodeError(
        `cannot tell where frame ${frameIndex} starts: no offset table, ${fragments.length} fragments for ${frames} frames`,
      );
    }
    const first = starts[frameIndex]!;
    const end = frameIndex + 1 < starts.length ? starts[frameIndex + 1]! : fragments.length;
    return join(dataSet, el, first, end - first);
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    // dicom-parser throws strings and Errors with a "dicomParser.fn:" prefix.
    const text = (e instanceof Error ? e.message : String(e)).replace(/^dicomParser\.\w+:\s*/, '');
    throw new DecodeError(`cannot read frame ${frameIndex} from encapsulated Pixel Data: ${text}`, { cause: e });
  }
}
