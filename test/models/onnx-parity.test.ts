/**
 * ONNX parity: every model in models/manifest.json is (1) byte-for-byte the file the manifest
 * names (sha256 of the .onnx and of each external-data shard), and (2) numerically the PyTorch
 * code it was exported from — onnxruntime-node (the app's runtime, CPU provider) and PyTorch
 * (models/training/onnx_validate.py, same fp16-stored weights read back from the file) get the
 * same bytes from two real CT slices and must agree within 1e-4 on every probability.
 *
 * Inputs come from a small Python helper (models/training/dicom_to_raw.py: pydicom -> HU and the
 * slice's window, the reader training uses) so both sides see identical float32 arrays.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phantomSlices } from '../helpers.js';
import { REFERENCE_INPUT_NAME, referenceInput } from './reference-input.js';

interface ManifestFile {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly role: 'model' | 'external-data';
  readonly precision?: string;
  readonly providers?: readonly string[];
}

/** What quantize.py recorded: onnxruntime's probabilities on the fixed synthetic head. */
interface Int8Record {
  readonly file: string;
  readonly reference: { readonly input: string; readonly float: number[][]; readonly int8: number[][] };
}

interface ManifestModel {
  readonly id: string;
  readonly file: string;
  readonly files: readonly ManifestFile[];
  readonly labels: readonly string[];
  readonly thresholds: Readonly<Record<string, number>>;
  readonly int8?: Int8Record;
  readonly outputs?: Readonly<Record<string, { readonly kind?: string }>>;
}

interface Manifest {
  readonly labels: readonly string[];
  readonly models: readonly ManifestModel[];
  readonly ensembles: readonly { id: string; members: readonly string[]; rule: string; weights: readonly number[] }[];
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sharedDir = path.resolve(repoRoot, '..', 'shared');
const modelsDir = path.join(repoRoot, 'models');
const python = process.env.PYTHON ?? '/usr/bin/python3';
const manifest = JSON.parse(readFileSync(path.join(modelsDir, 'manifest.json'), 'utf8')) as Manifest;
const contract = JSON.parse(readFileSync(path.join(repoRoot, 'src', 'shared', 'model-contract.json'), 'utf8')) as {
  labels: string[];
};

let SLICES = [
  path.join(sharedDir, 'dicom-corpus', 'dicom-parser', 'CT1_UNC.explicit_little_endian.dcm'),
  path.join(sharedDir, 'dicom-corpus', 'cornerstone-wado-image-loader', 'CTImage.dcm'),
];
const SIZE = 512;
const TOLERANCE = 1e-4;
/** onnxruntime-node against onnxruntime (Python) on the same int8 file: integer kernels differ
 * between CPUs, and the differences grow through a deep network. The reference was recorded on an
 * AMD EPYC (Zen 4); on an Intel Xeon with AVX512-VNNI the int8 Inception-ResNet-V2 differs from
 * it by up to 0.012 on the reference head. The file's sha256 (manifest test) pins what runs; this
 * bound catches a runtime that computes something else. */
const INT8_RUNTIME_TOLERANCE = 0.025;
/**
 * The int8 file against its float file on the synthetic head: the quantisation error itself. The
 * head is far from the phantom slices the activation ranges were calibrated on, so probabilities
 * move more there (Inception-ResNet-V2: up to 0.052) than the held-out cost says (0.003 mean
 * ROC-AUC, in the card); a broken quantisation moves them much further.
 */
const INT8_FLOAT_TOLERANCE = 0.1;

function floatGraph(model: ManifestModel): ManifestFile | undefined {
  return model.files.find((f) => f.role === 'model' && f.precision !== 'int8');
}

function runPython(args: readonly string[]): string {
  const r = spawnSync(python, args, { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    throw new Error(`${python} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  }
  return r.stdout;
}

function readFloat32(file: string): Float32Array<ArrayBuffer> {
  const buf = readFileSync(file);
  // Copy into a fresh, aligned buffer: Node's Buffer pool does not guarantee 4-byte alignment.
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

let work = '';
let hu: Float32Array<ArrayBuffer> = new Float32Array(0);
let windows: Float32Array<ArrayBuffer> = new Float32Array(0);

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'onnx-parity-'));
  // Without the shared corpus (a fresh clone), two phantom head-CT slices made now stand in.
  if (!existsSync(SLICES[0]!)) SLICES = phantomSlices(path.join(work, 'ph'), 81, 4).slice(1, 3);
  runPython(['-m', 'models.training.dicom_to_raw', '--out', work, ...SLICES]);
  hu = readFloat32(path.join(work, 'hu.f32'));
  windows = readFloat32(path.join(work, 'window.f32'));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('models/manifest.json', () => {
  it('lists models in the contract label order, and an ensemble of listed models', () => {
    expect(manifest.models.length).toBeGreaterThan(0);
    expect(manifest.labels).toEqual(contract.labels);
    for (const m of manifest.models) expect(m.labels).toEqual(contract.labels);
    const ids = new Set(manifest.models.map((m) => m.id));
    for (const e of manifest.ensembles) {
      expect(e.rule).toBe('mean');
      expect(e.members.length).toBe(e.weights.length);
      for (const member of e.members) expect(ids.has(member)).toBe(true);
    }
  });
});

describe('the synthetic head the int8 references were recorded on', () => {
  it('is the same bytes in TypeScript as in models/training/reference_input.py', () => {
    const file = path.join(work, 'reference-hu.f32');
    runPython(['-c', `from models.training.reference_input import reference_input; reference_input()[0].astype('<f4').tofile(${JSON.stringify(file)})`]);
    const ref = referenceInput();
    expect(Buffer.compare(readFileSync(file), Buffer.from(ref.hu.buffer))).toBe(0);
  });
});

describe.each(manifest.models.map((m) => [m.id, m] as const))('model %s', (_id, model) => {
  it('has files whose sha256 match the manifest, none over 50 MB', () => {
    expect(model.files.some((f) => f.path === model.file && f.role === 'model')).toBe(true);
    for (const f of model.files) {
      const file = path.join(modelsDir, f.path);
      expect(sha256(file), f.path).toBe(f.sha256);
      expect(readFileSync(file).byteLength).toBe(f.bytes);
      expect(f.bytes).toBeLessThan(50 * 1024 * 1024);
    }
  });

  const floatFile = floatGraph(model);
  it.runIf(floatFile !== undefined)(
    'gives the same probabilities in onnxruntime-node as in PyTorch on two CT slices',
    async () => {
      const file = floatFile!.path;
      const n = SLICES.length;
      expect(hu.length).toBe(n * SIZE * SIZE);
      const session = await ort.InferenceSession.create(path.join(modelsDir, file), {
        executionProviders: ['cpu'],
      });
      expect([...session.inputNames].sort()).toEqual(['hu', 'window']);
      expect(session.outputNames).toContain('probabilities');
      const result = await session.run({
        hu: new ort.Tensor('float32', hu, [n, 1, SIZE, SIZE]),
        window: new ort.Tensor('float32', windows, [n, 2]),
      });
      const probabilities = result.probabilities;
      expect(probabilities?.dims).toEqual([n, 6]);
      const onnxOut = probabilities?.data as Float32Array;

      const torchFile = path.join(work, `${model.id}.torch.f32`);
      runPython([
        '-m', 'models.training.onnx_validate', '--model', model.id,
        '--onnx', path.join(modelsDir, file),
        '--hu', path.join(work, 'hu.f32'), '--window', path.join(work, 'window.f32'), '--out', torchFile,
      ]);
      const torchOut = readFloat32(torchFile);
      expect(torchOut.length).toBe(n * 6);
      let worst = 0;
      for (let i = 0; i < torchOut.length; i++) {
        const a = onnxOut[i] as number;
        expect(Number.isFinite(a)).toBe(true);
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThanOrEqual(1);
        worst = Math.max(worst, Math.abs(a - (torchOut[i] as number)));
      }
      expect(worst).toBeLessThanOrEqual(TOLERANCE);
      // A declared lesion map is the same graph's other output: held to the training code too.
      const mapName = Object.entries(model.outputs ?? {}).find(([, o]) => o.kind === 'lesion-map')?.[0];
      if (mapName) {
        const mapFile = path.join(work, `${model.id}.map.f32`);
        runPython([
          '-m', 'models.training.onnx_validate', '--model', model.id, '--onnx', path.join(modelsDir, file),
          '--hu', path.join(work, 'hu.f32'), '--window', path.join(work, 'window.f32'), '--out-map', mapFile,
        ]);
        const torchMap = readFloat32(mapFile);
        const onnxMap = result[mapName]!.data as Float32Array;
        expect(onnxMap.length).toBe(torchMap.length);
        let worstMap = 0;
        for (let i = 0; i < torchMap.length; i++) worstMap = Math.max(worstMap, Math.abs(onnxMap[i]! - torchMap[i]!));
        expect(worstMap).toBeLessThanOrEqual(TOLERANCE);
      }
      await session.release();
    },
    600_000,
  );

  it.runIf(model.int8 !== undefined)(
    'runs its int8 file in onnxruntime-node as onnxruntime did at quantisation, close to the float network',
    async () => {
      const q = model.int8!;
      expect(q.reference.input).toBe(REFERENCE_INPUT_NAME);
      expect(model.files.find((f) => f.path === q.file)?.precision).toBe('int8');
      const ref = referenceInput();
      const session = await ort.InferenceSession.create(path.join(modelsDir, q.file), { executionProviders: ['cpu'] });
      const result = await session.run({
        hu: new ort.Tensor('float32', ref.hu, [ref.count, 1, SIZE, SIZE]),
        window: new ort.Tensor('float32', ref.window, [ref.count, 2]),
      });
      const out = result.probabilities?.data as Float32Array;
      expect(out.length).toBe(ref.count * 6);
      let runtime = 0;
      let quantisation = 0;
      for (let k = 0; k < ref.count; k++) {
        for (let j = 0; j < 6; j++) {
          const a = out[k * 6 + j] as number;
          runtime = Math.max(runtime, Math.abs(a - q.reference.int8[k]![j]!));
          quantisation = Math.max(quantisation, Math.abs(a - q.reference.float[k]![j]!));
        }
      }
      expect(runtime).toBeLessThanOrEqual(INT8_RUNTIME_TOLERANCE);
      expect(quantisation).toBeLessThanOrEqual(INT8_FLOAT_TOLERANCE);
      await session.release();
    },
    300_000,
  );
});
