/**
 * Which ONNX graph each execution provider loads: the manifest names a file per provider (an int8
 * file for the CPU where one was adopted, the float file for CUDA), and the worker loads it or
 * says why not; and what a declared lesion map must be, and when its volumes are shown.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compose } from '../../../src/main/core.js';
import { graphFor, lesionMapOutput, type ModelEntry } from '../../../src/main/inference/manifest.js';
import { OnnxSeriesScorer } from '../../../src/main/inference/scorer.js';
import { REPO_ROOT, tempDir } from '../../helpers.js';

const SHA = 'a'.repeat(64);
const entry = (files: ModelEntry['files']): ModelEntry => ({ id: 'm', version: '1', files });

describe('graphFor', () => {
  it('gives the CPU the int8 graph and CUDA the float graph; shards are never graphs', () => {
    const m = entry([
      { path: 'm/m.onnx', sha256: SHA, role: 'model', precision: 'float16', providers: ['cuda'] },
      { path: 'm/m.onnx.data-000', sha256: SHA, role: 'external-data', precision: 'float16', providers: ['cuda'] },
      { path: 'm/m.int8.onnx', sha256: SHA, role: 'model', precision: 'int8', providers: ['cpu'] },
    ]);
    expect(graphFor(m, 'cpu')?.path).toBe('m/m.int8.onnx');
    expect(graphFor(m, 'cuda')?.path).toBe('m/m.onnx');
    expect(graphFor(m, 'rocm')).toBeUndefined();
  });

  it('one graph for every provider when the manifest names none (older manifests) or names both', () => {
    const old = entry([{ path: 'm/m.onnx', sha256: SHA }, { path: 'm/m.onnx.data-000', sha256: SHA }]);
    expect(graphFor(old, 'cpu')?.path).toBe('m/m.onnx');
    expect(graphFor(old, 'cuda')?.path).toBe('m/m.onnx');
    const int8Only = entry([{ path: 'm/m.int8.onnx', sha256: SHA, role: 'model', precision: 'int8', providers: ['cpu', 'cuda'] }]);
    expect(graphFor(int8Only, 'cuda')?.path).toBe('m/m.int8.onnx');
  });
});

describe('the shipped manifest', () => {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'manifest.json'), 'utf8')) as { models: ModelEntry[] };
  it('gives every model a CPU graph and a CUDA graph', () => {
    for (const m of manifest.models) {
      expect(graphFor(m, 'cpu'), m.id).toBeDefined();
      expect(graphFor(m, 'cuda'), m.id).toBeDefined();
    }
  });
});

describe('the worker', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('refuses a model with no graph for the provider it runs, and says so', async () => {
    const convlstm = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'manifest.json'), 'utf8')).models.find(
      (m: ModelEntry) => m.id === 'convlstm',
    ) as ModelEntry;
    const models = join(dir.path, 'models');
    for (const f of convlstm.files) {
      mkdirSync(join(models, f.path, '..'), { recursive: true });
      copyFileSync(join(REPO_ROOT, 'models', f.path), join(models, f.path));
    }
    const cudaOnly = { ...convlstm, files: convlstm.files.map((f) => ({ ...f, providers: ['cuda'] })) };
    writeFileSync(join(models, 'manifest.json'), JSON.stringify({ models: [cudaOnly], ensembles: [] }));
    const core = compose({ dataDir: join(dir.path, 'data'), settleMs: 0 });
    const scorer = await OnnxSeriesScorer.create({ store: core.store, dataDir: core.dataDir, modelsDir: models });
    expect(scorer!.modelStates()[0]).toMatchObject({ status: 'refused', reason: expect.stringMatching(/no cpu file in the manifest/) });
    await scorer!.close();
    await core.stop();
  }, 120_000);
});

describe('lesionMapOutput', () => {
  const withMap = (map: Record<string, unknown>): ModelEntry => ({
    ...entry([{ path: 'm.onnx', sha256: SHA }]),
    outputs: { probabilities: { dtype: 'float32', shape: ['N', 6] }, lesion_map: { dtype: 'float32', shape: ['N', 5, 128, 128], kind: 'lesion-map', ...map } },
  });

  it('reads the map and shows its volumes only when the manifest records that they met their bar', () => {
    expect(lesionMapOutput(entry([{ path: 'm.onnx', sha256: SHA }]))).toBeUndefined();
    expect(lesionMapOutput(withMap({ threshold: 0.35, volume: { shown: true, measured: 'within on 18 of 20' } }))).toEqual({
      name: 'lesion_map', channels: 5, height: 128, width: 128, threshold: 0.35, volumeWithheld: null,
    });
    expect(lesionMapOutput(withMap({ volume: { shown: false, measured: 'within 25 % or 2 mL on 3 of 20' } }))!.volumeWithheld).toBe(
      "no volume estimate: this network's estimates came within 25 % or 2 mL on 3 of 20",
    );
    expect(lesionMapOutput(withMap({}))).toMatchObject({ threshold: 0.5, volumeWithheld: 'no volume estimate: its accuracy was never measured' });
  });

  it('refuses a map that is not one channel per subtype, or that does not divide the slice', () => {
    expect(() => lesionMapOutput(withMap({ shape: ['N', 6, 128, 128] }))).toThrow(/one channel per subtype/);
    expect(() => lesionMapOutput(withMap({ labels: ['subdural', 'epidural', 'intraparenchymal', 'intraventricular', 'subarachnoid'] }))).toThrow(/in label order/);
    expect(() => lesionMapOutput(withMap({ shape: ['N', 5, 'H', 'W'] }))).toThrow(/fixed sizes/);
  });

  it('reads a stride-2 map (256×256) as it reads the shipped stride-4 one, and refuses a stride its size contradicts', () => {
    expect(lesionMapOutput(withMap({ shape: ['N', 5, 256, 256], stride: 2, threshold: 0.4 }))).toEqual({
      name: 'lesion_map', channels: 5, height: 256, width: 256, threshold: 0.4, volumeWithheld: 'no volume estimate: its accuracy was never measured',
    });
    expect(lesionMapOutput(withMap({ stride: 4 }))).toMatchObject({ height: 128, width: 128 });
    expect(() => lesionMapOutput(withMap({ shape: ['N', 5, 128, 128], stride: 2 }))).toThrow(/declares stride 2, but 128×128 on the 512×512 slice is stride 4/);
    expect(() => lesionMapOutput(withMap({ shape: ['N', 5, 256, 256], stride: 4 }))).toThrow(/declares stride 4/);
    expect(() => lesionMapOutput(withMap({ shape: ['N', 5, 256, 256], stride: '2' }))).toThrow(/declares stride 2/);
  });
});
