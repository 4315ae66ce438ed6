/**
 * The lesion-map network through the app, on phantom slices and the repository's shipped file:
 * each slice's map is run once and stored, the viewer's slice carries it, the study gets a volume
 * estimate made by the volume rule from exactly those maps, and a manifest that declares a map
 * the app cannot place is refused with its reason. A stride-2 network (256×256 maps, exported by
 * the training code with untrained weights) goes the same way: worker, store, slice, volume.
 */
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TriageApiImpl } from '../../../src/main/api/index.js';
import { compose } from '../../../src/main/core.js';
import { OnnxSeriesScorer } from '../../../src/main/inference/scorer.js';
import { studyVolume } from '../../../src/main/triage/index.js';
import { phantomSlices, pythonJson, REPO_ROOT, tempDir } from '../../helpers.js';

const dir = tempDir('triage-lesion-');
afterAll(() => dir.cleanup());

interface ManifestModel {
  id: string;
  files: { path: string; sha256: string }[];
  outputs?: Record<string, { shape: (string | number)[]; kind?: string; threshold?: number; volume?: { shown: boolean } }>;
}
const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'manifest.json'), 'utf8')) as { models: ManifestModel[] };
const lesion = manifest.models.find((m) => Object.values(m.outputs ?? {}).some((o) => o.kind === 'lesion-map'));

function modelsDir(name: string, entry: ManifestModel): string {
  const out = join(dir.path, name);
  for (const f of entry.files) {
    mkdirSync(join(out, f.path, '..'), { recursive: true });
    copyFileSync(join(REPO_ROOT, 'models', f.path), join(out, f.path));
  }
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ models: [entry], ensembles: [] }));
  return out;
}

const inbox = join(dir.path, 'inbox');
beforeAll(() => {
  mkdirSync(inbox);
  phantomSlices(inbox, 4, 6);
});

describe.runIf(lesion)('the lesion-map network in the app', () => {
  it('stores every slice its map once, serves it with the slice, and sums the volume from those maps', async () => {
    const core = compose({ dataDir: join(dir.path, 'data'), settleMs: 0 });
    const scorer = await OnnxSeriesScorer.create({ store: core.store, dataDir: core.dataDir, modelsDir: modelsDir('ok', lesion!) });
    expect(scorer!.modelStates()).toEqual([expect.objectContaining({ modelId: lesion!.id, status: 'loaded' })]);
    core.attachScorer(scorer!);
    await core.importFolder(inbox);
    const [row] = core.worklist();
    expect(row!.state).toBe('scored');
    const api = new TriageApiImpl(core);
    const detail = await api.study({ studyUid: row!.studyUid });
    const slices = detail.series[0]!.slices;
    expect(slices).toHaveLength(6);
    // Its probabilities are its maps' maxima: kept (they spare a rerun), but not shown as a classifier's.
    expect(core.store.predictions.forViewer(row!.studyUid).map((p) => p.modelId)).toEqual([lesion!.id]);
    expect(detail.predictions).toEqual([]);
    expect(detail.scores).toEqual([]);
    for (const s of slices) {
      const got = await api.slice({ instanceId: s.instanceId });
      expect(got.lesionMap).toMatchObject({ modelId: lesion!.id, labels: ['epidural', 'intraparenchymal', 'intraventricular', 'subarachnoid', 'subdural'], height: 128, width: 128 });
      expect(Buffer.from(got.lesionMap!.base64, 'base64').length).toBe(5 * 128 * 128);
    }
    const maps = core.store.lesionMaps.ofStudy(row!.studyUid, lesion!.id, { withReceiving: false });
    expect(maps).toHaveLength(6);
    const declared = Object.values(lesion!.outputs!).find((o) => o.kind === 'lesion-map')!;
    const list = await api.worklist({});
    if (declared.volume?.shown) {
      // The volume is the rule applied to exactly the stored maps, on the series read.
      const expected = studyVolume(maps, declared.threshold!)!;
      expect(expected).not.toBeNull();
      expect(detail.volume).toMatchObject({ modelId: lesion!.id, totalMl: expected.totalMl, subtypes: expected.subtypes, slices: 6, provisional: false });
      expect(list.rows[0]!.volumeMl).toBe(expected.totalMl);
    } else {
      // Its volumes missed on held-out studies: none is stored or shown, and the map says why.
      expect(detail.volume).toBeNull();
      expect(list.rows[0]!.volumeMl).toBeNull();
      expect((await api.slice({ instanceId: slices[0]!.instanceId })).lesionMap!.volumeWithheld).toMatch(/^no volume estimate: this network's estimates came within 25 % or 2 mL/);
    }
    // scored again by the same file: nothing runs again, the maps stay
    const before = core.store.lesionMaps.ofInstance(slices[0]!.instanceId)!;
    await scorer!.scoreSeries(detail.series[0]!.seriesUid);
    expect(Buffer.from(core.store.lesionMaps.ofInstance(slices[0]!.instanceId)!.data).equals(Buffer.from(before.data))).toBe(true);
    await core.stop();
  }, 300_000);

  it('refuses a model whose declared map the app cannot place on the slice, with the reason', async () => {
    const wrong = structuredClone(lesion!);
    const out = Object.values(wrong.outputs!).find((o) => o.kind === 'lesion-map')!;
    out.shape = ['N', 5, 100, 100];
    const core = compose({ dataDir: join(dir.path, 'data-wrong'), settleMs: 0 });
    const scorer = await OnnxSeriesScorer.create({ store: core.store, dataDir: core.dataDir, modelsDir: modelsDir('wrong', wrong) });
    expect(scorer!.modelStates()[0]).toMatchObject({ status: 'refused', reason: expect.stringMatching(/100×100; it must divide the 512×512 slice/) });
    await core.stop();
  });
});

describe('a stride-2 lesion-map network in the app', () => {
  it('stores its 256×256 maps, serves them with the slice and sums the volume from them', async () => {
    // the training code's export of an untrained stride-2 network and its manifest row's declaration
    const out = join(dir.path, 'stride2');
    const made = pythonJson<{ files: { path: string; sha256: string }[]; lesion_map: { shape: (string | number)[]; stride: number } }>(
      `import json, sys, tempfile
from pathlib import Path
import torch
from models.training import lesion_unet as lu
from models.training.engine import save_checkpoint
from models.training.onnx_export import file_entries
d = json.load(sys.stdin)
torch.manual_seed(0)
with tempfile.TemporaryDirectory() as tmp:
    ck = Path(tmp) / 'best.pt'
    save_checkpoint(ck, model=lu.LesionUNet(map_stride=2).state_dict(), state={'step': 0, 'map_stride': 2})
    graph = Path(d['out']) / lu.MODEL_ID / 'lesion_unet.onnx'
    done = lu.export(str(ck), graph)
print(json.dumps({'files': file_entries(lu.MODEL_ID, [Path(f) for f in done['files']], graph, 'float16', ['cuda', 'cpu']),
                  'lesion_map': lu.lesion_map_output(done['map_stride'])}))`,
      { out },
    );
    expect(made.lesion_map).toMatchObject({ shape: ['N', 5, 256, 256], stride: 2 });
    const entry = {
      id: 'lesion_unet', version: 'stride2-test', files: made.files,
      labels: ['any', 'epidural', 'intraparenchymal', 'intraventricular', 'subarachnoid', 'subdural'],
      inputs: { hu: { dtype: 'float32', shape: ['N', 1, 512, 512] }, window: { dtype: 'float32', shape: ['N', 2] } },
      outputs: { probabilities: { dtype: 'float32', shape: ['N', 6] }, lesion_map: { ...made.lesion_map, threshold: 0.5, volume: { shown: true, measured: 'as a test policy' } } },
    };
    writeFileSync(join(out, 'manifest.json'), JSON.stringify({ models: [entry], ensembles: [] }));
    const core = compose({ dataDir: join(dir.path, 'data-stride2'), settleMs: 0, modelsDir: out });
    const scorer = await OnnxSeriesScorer.create({ store: core.store, dataDir: core.dataDir, modelsDir: out });
    expect(scorer!.modelStates()).toEqual([expect.objectContaining({ modelId: 'lesion_unet', status: 'loaded' })]);
    core.attachScorer(scorer!);
    await core.importFolder(inbox);
    const [row] = core.worklist();
    const api = new TriageApiImpl(core);
    const detail = await api.study({ studyUid: row!.studyUid });
    const slices = detail.series[0]!.slices;
    for (const s of slices) {
      const got = await api.slice({ instanceId: s.instanceId });
      expect(got.lesionMap).toMatchObject({ modelId: 'lesion_unet', height: 256, width: 256, volumeWithheld: null });
      expect(Buffer.from(got.lesionMap!.base64, 'base64').length).toBe(5 * 256 * 256);
    }
    const maps = core.store.lesionMaps.ofStudy(row!.studyUid, 'lesion_unet', { withReceiving: false });
    expect(maps).toHaveLength(slices.length);
    expect(maps.every((m) => m.height === 256 && m.width === 256 && m.data.length === 5 * 256 * 256)).toBe(true);
    const expected = studyVolume(maps, 0.5);
    expect(expected).not.toBeNull();
    expect(detail.volume).toMatchObject({ modelId: 'lesion_unet', totalMl: expected!.totalMl, slices: slices.length });
    await core.stop();
  }, 300_000);
});
