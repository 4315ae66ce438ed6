/**
 * A localisation network's lesion map on the slice: where it sees each subtype, drawn over the
 * image in one colour scale (key l shows and hides it), with its legend, and the key slices'
 * thumbnails with the same overlay. The map is what a network trained on synthetic data draws:
 * the legend says "estimate", and the overlay is off until the reader asks for it, so the image
 * is read first as it is.
 */
import { useEffect, useRef } from 'react';
import { windowToGrey } from '../shared/windows.js';
import { LABEL_SHORT } from './format.js';
import { DISPLAY_FLOOR, lesionColour, mapPeak, mapToRgba, mapToRgbaAt } from './lesion-pixels.js';
import type { HuSlice, LesionMapPixels } from './slices.js';

/** The map over the slice, under the slice's zoom and pan (CSS scales it to the image). */
export function LesionMapLayer({ map, transform }: { map: LesionMapPixels; transform: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    canvas.width = map.width;
    canvas.height = map.height;
    const img = ctx.createImageData(map.width, map.height);
    mapToRgba(map, img.data);
    ctx.putImageData(img, 0, 0);
  }, [map]);
  return <canvas ref={ref} className="maplayer" style={{ transform }} data-testid="lesion-map" data-model={map.modelId} />;
}

/** What the overlay shows and how to read it: the slice's peak, the colour scale, the threshold. */
export function LesionLegend({ map, shown }: { map: LesionMapPixels | null; shown: boolean }) {
  if (!map) return null;
  if (!shown) return <div className="overlay maphint" data-testid="lesion-hint">l: lesion map (estimate)</div>;
  const peak = mapPeak(map);
  const short = LABEL_SHORT[peak.label as keyof typeof LABEL_SHORT] ?? peak.label;
  return (
    <div className="overlay maplegend" data-testid="lesion-legend">
      <div>Lesion map, estimate</div>
      <div>
        {map.modelId} · peak {peak.p >= DISPLAY_FLOOR ? `${short} ${Math.round(peak.p * 100)} %` : 'none here'}
      </div>
      <div className="mapscale" aria-label="colour scale: map probability">
        <span>{Math.round(DISPLAY_FLOOR * 100)} %</span>
        <span className="mapbar" style={{ background: `linear-gradient(to right, ${[DISPLAY_FLOOR, 0.6, 1].map((p) => css(lesionColour(p))).join(', ')})` }}>
          <i style={{ left: `${((map.threshold - DISPLAY_FLOOR) / (1 - DISPLAY_FLOOR)) * 100}%` }} title="volume threshold" />
        </span>
        <span>100 %</span>
      </div>
      <div>l hides{map.volumeWithheld ? '' : ` · tick: volume from ${Math.round(map.threshold * 100)} %`}</div>
      {map.volumeWithheld && <div className="mapwhy" data-testid="volume-withheld">{map.volumeWithheld}</div>}
    </div>
  );
}

function css([r, g, b, a]: [number, number, number, number]): string {
  return `rgba(${r}, ${g}, ${b}, ${(a / 255).toFixed(2)})`;
}

/**
 * A key slice as a small picture in the brain window, with the lesion map over it when the map is
 * shown: the reader sees where each key slice's finding is before opening it.
 */
export function KeySliceThumb({ slice, showMap }: { slice: HuSlice | null; showMap: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx || !slice) return;
    const size = 128;
    const step = slice.columns / size;
    const grey = windowToGrey(slice.hu, { center: 40, width: 80 });
    const img = ctx.createImageData(size, size);
    const map = showMap && slice.lesionMap ? mapToRgbaAt(slice.lesionMap, size) : null;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const g = grey[Math.floor(y * step) * slice.columns + Math.floor(x * step)]!;
        const k = (y * size + x) * 4;
        const a = map ? map[k + 3]! / 255 : 0;
        img.data[k] = Math.round(g * (1 - a) + (map ? map[k]! : 0) * a);
        img.data[k + 1] = Math.round(g * (1 - a) + (map ? map[k + 1]! : 0) * a);
        img.data[k + 2] = Math.round(g * (1 - a) + (map ? map[k + 2]! : 0) * a);
        img.data[k + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
  }, [slice, showMap]);
  return <canvas ref={ref} className="keythumb" width={128} height={128} data-testid="key-thumb" />;
}
