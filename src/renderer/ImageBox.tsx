/**
 * The viewer's image: the slice on its canvas with the overlays over it, and the zoom, pan and
 * ruler the reader works it with (keys + − f u m, from the viewer).
 */
import { useMemo, useState } from 'react';
import { SliceCanvas, type Point, type Probe, type Tool, type View } from './SliceCanvas.js';
import { distanceMm, edgeMarkers, gridSpacing } from './geometry.js';
import { ImageOverlays } from './ViewerParts.js';
import type { HuSlice } from './slices.js';
import type { Window } from '../shared/windows.js';
import type { LabelProbabilities } from '../shared/labels.js';
import type { SeriesDetail } from '../shared/api.js';

type SliceInfo = SeriesDetail['slices'][number];

/** The view (zoom and pan), the tool, the ruler and the HU probe, with the keys' actions on them. */
export function useImageTools(pixels: HuSlice | null) {
  const [view, setView] = useState<View>({ scale: 1, x: 0, y: 0 });
  const [tool, setTool] = useState<Tool>('window');
  const [ruler, setRuler] = useState<{ a: Point; b: Point } | null>(null);
  const [probe, setProbe] = useState<Probe | null>(null);
  const [fitPx, setFitPx] = useState(512);
  const actions = useMemo(
    () => ({
      zoom: (factor: number) => setView((v) => ({ ...v, scale: Math.min(8, Math.max(0.5, v.scale * factor)) })),
      fit: () => setView({ scale: 1, x: 0, y: 0 }),
      oneToOne: () => setView({ scale: (pixels?.columns ?? 512) / (fitPx * (window.devicePixelRatio || 1)), x: 0, y: 0 }),
      toggleRuler: () => {
        setTool((t) => (t === 'window' ? 'ruler' : 'window'));
        setRuler(null);
      },
    }),
    [pixels, fitPx],
  );
  return { view, setView, tool, ruler, setRuler, probe, setProbe, setFitPx, actions };
}

export type ImageTools = ReturnType<typeof useImageTools>;

export function ImageBox(props: {
  pixels: HuSlice | null;
  slice: SliceInfo | undefined;
  window: Window;
  windowName: string;
  onWindowDrag(w: Window): void;
  onWheel(delta: number): void;
  tools: ImageTools;
  sliceLabel: { index: number; count: number; position: number | null; series: SeriesDetail | null };
  current: { modelId: string; p: LabelProbabilities } | null;
  showMap: boolean;
}) {
  const { pixels, slice, tools } = props;
  const spacing = slice && pixels ? gridSpacing(slice.pixelSpacing, { rows: slice.originalRows, columns: slice.originalColumns }, pixels) : null;
  const rulerMm = tools.ruler && spacing ? distanceMm(tools.ruler.a, tools.ruler.b, spacing) : null;
  return (
    <div className="imagebox">
      <SliceCanvas
        slice={pixels}
        window={props.window}
        onWindowDrag={props.onWindowDrag}
        onWheel={props.onWheel}
        view={tools.view}
        tool={tools.tool}
        ruler={tools.ruler}
        onView={tools.setView}
        onRuler={tools.setRuler}
        onProbe={tools.setProbe}
        onFitSize={tools.setFitPx}
        showMap={props.showMap}
      />
      <ImageOverlays
        markers={edgeMarkers(slice?.orientation ?? null)}
        probe={tools.probe}
        ruler={tools.ruler ? { mm: rulerMm } : null}
        view={tools.view}
        tool={tools.tool}
        sliceLabel={props.sliceLabel}
        window={props.window}
        windowName={props.windowName}
        current={props.current}
        lesionMap={pixels?.lesionMap ?? null}
        showMap={props.showMap}
      />
    </div>
  );
}
