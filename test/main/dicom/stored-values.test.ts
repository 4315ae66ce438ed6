/**
 * Stored pixel values → Hounsfield units, against the plain reading of PS3.5 8.1.1 written out
 * here one pixel at a time: take the value's bits as an unsigned integer, shift HighBit's field
 * down, keep BitsStored bits, sign-extend when PixelRepresentation is 1, then
 * HU = value × RescaleSlope + RescaleIntercept rounded to float32. The reader takes faster routes
 * (a view on the file's bytes, whole-width values scaled directly, a kept table of HU by bit
 * pattern, two 16-bit values a load where they are 4-byte aligned); whatever route a file takes,
 * every pixel must be the HU this definition gives.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSlice } from '../../../src/main/dicom/index.js';
import { storedToHu } from '../../../src/main/dicom/read.js';
import type { DicomHeader } from '../../../src/main/dicom/tags.js';
import { findElement, phantomSlices, tempDir, withElementText } from '../../helpers.js';

type Values = Int8Array | Uint8Array | Int16Array | Uint16Array;

interface Layout {
  bitsAllocated: 8 | 16;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  slope: number;
  intercept: number;
}

/** One pixel by the definition, from the value's raw bits (0 … 2^BitsAllocated − 1). */
function definitionHu(raw: number, l: Layout): number {
  const shift = Math.max(0, l.highBit + 1 - l.bitsStored);
  let v = Math.floor(raw / 2 ** shift) % 2 ** l.bitsStored;
  if (l.signed && v >= 2 ** (l.bitsStored - 1)) v -= 2 ** l.bitsStored;
  return Math.fround(v * l.slope + l.intercept);
}

function header(l: Layout, count: number): DicomHeader {
  return {
    rows: 1, columns: count, samplesPerPixel: 1, bitsAllocated: l.bitsAllocated, bitsStored: l.bitsStored,
    highBit: l.highBit, pixelRepresentation: l.signed ? 1 : 0, rescaleSlope: l.slope, rescaleIntercept: l.intercept,
  } as DicomHeader;
}

/** Raw bit patterns that reach every field's edges: each power of two, its neighbours, and a spread. */
function rawPatterns(bits: 8 | 16): number[] {
  const top = 2 ** bits;
  const set = new Set<number>([0, top - 1]);
  for (let k = 0; k < bits; k++) for (const d of [-1, 0, 1]) set.add((2 ** k + d + top) % top);
  for (let v = 0; v < top; v += bits === 8 ? 1 : 97) set.add(v);
  // a count that is not a multiple of eight, so the loops' last partial group is read too
  if (set.size % 8 === 0) set.delete(top - 2);
  return [...set];
}

// Two that differ only in the intercept, and two only in the slope: each is its own HU.
function offsetBy2<T extends Int16Array | Uint16Array>(a: T): T {
  const moved = new (a.constructor as new (buffer: ArrayBuffer, byteOffset: number, length: number) => T)(new ArrayBuffer(a.byteLength + 2), 2, a.length);
  moved.set(a);
  return moved;
}

const RESCALES = [
  { slope: 1, intercept: -1024 },
  { slope: 0.5, intercept: -1000.25 },
  { slope: 1, intercept: 0 },
  { slope: 2.5, intercept: 0 },
];

describe('stored values to HU', () => {
  it('reads every BitsStored, HighBit and sign, in every array a native file or codec gives, as the definition does', () => {
    let layouts = 0;
    for (const bitsAllocated of [8, 16] as const) {
      const raws = rawPatterns(bitsAllocated);
      // 16-bit values also 2 bytes into their buffer, where two of them do not fill one aligned 32-bit word
      const arrays: Values[] =
        bitsAllocated === 8
          ? [Uint8Array.from(raws), Int8Array.from(raws, (r) => (r << 24) >> 24)]
          : [Uint16Array.from(raws), Int16Array.from(raws, (r) => (r << 16) >> 16)].flatMap((a) => [a, offsetBy2(a)]);
      for (let bitsStored = 1; bitsStored <= bitsAllocated; bitsStored++) {
        // HighBit below BitsStored − 1 and past the value's width are broken headers that are still read.
        for (let highBit = bitsStored - 2; highBit <= bitsAllocated + 1; highBit++) {
          if (highBit < 0) continue;
          for (const signed of [false, true]) {
            for (const { slope, intercept } of RESCALES) {
              const l: Layout = { bitsAllocated, bitsStored, highBit, signed, slope, intercept };
              const expected = raws.map((r) => definitionHu(r, l));
              for (const values of arrays) {
                const hu = storedToHu(values, header(l, values.length));
                const first = expected.findIndex((e, i) => e !== hu[i]);
                expect(first, `${values.constructor.name} at byte ${values.byteOffset} ${JSON.stringify(l)}: raw ${raws[first]} gave ${hu[first]}, not ${expected[first]}`).toBe(-1);
              }
              layouts++;
            }
          }
        }
      }
    }
    expect(layouts).toBeGreaterThan(500);
  });
});

describe('a native file read wherever its bytes sit in memory', () => {
  const dir = tempDir('triage-stored-');
  afterAll(() => dir.cleanup());
  let phantom: Uint8Array;
  beforeAll(() => {
    phantom = new Uint8Array(readFileSync(phantomSlices(join(dir.path, 'ph'), 43, 4)[1]!));
  });

  function withUint16(bytes: Uint8Array, group: number, element: number, value: number): Uint8Array {
    const copy = new Uint8Array(bytes);
    const el = findElement(copy, group, element);
    new DataView(copy.buffer).setUint16(el.valueAt, value, true);
    return copy;
  }

  /** The file with junk in the bits above the 12 the phantom stores, which every reading must ignore. */
  function withJunkHighBits(bytes: Uint8Array): Uint8Array {
    const copy = new Uint8Array(bytes);
    const pixels = findPixelData(copy);
    for (let p = pixels.valueAt + 1, k = 0; p < pixels.valueAt + pixels.length; p += 2, k++) copy[p] = copy[p]! | (((k * 7) % 16) << 4);
    return copy;
  }

  function findPixelData(bytes: Uint8Array): { valueAt: number; length: number } {
    // (7FE0,0010) OW: tag, VR, 2 reserved bytes, 4-byte length (PS3.5 7.1.2); the last element of a phantom file.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = bytes.length - 12; i >= 132; i--) {
      if (view.getUint16(i, true) === 0x7fe0 && view.getUint16(i + 2, true) === 0x0010 && bytes[i + 4] === 0x4f && bytes[i + 5] === 0x57) {
        return { valueAt: i + 12, length: view.getUint32(i + 8, true) };
      }
    }
    throw new Error('no pixel data');
  }

  /** The same bytes starting `offset` bytes into a larger buffer, as a pooled or sliced buffer hands them over. */
  function at(bytes: Uint8Array, offset: number): Uint8Array {
    const placed = new Uint8Array(new ArrayBuffer(bytes.length + offset + 3), offset, bytes.length);
    placed.set(bytes);
    return placed;
  }

  function expectedHu(bytes: Uint8Array, l: Layout): Float32Array {
    const pixels = findPixelData(bytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset + pixels.valueAt, pixels.length);
    return Float32Array.from({ length: pixels.length / 2 }, (_, i) => definitionHu(view.getUint16(i * 2, true), l));
  }

  const BITS_STORED: [number, number] = [0x0028, 0x0101];
  const HIGH_BIT: [number, number] = [0x0028, 0x0102];
  const PIXEL_REPRESENTATION: [number, number] = [0x0028, 0x0103];
  const cases: { name: string; l: Omit<Layout, 'slope' | 'intercept' | 'bitsAllocated'> }[] = [
    { name: '12 of 16 bits, unsigned (the phantom as written)', l: { bitsStored: 12, highBit: 11, signed: false } },
    { name: '12 of 16 bits, signed', l: { bitsStored: 12, highBit: 11, signed: true } },
    { name: '10 bits at HighBit 11, signed', l: { bitsStored: 10, highBit: 11, signed: true } },
    { name: '16 of 16 bits, unsigned', l: { bitsStored: 16, highBit: 15, signed: false } },
    { name: '16 of 16 bits, signed', l: { bitsStored: 16, highBit: 15, signed: true } },
  ];

  it.each(cases)('$name: the same HU at even and odd byte offsets, with and without a slope', async ({ l }) => {
    for (const rescale of [{ slope: 1, intercept: -1024 }, { slope: 0.5, intercept: -1000.25 }]) {
      let bytes = withJunkHighBits(phantom);
      bytes = withUint16(bytes, ...BITS_STORED, l.bitsStored);
      bytes = withUint16(bytes, ...HIGH_BIT, l.highBit);
      bytes = withUint16(bytes, ...PIXEL_REPRESENTATION, l.signed ? 1 : 0);
      bytes = withElementText(bytes, 0x0028, 0x1053, String(rescale.slope));
      bytes = withElementText(bytes, 0x0028, 0x1052, String(rescale.intercept));
      const expected = expectedHu(bytes, { ...l, ...rescale, bitsAllocated: 16 });
      for (const offset of [0, 1, 2, 3]) {
        const { hu } = await readSlice(at(bytes, offset));
        const first = expected.findIndex((e, i) => e !== hu[i]);
        expect(first, `offset ${offset}, slope ${rescale.slope}: pixel ${first} is ${hu[first]}, not ${expected[first]}`).toBe(-1);
      }
    }
  });
});
