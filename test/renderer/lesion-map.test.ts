/**
 * The lesion map's pictures in the viewer: the key slices' thumbnails show a map of any size
 * (128×128 at stride 4, 256×256 at stride 2) over the same 128×128 picture of the slice, and a
 * bleed one stride-2 map pixel thin still shows there.
 */
import { describe, expect, it } from 'vitest';
import { lesionColour, mapToRgba, mapToRgbaAt } from '../../src/renderer/lesion-pixels.js';
import type { LesionMapPixels } from '../../src/renderer/slices.js';

const LABELS = ['epidural', 'intraparenchymal', 'intraventricular', 'subarachnoid', 'subdural'];

function map(size: number, paint: (put: (c: number, y: number, x: number, p: number) => void) => void): LesionMapPixels {
  const data = new Uint8Array(LABELS.length * size * size);
  paint((c, y, x, p) => (data[c * size * size + y * size + x] = Math.round(p * 255)));
  return { modelId: 'lesion_unet', labels: LABELS, height: size, width: size, threshold: 0.5, volumeWithheld: null, data };
}

const pixel = (rgba: Uint8ClampedArray, size: number, y: number, x: number): number[] => Array.from(rgba.subarray((y * size + x) * 4, (y * size + x) * 4 + 4));

describe('the key-slice thumbnail overlay', () => {
  it('is the map itself at 128×128 (stride 4)', () => {
    const m = map(128, (put) => put(4, 30, 40, 0.9));
    expect(Array.from(mapToRgbaAt(m, 128))).toEqual(Array.from(mapToRgba(m)));
  });

  it('places a 256×256 map (stride 2) on the same picture, keeping a one-pixel-thin bleed at its highest probability', () => {
    const m = map(256, (put) => {
      for (let y = 60; y < 140; y++) put(4, y, 101, 0.9); // a crescent one map pixel wide, at column 101
      put(1, 201, 200, 0.6); // a lone pixel of another subtype
      put(1, 200, 201, 0.3);
    });
    const thumb = mapToRgbaAt(m, 128);
    expect(thumb.length).toBe(128 * 128 * 4);
    for (let y = 30; y < 70; y++) expect(pixel(thumb, 128, y, 50)).toEqual(lesionColour(230 / 255));
    expect(pixel(thumb, 128, 29, 50)[3]).toBe(0);
    expect(pixel(thumb, 128, 40, 49)[3]).toBe(0);
    expect(pixel(thumb, 128, 40, 51)[3]).toBe(0);
    // the block of 2×2 map pixels takes its highest subtype probability
    expect(pixel(thumb, 128, 100, 100)).toEqual(lesionColour(153 / 255));
  });

  it('draws a map larger than the picture it lands on without reading past its bytes', () => {
    const m = map(256, (put) => put(0, 255, 255, 1));
    const thumb = mapToRgbaAt(m, 100);
    expect(pixel(thumb, 100, 99, 99)).toEqual(lesionColour(1));
    expect(pixel(thumb, 100, 0, 0)[3]).toBe(0);
  });
});
