/** Text tables beside the published figures, and the ROC page. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LABELS } from '../../shared/labels.js';
import type { EvaluationReport, LevelResult, ModelResult } from './types.js';
import { BARIN_2021, RAJAGOPAL_2023 } from './published.js';
import { STUDY_AGGREGATION } from '../triage/index.js';

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : (100 * v).toFixed(2));
const num = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(4));

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function levelTable(level: LevelResult, published?: typeof RAJAGOPAL_2023): string {
  const headers = ['label', 'n', 'pos', 'thr', 'sens %', 'spec %', 'prec %', 'acc %', 'F1 %', 'AUC %', 'ECE'];
  if (published) headers.push('paper F1 %', 'paper AUC %');
  const rows = LABELS.map((l) => {
    const r = level.perLabel[l];
    const row = [l, String(r.n), String(r.positives), r.threshold.toFixed(2), pct(r.sensitivity), pct(r.specificity), pct(r.precision), pct(r.accuracy), pct(r.f1), pct(r.auc), num(r.ece)];
    if (published) row.push(pct(published.f1[l]), pct(published.auc[l]));
    return row;
  });
  const o = level.overall;
  const overall = ['overall', String(level.n), '', '', pct(o.sensitivity), pct(o.specificity), pct(o.precision), pct(o.accuracy), pct(o.f1), pct(o.auc), ''];
  if (published) overall.push('', '');
  rows.push(overall);
  if (published) {
    const p = published.overall;
    rows.push(['paper overall', '', '', '', pct(p.sensitivity), pct(p.specificity), pct(p.precision), pct(p.accuracy), '', '', '', '', '']);
  }
  return `${table(headers, rows)}\nRSNA weighted log loss: ${num(level.logLoss)}`;
}

function barinTable(models: ModelResult[], level: (m: ModelResult) => LevelResult): string {
  const rows: string[][] = [];
  for (const id of ['efficientnet_b3', 'inception_resnet_v2', 'ensemble']) {
    const m = models.find((x) => x.modelId === id);
    if (m) {
      const o = level(m).overall;
      rows.push([`${id} (measured)`, num(o.precision), num(o.sensitivity), num(o.specificity), num(o.f1), num(o.accuracy)]);
    }
    const p = BARIN_2021.rows[id];
    if (p) rows.push([`${id} (paper)`, num(p.precision), num(p.sensitivity), num(p.specificity), num(p.f1), num(p.accuracy)]);
  }
  return table(['model', 'precision', 'sensitivity', 'specificity', 'F1', 'accuracy'], rows);
}

export function formatReport(r: EvaluationReport): string {
  const out: string[] = [];
  out.push(`# Evaluation of ${r.data}`);
  out.push(`${r.note}`);
  out.push(
    `${r.counts.slicesLabelled} labelled slices scored (${r.counts.slicesWithoutLabel} without a label ignored), ${r.counts.studies} studies; ranking family: ${r.rankingFamily}.`,
  );
  for (const m of r.models) {
    out.push(`\n## ${m.modelId} — slice level (provider: ${m.provider})`);
    out.push(levelTable(m.slice, m.modelId === 'convlstm' ? RAJAGOPAL_2023 : undefined));
    out.push(`\n## ${m.modelId} — study level, ${STUDY_AGGREGATION} (the app's rule)`);
    out.push(levelTable(m.study[STUDY_AGGREGATION]));
    const w = m.worklist;
    out.push(
      `Worklist check: every bleeding study above every normal one: ${w.bleedingAboveNormal ? 'yes' : 'NO'} ` +
        `(${w.bleedingStudies} bleeding, ${w.normalStudies} normal); the first key slice holds a bleed in ` +
        `${w.firstKeySliceBleeds}/${w.bleedingStudies} bleeding studies.\n` +
        `Flags at the thresholds above (a study is flagged when any label reaches its threshold, the app's rule): ` +
        `${w.bleedingFlagged}/${w.bleedingStudies} bleeding studies flagged, ${w.normalQuiet}/${w.normalStudies} normal studies quiet.`,
    );
  }
  out.push('\n## Barin et al. 2021 table (slice level, overall = pooled over the six labels)');
  out.push(barinTable(r.models, (m) => m.slice));
  out.push(`Paper: ${BARIN_2021.source}. Conv-LSTM paper: ${RAJAGOPAL_2023.source}.`);
  out.push(`\n## Study score rule: the plain maximum against smoothed-max (study-level ROC-AUC %, "any"; the app's rule: ${STUDY_AGGREGATION})`);
  out.push(
    table(
      ['model', 'max', 'smoothed-max', 'log loss max', 'log loss smoothed'],
      r.models.map((m) => [
        m.modelId,
        pct(m.study.max.perLabel.any.auc),
        pct(m.study['smoothed-max'].perLabel.any.auc),
        num(m.study.max.logLoss),
        num(m.study['smoothed-max'].logLoss),
      ]),
    ),
  );
  return `${out.join('\n')}\n`;
}

/** A self-contained page (chart.js inlined) with one ROC chart per label, a line per model. */
export function reportHtml(r: EvaluationReport): string {
  const require = createRequire(import.meta.url);
  // chart.js's package exports do not list its UMD build; it sits beside the main entry.
  const chartJs = readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  const data = JSON.stringify({
    labels: LABELS,
    models: r.models.map((m) => ({ id: m.modelId, slice: m.slice.roc, study: m.study[STUDY_AGGREGATION].roc, auc: m.slice.perLabel })),
  }).replace(/</g, '\\u003c');
  return `<!doctype html><html><head><meta charset="utf-8"><title>ROC curves — ${r.data}</title>
<style>body{font:14px system-ui,sans-serif;margin:16px;background:#111;color:#eee}.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:16px}canvas{background:#1b1b1b}</style>
</head><body><h1>ROC curves (slice level)</h1><p><strong>${r.note}</strong></p><p>Data: ${r.data} · generated ${r.generatedAt}</p>
<div class="grid" id="grid"></div>
<script>${chartJs}</script>
<script>
const data = ${data};
const colours = ['#e6194b','#3cb44b','#4363d8','#f58231','#911eb4','#42d4f4','#f032e6'];
for (const label of data.labels) {
  const box = document.createElement('div'); const c = document.createElement('canvas'); box.appendChild(c);
  document.getElementById('grid').appendChild(box);
  new Chart(c, { type: 'line', data: { datasets: data.models.map((m, i) => ({
      label: m.id + ' (AUC ' + (m.auc[label].auc === null ? '—' : (100 * m.auc[label].auc).toFixed(1)) + ')',
      data: m.slice[label].map(p => ({ x: p.fpr, y: p.tpr })), borderColor: colours[i % colours.length], pointRadius: 0, showLine: true })) },
    options: { animation: false, plugins: { title: { display: true, text: label, color: '#eee' }, legend: { labels: { color: '#ccc' } } },
      scales: { x: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'false-positive rate' } }, y: { min: 0, max: 1, title: { display: true, text: 'sensitivity' } } } } });
}
</script></body></html>`;
}
