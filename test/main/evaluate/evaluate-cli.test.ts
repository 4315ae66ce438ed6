/**
 * `triage evaluate` and `triage export-predictions` end to end: a small phantom set in the RSNA
 * format goes through the normal ingest, a real model scores it, the report has every metric.
 * (Only the Conv-LSTM, to keep CI fast; every model is covered by test/models.)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LABELS } from '../../../src/shared/labels.js';
import { PYTHON, REPO_ROOT, tempDir } from '../../helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

it('evaluates a model on RSNA-format data and exports its predictions', () => {
  const data = join(dir.path, 'phantoms');
  execFileSync(PYTHON, ['-m', 'models.phantom', 'generate', '--studies', '2', '--seed', '4242', '--out', data, '--balanced', '--slices-min', '6', '--slices-max', '6'], {
    cwd: REPO_ROOT,
    stdio: 'pipe',
  });
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'manifest.json'), 'utf8')) as {
    models: { id: string; files: { path: string }[] }[];
  };
  const convlstm = manifest.models.find((m) => m.id === 'convlstm')!;
  const models = join(dir.path, 'models');
  mkdirSync(join(models, 'convlstm'), { recursive: true });
  for (const f of convlstm.files) copyFileSync(join(REPO_ROOT, 'models', f.path), join(models, f.path));
  writeFileSync(join(models, 'manifest.json'), JSON.stringify({ ...manifest, models: [convlstm], ensembles: [] }));

  const dataDir = join(dir.path, 'db');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'triage.mjs'), '--models-dir', models, '--data-dir', dataDir, ...args], {
      encoding: 'utf8',
    });
  const json = join(dir.path, 'report.json');
  const html = join(dir.path, 'roc.html');
  const r = run('--init', 'evaluate', '--data', data, '--json', json, '--html', html);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/convlstm — slice level/);
  expect(r.stdout).toMatch(/paper AUC %/);
  expect(r.stdout).toMatch(/synthetic data only/);

  const report = JSON.parse(readFileSync(json, 'utf8')) as {
    counts: { slicesLabelled: number; studies: number };
    models: { modelId: string; slice: { perLabel: Record<string, { n: number }>; logLoss: number }; study: Record<string, unknown> }[];
  };
  expect(report.counts).toMatchObject({ slicesLabelled: 12, studies: 2 });
  expect(report.models.map((m) => m.modelId)).toEqual(['convlstm', 'ranking']);
  for (const l of LABELS) expect(report.models[0]!.slice.perLabel[l]!.n).toBe(12);
  expect(report.models[0]!.slice.logLoss).toBeGreaterThan(0);
  expect(Object.keys(report.models[0]!.study)).toEqual(['max', 'smoothed-max']);
  expect(readFileSync(html, 'utf8')).toMatch(/new Chart\(/);

  const csv = join(dir.path, 'submission.csv');
  const e = run('export-predictions', '--model', 'convlstm', '--out', csv);
  expect(e.status, e.stderr).toBe(0);
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  expect(lines[0]).toBe('ID,Label');
  expect(lines).toHaveLength(1 + 12 * 6);
  // Every exported id is one of the label file's ids.
  const labelIds = new Set(readFileSync(join(data, 'stage_2_train.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]));
  for (const line of lines.slice(1)) expect(labelIds.has(line.split(',')[0])).toBe(true);
});
