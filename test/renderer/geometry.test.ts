import { describe, expect, it } from 'vitest';
import { directionLetters, distanceMm, edgeMarkers, gridSpacing } from '../../src/renderer/geometry.js';

describe('orientation markers', () => {
  it('an axial slice in the usual orientation: R on the left of the screen, A at the top', () => {
    expect(edgeMarkers([1, 0, 0, 0, 1, 0])).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
  });

  it('a slice flipped left-right shows it (the viewer must never hide a flip)', () => {
    expect(edgeMarkers([-1, 0, 0, 0, 1, 0])).toEqual({ left: 'L', right: 'R', top: 'A', bottom: 'P' });
  });

  it('a tilted gantry gives two letters, strongest first; a coronal slice reads H/F', () => {
    const t = Math.cos(Math.PI / 6);
    expect(directionLetters([0, t, -0.5])).toBe('PF');
    expect(edgeMarkers([1, 0, 0, 0, 0, -1])).toEqual({ left: 'R', right: 'L', top: 'H', bottom: 'F' });
  });

  it('no markers without a usable orientation', () => {
    expect(edgeMarkers(null)).toBeNull();
    expect(edgeMarkers([1, 0, 0])).toBeNull();
    expect(edgeMarkers([1, 0, 0, 0, Number.NaN, 0])).toBeNull();
  });
});

describe('distances', () => {
  it('uses the spacing of the stored grid: a 256² slice at 0.9 mm stored at 512² is 0.45 mm a pixel', () => {
    const s = gridSpacing([0.9, 0.9], { rows: 256, columns: 256 }, { rows: 512, columns: 512 })!;
    expect(s).toEqual({ row: 0.45, column: 0.45 });
    expect(distanceMm({ x: 0, y: 0 }, { x: 300, y: 400 }, s)).toBeCloseTo(225, 9);
  });

  it('anisotropic pixels: rows and columns each with their own spacing', () => {
    expect(distanceMm({ x: 0, y: 0 }, { x: 10, y: 0 }, { row: 0.5, column: 0.8 })).toBeCloseTo(8, 9);
    expect(distanceMm({ x: 0, y: 0 }, { x: 0, y: 10 }, { row: 0.5, column: 0.8 })).toBeCloseTo(5, 9);
  });

  it('no ruler without a pixel spacing', () => {
    expect(gridSpacing(null, { rows: 512, columns: 512 }, { rows: 512, columns: 512 })).toBeNull();
    expect(gridSpacing([0, 0.5], { rows: 512, columns: 512 }, { rows: 512, columns: 512 })).toBeNull();
  });
});
