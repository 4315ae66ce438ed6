/**
 * A chart.js strip of one model's per-slice probabilities for each label along the series; a
 * click jumps to that slice. The current slice is a vertical cursor, the "any" threshold a
 * dashed line.
 */
import { useEffect, useRef } from 'react';
import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
  type Plugin,
} from 'chart.js';
import { LABELS, type Label, type LabelProbabilities } from '../shared/labels.js';
import { LABEL_COLOUR, LABEL_SHORT } from './format.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Legend);

interface CursorOptions {
  index: number;
  threshold: number;
}

declare module 'chart.js' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the type parameter must match chart.js's declaration to merge
  interface PluginOptionsByType<TType extends ChartType> {
    sliceCursor?: CursorOptions;
  }
}

const cursorPlugin: Plugin<'line'> = {
  id: 'sliceCursor',
  afterDatasetsDraw(chart, _args, options: CursorOptions) {
    const { ctx, chartArea, scales } = chart;
    const x = scales.x!.getPixelForValue(options.index);
    const y = scales.y!.getPixelForValue(options.threshold);
    ctx.save();
    ctx.strokeStyle = 'rgba(255,255,255,0.35)';
    ctx.setLineDash([4, 4]);
    ctx.beginPath();
    ctx.moveTo(chartArea.left, y);
    ctx.lineTo(chartArea.right, y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.strokeStyle = '#ffe066';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x, chartArea.top);
    ctx.lineTo(x, chartArea.bottom);
    ctx.stroke();
    ctx.restore();
  },
};

export function ProbabilityStrip(props: {
  /** Per slice in series order; null where the model has no prediction for that slice. */
  values: (LabelProbabilities | null)[];
  index: number;
  threshold: number;
  onPick(index: number): void;
}) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const chartRef = useRef<Chart<'line'> | null>(null);
  const pick = useRef(props.onPick);
  pick.current = props.onPick;

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const n = props.values.length;
    const chart = new Chart(canvas, chartConfig(props.values, props.index, props.threshold, (i) => pick.current(i)));
    chartRef.current = chart;
    // Where slice 0 and slice n-1 sit, for tests and for anyone scripting the screen.
    const x = chart.scales.x!;
    canvas.dataset.x0 = String(x.getPixelForValue(0));
    canvas.dataset.x1 = String(x.getPixelForValue(Math.max(1, n - 1)));
    canvas.dataset.n = String(n);
    return () => {
      chart.destroy();
      chartRef.current = null;
    };
    // Rebuilt only when the data changes; the cursor moves in the effect below.
  }, [props.values, props.threshold]);

  useEffect(() => {
    const chart = chartRef.current;
    if (!chart) return;
    chart.options.plugins!.sliceCursor = { index: props.index, threshold: props.threshold };
    chart.update('none');
  }, [props.index, props.threshold]);

  return (
    <div className="strip">
      <canvas ref={canvasRef} data-testid="prob-strip" />
    </div>
  );
}

/** One line per label along the slices, the cursor at `index`; a click picks the nearest slice. */
function chartConfig(values: (LabelProbabilities | null)[], index: number, threshold: number, onPick: (i: number) => void): ChartConfiguration<'line'> {
  const n = values.length;
  return {
    type: 'line',
    data: {
      datasets: LABELS.map((l: Label) => ({
        label: LABEL_SHORT[l],
        data: values.map((v, i) => ({ x: i, y: v ? v[l] : null })) as { x: number; y: number }[],
        borderColor: LABEL_COLOUR[l],
        backgroundColor: LABEL_COLOUR[l],
        borderWidth: l === 'any' ? 2.5 : 1.5,
        pointRadius: 0,
        pointHitRadius: 6,
        tension: 0.2,
        spanGaps: false,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { type: 'linear', min: 0, max: Math.max(1, n - 1), ticks: { color: '#9aa4b2', precision: 0 }, grid: { color: '#2a3038' }, title: { display: true, text: 'slice', color: '#9aa4b2' } },
        y: { min: 0, max: 1, ticks: { color: '#9aa4b2', stepSize: 0.5 }, grid: { color: '#2a3038' } },
      },
      plugins: {
        legend: { position: 'right', labels: { color: '#d8dee9', boxWidth: 10, boxHeight: 3, padding: 5, font: { size: 11 } } },
        tooltip: { callbacks: { title: (items) => `slice ${(items[0]?.parsed.x ?? 0) + 1}` } },
        sliceCursor: { index, threshold },
      },
      onClick: (event, _elements, chart) => {
        if (event.x === null) return;
        const v = chart.scales.x!.getValueForPixel(event.x);
        if (v === undefined) return;
        onPick(Math.max(0, Math.min(n - 1, Math.round(v))));
      },
    },
    plugins: [cursorPlugin],
  };
}
