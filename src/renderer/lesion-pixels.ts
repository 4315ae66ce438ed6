/**
 * A lesion map's colours and pictures, without React: the overlay's RGBA at the map's own size,
 * and at a thumbnail's size whatever the map's (128×128 at stride 4, 256×256 at stride 2).
 */
import type { LesionMapPixels } from './slices.js';

/** Below this probability a map pixel is not drawn: the image stays readable around a lesion. */
export const DISPLAY_FLOOR = 0.2;

/**
 * The colour of a map probability: yellow at the floor through orange to red at 1, more opaque
 * as it rises; transparent below the floor. [r, g, b, a] with a in 0–255.
 */
export function lesionColour(p: number): [number, number, number, number] {
  if (p < DISPLAY_FLOOR) return [0, 0, 0, 0];
  const t = Math.min(1, (p - DISPLAY_FLOOR) / (1 - DISPLAY_FLOOR));
  return [255, Math.round(230 * (1 - t)), 0, Math.round(255 * (0.35 + 0.4 * t))];
}

/** Per map pixel, the highest subtype probability (0–1); and the subtype and value of the slice's peak. */
export function mapPeak(map: LesionMapPixels): { label: string; p: number } {
  const plane = map.height * map.width;
  let best = 0;
  let at = 0;
  for (let c = 0; c < map.labels.length; c++) {
    for (let k = 0; k < plane; k++) {
      const v = map.data[c * plane + k]!;
      if (v > best) {
        best = v;
        at = c;
      }
    }
  }
  return { label: map.labels[at] ?? '', p: best / 255 };
}

/** The map as RGBA at its own resolution: each pixel coloured by its highest subtype probability. */
export function mapToRgba(map: LesionMapPixels, out: Uint8ClampedArray = new Uint8ClampedArray(map.height * map.width * 4)): Uint8ClampedArray {
  const plane = map.height * map.width;
  for (let k = 0; k < plane; k++) {
    let v = 0;
    for (let c = 0; c < map.labels.length; c++) v = Math.max(v, map.data[c * plane + k]!);
    const [r, g, b, a] = lesionColour(v / 255);
    out[k * 4] = r;
    out[k * 4 + 1] = g;
    out[k * 4 + 2] = b;
    out[k * 4 + 3] = a;
  }
  return out;
}

/**
 * The map as RGBA at `size`×`size` (a thumbnail's), whatever the map's own size (128×128 at stride 4,
 * 256×256 at stride 2): each thumbnail pixel takes the highest probability of the map pixels under
 * it, so a bleed one map pixel thin still shows when the picture is smaller than the map.
 */
export function mapToRgbaAt(map: LesionMapPixels, size: number): Uint8ClampedArray {
  if (map.width === size && map.height === size) return mapToRgba(map);
  const plane = map.height * map.width;
  const out = new Uint8ClampedArray(size * size * 4);
  const span = (i: number, n: number): [number, number] => {
    const from = Math.floor((i * n) / size);
    return [from, Math.max(from + 1, Math.ceil(((i + 1) * n) / size))];
  };
  for (let y = 0; y < size; y++) {
    const [y0, y1] = span(y, map.height);
    for (let x = 0; x < size; x++) {
      const [x0, x1] = span(x, map.width);
      let v = 0;
      for (let c = 0; c < map.labels.length; c++) {
        for (let my = y0; my < y1; my++) for (let mx = x0; mx < x1; mx++) v = Math.max(v, map.data[c * plane + my * map.width + mx]!);
      }
      out.set(lesionColour(v / 255), (y * size + x) * 4);
    }
  }
  return out;
}
