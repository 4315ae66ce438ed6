/**
 * One slice at full resolution on a canvas, windowed with windowToGrey (src/shared/windows.ts,
 * the one windowing implementation), with the tools a reader expects of a PACS viewer:
 * - drag: left/right changes the window width, up/down the level (the window tool);
 * - with the ruler tool (key m), drag measures a distance in mm (PixelSpacing of the stored grid);
 * - shift-drag or the middle button pans; zoom and pan come from the viewer (keys + − f u);
 * - the HU value under the cursor is reported as the pointer moves;
 * - a localisation network's lesion map, when shown (key l), over the slice under the same zoom.
 * The zoom is a CSS transform of the canvas: the pixels stay the stored 512×512 HU copy.
 */
import { useEffect, useRef, type PointerEvent, type RefObject } from 'react';
import { windowToGrey, type Window } from '../shared/windows.js';
import type { HuSlice } from './slices.js';
import { LesionMapLayer } from './LesionMap.js';

export interface View {
  /** 1 = the image fits the box; 2 = twice that. */
  scale: number;
  /** Pan in screen pixels from the centred position. */
  x: number;
  y: number;
}
export type Tool = 'window' | 'ruler';
export interface Point {
  x: number;
  y: number;
}
export interface Probe {
  x: number;
  y: number;
  hu: number;
}

type SliceCanvasProps = {
  slice: HuSlice | null;
  window: Window;
  view: View;
  tool: Tool;
  ruler: { a: Point; b: Point } | null;
  onWindowDrag(w: Window): void;
  onWheel(delta: number): void;
  onView(v: View): void;
  onRuler(r: { a: Point; b: Point } | null): void;
  onProbe(p: Probe | null): void;
  /** Screen pixels of the box the image fits at scale 1 (for 1:1). */
  onFitSize?(px: number): void;
  /** Draw the slice's lesion map over it (key l). */
  showMap?: boolean;
};

export function SliceCanvas(props: SliceCanvasProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const box = useRef<HTMLDivElement>(null);
  useWindowedDrawing(ref, props.slice, props.window);
  useWheelSteps(ref, props.onWheel);
  useFitSize(box, props.onFitSize);
  const pointer = usePointerTools(ref, props);

  const { scale, x, y } = props.view;
  const transform = `translate(${x}px, ${y}px) scale(${scale})`;
  return (
    <div className="slicebox" ref={box} data-testid="slicebox">
      <canvas
        ref={ref}
        className={props.tool === 'ruler' ? 'slice ruler' : 'slice'}
        data-testid="slice-canvas"
        data-scale={scale}
        width={512}
        height={512}
        style={{ transform }}
        {...pointer}
      />
      {props.showMap && props.slice?.lesionMap && <LesionMapLayer map={props.slice.lesionMap} transform={transform} />}
      {props.ruler && <RulerLine ruler={props.ruler} slice={props.slice} scale={scale} transform={transform} />}
    </div>
  );
}

/** The slice windowed (windowToGrey) onto the canvas, again whenever the slice or the window changes. */
function useWindowedDrawing(ref: RefObject<HTMLCanvasElement | null>, slice: HuSlice | null, win: Window): void {
  const grey = useRef<Uint8ClampedArray | null>(null);
  useEffect(() => {
    const canvas = ref.current;
    const s = slice;
    if (!canvas || !s) return;
    if (canvas.width !== s.columns || canvas.height !== s.rows) {
      canvas.width = s.columns;
      canvas.height = s.rows;
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const n = s.rows * s.columns;
    if (!grey.current || grey.current.length !== n) grey.current = new Uint8ClampedArray(n);
    const g = windowToGrey(s.hu, win, grey.current);
    const img = ctx.createImageData(s.columns, s.rows);
    const d = img.data;
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      const v = g[i]!;
      d[j] = v;
      d[j + 1] = v;
      d[j + 2] = v;
      d[j + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    // What is on screen, for tests and scripted checks: instance and window drawn.
    canvas.dataset.drawn = `${s.instanceId}:${win.center}/${win.width}`;
  }, [ref, slice, win]);
}

/** The wheel steps through slices; the listener is non-passive so the page does not scroll meanwhile. */
function useWheelSteps(ref: RefObject<HTMLCanvasElement | null>, onWheel: (delta: number) => void): void {
  const latest = useRef(onWheel);
  latest.current = onWheel;
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const h = (e: WheelEvent) => {
      e.preventDefault();
      latest.current(e.deltaY > 0 ? 1 : -1);
    };
    canvas.addEventListener('wheel', h, { passive: false });
    return () => canvas.removeEventListener('wheel', h);
  }, [ref]);
}

/** The box's width as it changes: the image's size on screen at scale 1. */
function useFitSize(box: RefObject<HTMLDivElement | null>, onFitSize: ((px: number) => void) | undefined): void {
  const latest = useRef(onFitSize);
  latest.current = onFitSize;
  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => latest.current?.(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, [box]);
}

/** The canvas's pointer handlers: window drag, pan (shift or middle button), ruler, and the HU probe. */
function usePointerTools(ref: RefObject<HTMLCanvasElement | null>, props: SliceCanvasProps) {
  const drag = useRef<
    | { kind: 'window'; x: number; y: number; start: Window }
    | { kind: 'pan'; x: number; y: number; start: View }
    | { kind: 'ruler'; a: Point }
    | null
  >(null);

  /** The stored-grid pixel under a pointer event (the canvas's box includes the zoom transform). */
  const pixelAt = (e: { clientX: number; clientY: number }): Point | null => {
    const canvas = ref.current;
    const s = props.slice;
    if (!canvas || !s) return null;
    const r = canvas.getBoundingClientRect();
    const x = Math.floor(((e.clientX - r.left) / r.width) * s.columns);
    const y = Math.floor(((e.clientY - r.top) / r.height) * s.rows);
    return x >= 0 && y >= 0 && x < s.columns && y < s.rows ? { x, y } : null;
  };

  return {
    onPointerDown: (e: PointerEvent<HTMLCanvasElement>) => {
      (e.target as HTMLCanvasElement).setPointerCapture(e.pointerId);
      if (e.shiftKey || e.button === 1) drag.current = { kind: 'pan', x: e.clientX, y: e.clientY, start: props.view };
      else if (props.tool === 'ruler') {
        const a = pixelAt(e);
        drag.current = a ? { kind: 'ruler', a } : null;
        if (a) props.onRuler({ a, b: a });
      } else drag.current = { kind: 'window', x: e.clientX, y: e.clientY, start: props.window };
    },
    onPointerMove: (e: PointerEvent<HTMLCanvasElement>) => {
      const p = pixelAt(e);
      const s = props.slice;
      props.onProbe(p && s ? { ...p, hu: s.hu[p.y * s.columns + p.x]! } : null);
      const d = drag.current;
      if (!d) return;
      if (d.kind === 'window') {
        const width = Math.max(1, Math.round(d.start.width + (e.clientX - d.x) * 2));
        const center = Math.round(d.start.center + (e.clientY - d.y));
        props.onWindowDrag({ center, width });
      } else if (d.kind === 'pan') {
        props.onView({ ...d.start, x: d.start.x + e.clientX - d.x, y: d.start.y + e.clientY - d.y });
      } else if (p) {
        props.onRuler({ a: d.a, b: p });
      }
    },
    onPointerLeave: () => props.onProbe(null),
    onPointerUp: () => (drag.current = null),
    onPointerCancel: () => (drag.current = null),
  };
}

/** The ruler's line and end points over the image, in stored-grid pixels under the same zoom transform. */
function RulerLine({ ruler, slice, scale, transform }: { ruler: { a: Point; b: Point }; slice: HuSlice | null; scale: number; transform: string }) {
  const cols = slice?.columns ?? 512;
  const rows = slice?.rows ?? 512;
  return (
    <svg className="rulerlayer" viewBox={`0 0 ${cols} ${rows}`} style={{ transform }} data-testid="ruler-line">
      <line vectorEffect="non-scaling-stroke" x1={ruler.a.x + 0.5} y1={ruler.a.y + 0.5} x2={ruler.b.x + 0.5} y2={ruler.b.y + 0.5} />
      <circle cx={ruler.a.x + 0.5} cy={ruler.a.y + 0.5} r={2.5 / scale} />
      <circle cx={ruler.b.x + 0.5} cy={ruler.b.y + 0.5} r={2.5 / scale} />
    </svg>
  );
}
