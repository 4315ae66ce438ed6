/**
 * The volume rule: map pixels at or above the threshold × their area on the slice × the slice
 * spacing; a pixel two subtypes share counts once in the total; no pixel spacing or no spacing
 * between slices gives no number rather than a wrong one. A map pixel's area follows the map's
 * size: 4×4 slice pixels at 128×128 (stride 4), 2×2 at 256×256 (stride 2).
 */
import { describe, expect, it } from 'vitest';
import { seriesVolume, sliceSpacingMm, studyVolume, type MapSlice } from '../../../src/main/triage/volume.js';
import { pythonJson } from '../../helpers.js';

const SIZE = 128;

/** A slice whose `size`×`size` map has a `side`×`side` square at `p` in the given channels (subtype indices). */
function mapSlice(
  z: number | null,
  squares: { channel: number; side: number; p: number; at?: number }[],
  over: Partial<MapSlice> = {},
  size = SIZE,
): MapSlice {
  const plane = size * size;
  const data = new Uint8Array(5 * plane);
  for (const { channel, side, p, at = 10 } of squares) {
    for (let y = at; y < at + side; y++) for (let x = at; x < at + side; x++) data[channel * plane + y * size + x] = Math.round(p * 255);
  }
  return {
    seriesUid: '1.2',
    channels: 5,
    height: size,
    width: size,
    data,
    slicePosition: z,
    pixelSpacing: [0.5, 0.5],
    originalRows: 512,
    originalColumns: 512,
    sliceThickness: 5,
    ...over,
  };
}

describe('bleed volume from lesion maps', () => {
  it('counts pixels at or above the threshold times pixel area times slice spacing', () => {
    // 10×10 map pixels of 4×4 slice pixels at 0.5 mm: 2 mm × 2 mm each; 5 mm apart: 20 mm³ a pixel.
    const slices = [mapSlice(0, [{ channel: 4, side: 10, p: 0.9 }]), mapSlice(5, [{ channel: 4, side: 10, p: 0.9 }]), mapSlice(10, [])];
    const v = seriesVolume(slices, 0.5)!;
    expect(v.totalMl).toBeCloseTo((2 * 100 * 20) / 1000, 6); // 4 mL
    expect(v.subtypes).toEqual({ epidural: 0, intraparenchymal: 0, intraventricular: 0, subarachnoid: 0, subdural: 4 });
    expect(v.slices).toBe(3);
    // below the threshold: nothing
    expect(seriesVolume([mapSlice(0, [{ channel: 4, side: 10, p: 0.45 }]), mapSlice(5, [])], 0.5)!.totalMl).toBe(0);
  });

  it('counts a pixel two subtypes share once in the total and once in each subtype', () => {
    const v = seriesVolume([mapSlice(0, [{ channel: 1, side: 10, p: 0.8 }, { channel: 2, side: 5, p: 0.8 }]), mapSlice(5, [])], 0.5)!;
    expect(v.subtypes.intraparenchymal).toBeCloseTo(2, 6);
    expect(v.subtypes.intraventricular).toBeCloseTo(0.5, 6);
    expect(v.totalMl).toBeCloseTo(2, 6);
  });

  it('scales pixel spacing to the 512×512 copy the network read (a 256×256 slice at 1 mm)', () => {
    const v = seriesVolume([mapSlice(0, [{ channel: 0, side: 10, p: 1 }], { pixelSpacing: [1, 1], originalRows: 256, originalColumns: 256 }), mapSlice(5, [], { pixelSpacing: [1, 1], originalRows: 256, originalColumns: 256 })], 0.5)!;
    expect(v.totalMl).toBeCloseTo(2, 6);
  });

  it('at stride 2 (a 256×256 map) a map pixel is 2×2 slice pixels, so the same bleed gives the same volume', () => {
    // 10×10 map pixels of 2×2 slice pixels at 0.5 mm: 1 mm × 1 mm each; 5 mm apart: 5 mm³ a pixel.
    const fine = [0, 5, 10].map((z, k) => mapSlice(z, k < 2 ? [{ channel: 4, side: 10, p: 0.9 }] : [], {}, 256));
    const v = seriesVolume(fine, 0.5)!;
    expect(v.totalMl).toBeCloseTo((2 * 100 * 5) / 1000, 6); // 1 mL
    expect(v.subtypes.subdural).toBeCloseTo(1, 6);
    // a bleed 20×20 map pixels at stride 2 is 10×10 at stride 4: 4 mL either way
    const at2 = [0, 5].map((z) => mapSlice(z, [{ channel: 4, side: 20, p: 0.9, at: 20 }], {}, 256));
    const at4 = [0, 5].map((z) => mapSlice(z, [{ channel: 4, side: 10, p: 0.9, at: 10 }]));
    expect(seriesVolume(at2, 0.5)!.totalMl).toBeCloseTo(4, 6);
    expect(seriesVolume(at2, 0.5)!.totalMl).toBeCloseTo(seriesVolume(at4, 0.5)!.totalMl, 6);
    // and the copy's scaling applies as at stride 4 (a 256×256 slice at 1 mm: each map pixel 1 mm)
    const small = { pixelSpacing: [1, 1] as const, originalRows: 256, originalColumns: 256 };
    expect(seriesVolume([mapSlice(0, [{ channel: 0, side: 10, p: 1 }], small, 256), mapSlice(5, [], small, 256)], 0.5)!.totalMl).toBeCloseTo(0.5, 6);
  });

  it('takes the median gap between positions; the thickness without positions; nothing without either', () => {
    expect(sliceSpacingMm([0, 5, 10, 15, 30], 3)).toBe(5);
    expect(sliceSpacingMm([10, 0, 5], null)).toBe(5);
    expect(sliceSpacingMm([null, null], 2.5)).toBe(2.5);
    expect(sliceSpacingMm([4, 4], null)).toBeNull();
    expect(seriesVolume([mapSlice(null, [{ channel: 0, side: 10, p: 1 }], { sliceThickness: null })], 0.5)).toBeNull();
    expect(seriesVolume([mapSlice(0, [{ channel: 0, side: 10, p: 1 }], { pixelSpacing: null }), mapSlice(5, [])], 0.5)).toBeNull();
    expect(seriesVolume([mapSlice(0, [{ channel: 0, side: 10, p: 1 }], { pixelSpacing: [0, 0.5] }), mapSlice(5, [])], 0.5)).toBeNull();
  });

  it("gives a study its largest series' estimate: two series of one head measure one bleed", () => {
    const thin = [0, 1, 2, 3].map((z) => mapSlice(z, [{ channel: 4, side: 10, p: 0.9 }], { seriesUid: 'thin' }));
    const thick = [0, 5].map((z) => mapSlice(z, [{ channel: 4, side: 10, p: 0.9 }], { seriesUid: 'thick' }));
    const v = studyVolume([...thin, ...thick], 0.5)!;
    expect(v.seriesUid).toBe('thick');
    expect(v.totalMl).toBeCloseTo(4, 6);
    expect(studyVolume([], 0.5)).toBeNull();
  });
});

describe('the app and the training code measure the same volume', () => {
  // the shipped network's 128×128 maps (stride 4) and the stride-2 option's 256×256 ones
  it.each([{ size: 128 }, { size: 256 }])('on the same $size×$size maps and geometry (models/training/lesion_unet.py volume_ml)', ({ size }) => {
    // Blobs of graded probability across four slices, 3 mm apart, 0.45 mm pixels.
    const slices = [0, 3, 6, 9].map((z, k) =>
      mapSlice(z, [
        { channel: 4, side: 12 + 4 * k, p: 0.55, at: 20 },
        { channel: 4, side: 6, p: 0.95, at: 24 },
        { channel: 2, side: 9, p: 0.49 + 0.02 * k, at: 70 }, // below, then above the threshold
      ], { pixelSpacing: [0.45, 0.45], sliceThickness: 3 }, size),
    );
    const app = seriesVolume(slices, 0.5)!;
    // Python takes the stride from the maps' size, as the app does; only the size travels
    const py = pythonJson<number>(
      `import json, sys
import numpy as np
from models.training.lesion_unet import volume_ml, slice_spacing
d = json.load(sys.stdin)
maps = np.array(d['maps'], dtype=np.float32).reshape(-1, 5, d['size'], d['size']) / 255.0
print(json.dumps(volume_ml(maps, 0.45, slice_spacing(np.array(d['z'], dtype=float)))))`,
      { maps: slices.flatMap((s) => Array.from(s.data)), z: [0, 3, 6, 9], size },
    );
    expect(app.totalMl).toBeGreaterThan(0);
    expect(app.totalMl).toBeCloseTo(py, 2);
  });
});
