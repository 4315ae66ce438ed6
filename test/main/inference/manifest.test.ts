/**
 * Which ONNX graph each execution provider loads: the manifest names a file per provider (an int8
 * file for the CPU where one was adopted, the float file for CUDA), and the worker loads it or
 * says why not.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compose } from '../../../src/main/core.js';
import { graphFor, type ModelEntry } from '../../../src/main/inference/manifest.js';
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
