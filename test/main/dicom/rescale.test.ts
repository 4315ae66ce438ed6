/**
 * Hounsfield units are never computed from a rescale value that is present but unusable: an
 * overflowing intercept (`1e309`), `NaN`, text, a zero or negative slope are refusals that name the
 * tag; only an absent (or empty) tag takes the standard's default. Files are real phantom DICOM
 * with the element's bytes rewritten, as a broken writer would leave them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuarantineError, readSlice } from '../../../src/main/dicom/index.js';
import { storedToHu } from '../../../src/main/dicom/read.js';
import type { DicomHeader } from '../../../src/main/dicom/tags.js';
import { findElement, phantomSlices, tempDir, withElementText } from '../../helpers.js';

const dir = tempDir('triage-rescale-');
afterAll(() => dir.cleanup());
let original: Uint8Array;

async function refusal(bytes: Uint8Array): Promise<string> {
  try {
    await readSlice(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(QuarantineError);
    return (err as QuarantineError).reason;
  }
  throw new Error('read, expected a refusal');
}

const SLOPE: [number, number] = [0x0028, 0x1053];
const INTERCEPT: [number, number] = [0x0028, 0x1052];

describe('rescale slope and intercept', () => {
  beforeAll(() => {
    original = new Uint8Array(readFileSync(phantomSlices(join(dir.path, 'ph'), 41)[0]!));
  });

  it('reads the original, and an absent slope as 1 (the same HU)', async () => {
    const good = await readSlice(original);
    const el = findElement(original, ...SLOPE);
    expect(Number(new TextDecoder().decode(original.subarray(el.valueAt, el.valueAt + el.length)).trim())).toBe(1);
    const absent = await readSlice(withElementText(original, ...SLOPE, null));
    expect(Array.from(absent.hu.subarray(0, 4096))).toEqual(Array.from(good.hu.subarray(0, 4096)));
  });

  it.each([
    ['slope', SLOPE, '1e309', /RescaleSlope \(0028,1053\) is Infinity/],
    ['slope', SLOPE, 'NaN', /RescaleSlope \(0028,1053\) is NaN/],
    ['slope', SLOPE, 'abc', /RescaleSlope \(0028,1053\) is NaN/],
    ['slope', SLOPE, '-1', /RescaleSlope \(0028,1053\) is -1/],
    ['slope', SLOPE, '0', /RescaleSlope \(0028,1053\) is 0/],
    ['intercept', INTERCEPT, '1e309', /RescaleIntercept \(0028,1052\) is Infinity/],
    ['intercept', INTERCEPT, '-1e400', /RescaleIntercept \(0028,1052\) is -Infinity/],
    ['intercept', INTERCEPT, 'NaN', /RescaleIntercept \(0028,1052\) is NaN/],
  ] as const)('refuses a %s of %s', async (_name, tag, text, reason) => {
    expect(await refusal(withElementText(original, tag[0], tag[1], text))).toMatch(reason);
  });

  it('keeps a multi-valued or padded value readable (first value, spaces trimmed)', async () => {
    const hu = (await readSlice(withElementText(original, ...INTERCEPT, ' -1024 \\0'))).hu;
    const ref = (await readSlice(withElementText(original, ...INTERCEPT, '-1024'))).hu;
    expect(Array.from(hu.subarray(0, 4096))).toEqual(Array.from(ref.subarray(0, 4096)));
  });

  it('scales every pixel, also past the last whole group of eight the loop does at once', () => {
    // 3 × 7 = 21 pixels: two groups of eight and five left over
    const header = { rows: 3, columns: 7, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 1, samplesPerPixel: 1,
      highBit: 15, rescaleSlope: 2.5, rescaleIntercept: -1024 } as DicomHeader;
    const stored = Int16Array.from({ length: 21 }, (_, i) => (i * 97) % 400 - 150);
    const hu = storedToHu(stored, header);
    expect(Array.from(hu)).toEqual(Array.from(stored, (v) => v * 2.5 - 1024));
    expect(Array.from(storedToHu(stored, { ...header, rescaleSlope: 1 }))).toEqual(Array.from(stored, (v) => v - 1024));
  });
});
