/**
 * One slice at full resolution on a canvas, windowed with windowToGrey (src/shared/windows.ts,
 * the one windowing implementation). Drag: left/right changes width, up/down changes level.
 */
import { useEffect, useRef } from 'react';
import { windowToGrey, type Window } from '../shared/windows.js';
import type { HuSlice } from './slices.js';

export function SliceCanvas(props: {
  slice: HuSlice | null;
  window: Window;
  onWindowDrag(w: Window): void;
  onWheel(delta: number): void;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  const grey = useRef<Uint8ClampedArray | null>(null);
  const drag = useRef<{ x: number; y: number; start: Window } | null>(null);

  useEffect(() => {
    const canvas = ref.current;
    const s = props.slice;
    if (!canvas || !s) return;
    if (canvas.width !== s.columns || canvas.height !== s.rows) {
      canvas.width = s.columns;
      canvas.height = s.rows;
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const n = s.rows * s.columns;
    if (!grey.current || grey.current.length !== n) grey.current = new Uint8ClampedArray(n);
    const g = windowToGrey(s.hu, props.window, grey.current);
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
    canvas.dataset.drawn = `${s.instanceId}:${props.window.center}/${props.window.width}`;
  }, [props.slice, props.window]);

  // Wheel listener is non-passive so the page does not scroll while stepping through slices.
  const onWheel = useRef(props.onWheel);
  onWheel.current = props.onWheel;
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const h = (e: WheelEvent) => {
      e.preventDefault();
      onWheel.current(e.deltaY > 0 ? 1 : -1);
    };
    canvas.addEventListener('wheel', h, { passive: false });
    return () => canvas.removeEventListener('wheel', h);
  }, []);

  return (
    <canvas
      ref={ref}
      className="slice"
      data-testid="slice-canvas"
      width={512}
      height={512}
      onPointerDown={(e) => {
        (e.target as HTMLCanvasElement).setPointerCapture(e.pointerId);
        drag.current = { x: e.clientX, y: e.clientY, start: props.window };
      }}
      onPointerMove={(e) => {
        const d = drag.current;
        if (!d) return;
        const width = Math.max(1, Math.round(d.start.width + (e.clientX - d.x) * 2));
        const center = Math.round(d.start.center + (e.clientY - d.y));
        props.onWindowDrag({ center, width });
      }}
      onPointerUp={() => (drag.current = null)}
      onPointerCancel={() => (drag.current = null)}
    />
  );
}
