/**
 * models/manifest.json — the single source of truth for the models the app runs (STYLE.md
 * habit 5). Python writes it at export; this module reads and validates it. A missing manifest
 * or one with no models is not an error: ready series then wait as "awaiting model".
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SUBTYPES } from '../../shared/labels.js';
import contract from '../../shared/model-contract.json' with { type: 'json' };

const INPUT_SIZE = contract.inputSize;

const FileEntry = z.object({
  path: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** 'model' for an ONNX graph, 'external-data' for a weight shard beside it. */
  role: z.enum(['model', 'external-data']).optional(),
  /** 'float16' (stored float16, computed float32) or 'int8' (quantised). */
  precision: z.string().optional(),
  /** Execution providers this graph is for; absent: every provider. */
  providers: z.array(z.string()).optional(),
});
export type ManifestFile = z.infer<typeof FileEntry>;

/** An output a model declares: the contract's `probabilities`, or an extra one (ARCHITECTURE.md). */
const OutputEntry = z
  .object({
    dtype: z.string(),
    shape: z.array(z.union([z.string(), z.number().int().positive()])),
    /** 'lesion-map': a map per subtype over the slice, [N, subtypes, height, width], probabilities. */
    kind: z.string().optional(),
    /** The map's channels, in label order. */
    labels: z.array(z.string()).optional(),
    /** The probability at which a map pixel counts as lesion (the volume estimate's rule). */
    threshold: z.number().min(0).max(1).optional(),
    /** Whether the app shows volume estimates from this map, and the held-out measurement that decided it. */
    volume: z.object({ shown: z.boolean(), measured: z.string() }).passthrough().optional(),
  })
  .passthrough();

export const ModelEntrySchema = z
  .object({
    id: z.string().min(1),
    version: z.string().or(z.number()).transform(String),
    architecture: z.string().optional(),
    files: z.array(FileEntry).min(1),
    labels: z.array(z.string()).optional(),
    thresholds: z.record(z.string(), z.number()).optional(),
    outputs: z.record(z.string(), OutputEntry).optional(),
  })
  .passthrough();

export const EnsembleEntrySchema = z
  .object({
    id: z.string().min(1),
    members: z.array(z.string()).min(1),
    rule: z.literal('mean'),
    weights: z.array(z.number()).optional(),
    thresholds: z.record(z.string(), z.number()).optional(),
  })
  .passthrough();

export const ManifestSchema = z
  .object({
    labels: z.array(z.string()).optional(),
    models: z.array(ModelEntrySchema).default([]),
    ensembles: z.array(EnsembleEntrySchema).default([]),
  })
  .passthrough();

export type Manifest = z.infer<typeof ManifestSchema>;
export type ModelEntry = z.infer<typeof ModelEntrySchema>;

const here = dirname(fileURLToPath(import.meta.url));
/** The repository's (or the packaged app's) models folder. */
export const DEFAULT_MODELS_DIR = resolve(here, '..', '..', '..', 'models');

/** A file's role; manifests written before roles were recorded: an .onnx file is a graph. */
function roleOf(f: ManifestFile): 'model' | 'external-data' {
  return f.role ?? (f.path.endsWith('.onnx') ? 'model' : 'external-data');
}

/**
 * The ONNX graph each execution provider loads: the model row listing that provider (an int8 file
 * for the CPU, a float file for CUDA), else a model row that names no providers.
 */
export function graphFor(model: ModelEntry, provider: string): ManifestFile | undefined {
  const graphs = model.files.filter((f) => roleOf(f) === 'model');
  return graphs.find((f) => f.providers?.includes(provider)) ?? graphs.find((f) => !f.providers);
}

/**
 * What makes a model's answers on a provider: the graph it runs there and every non-graph file
 * (external weights), as one sha256. Stored with each prediction so that a slice is run again only
 * when that changes.
 */
export function modelFingerprint(model: ModelEntry, provider: string): string | null {
  const graph = graphFor(model, provider);
  if (!graph) return null;
  const weights = model.files.filter((f) => roleOf(f) === 'external-data');
  const hash = createHash('sha256');
  for (const f of [graph, ...weights]) hash.update(`${f.path}:${f.sha256}\n`);
  return hash.digest('hex');
}

/** A model's lesion-map output, as the worker reads it and the store keeps it. */
export interface LesionMapOutput {
  name: string;
  channels: number;
  height: number;
  width: number;
  threshold: number;
  /** Null when the app shows this map's volume estimates; else why it does not. */
  volumeWithheld: string | null;
}

/**
 * The model's declared lesion-map output, if any. Its channels must be the subtypes in label order
 * and its size fixed: a map the app cannot place on the slice is refused with the model, not drawn
 * wrongly.
 */
export function lesionMapOutput(model: ModelEntry): LesionMapOutput | undefined {
  const found = Object.entries(model.outputs ?? {}).filter(([, o]) => o.kind === 'lesion-map');
  if (!found.length) return undefined;
  if (found.length > 1) throw new Error(`${model.id}: more than one lesion-map output (${found.map(([n]) => n).join(', ')})`);
  const [name, out] = found[0]!;
  const [, channels, height, width] = out.shape;
  if (out.shape.length !== 4 || typeof channels !== 'number' || typeof height !== 'number' || typeof width !== 'number') {
    throw new Error(`${model.id}: lesion map '${name}' must have the shape [N, subtypes, height, width] with fixed sizes`);
  }
  if (channels !== SUBTYPES.length || (out.labels && out.labels.join() !== SUBTYPES.join())) {
    throw new Error(`${model.id}: lesion map '${name}' must have one channel per subtype, in label order (${SUBTYPES.join(', ')})`);
  }
  if (INPUT_SIZE % height || INPUT_SIZE % width) {
    throw new Error(`${model.id}: lesion map '${name}' is ${height}×${width}; it must divide the ${INPUT_SIZE}×${INPUT_SIZE} slice evenly`);
  }
  // A map pixel's size on the slice comes from the map's size (the volume rule: 512 / height, 4 at
  // 128×128, 2 at 256×256); a declared stride that says otherwise is a manifest that contradicts itself.
  const stride = (out as { stride?: unknown }).stride;
  if (stride !== undefined && (stride !== INPUT_SIZE / height || stride !== INPUT_SIZE / width)) {
    throw new Error(`${model.id}: lesion map '${name}' declares stride ${String(stride)}, but ${height}×${width} on the ${INPUT_SIZE}×${INPUT_SIZE} slice is stride ${INPUT_SIZE / height}`);
  }
  // A volume is shown only when the manifest records that it was measured and met its bar: a number
  // known to miss (or never checked) would mislead a reader more than no number.
  const volumeWithheld = out.volume?.shown
    ? null
    : `no volume estimate: ${out.volume ? `this network's estimates came ${out.volume.measured}` : 'its accuracy was never measured'}`;
  return { name, channels, height, width, threshold: out.threshold ?? 0.5, volumeWithheld };
}

/**
 * The manifest's models that declare a lesion map, each with its map, or the reason the app cannot
 * place it (such a model is refused when it loads; it is no classifier either way).
 */
export function lesionMapNetworks(manifest: Manifest): Map<string, LesionMapOutput | Error> {
  const out = new Map<string, LesionMapOutput | Error>();
  for (const m of manifest.models) {
    try {
      const map = lesionMapOutput(m);
      if (map) out.set(m.id, map);
    } catch (err) {
      out.set(m.id, err as Error);
    }
  }
  return out;
}

export function loadManifest(modelsDir: string = DEFAULT_MODELS_DIR): Manifest {
  const path = resolve(modelsDir, 'manifest.json');
  if (!existsSync(path)) return { models: [], ensembles: [] };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`${path}: does not match the manifest schema: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
