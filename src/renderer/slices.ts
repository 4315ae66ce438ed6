/** Slice pixels: fetched through the API, decoded, cached (least recently used). */
import type { SliceResponse, TriageApi } from '../shared/api.js';

export interface HuSlice {
  instanceId: number;
  rows: number;
  columns: number;
  hu: Int16Array;
  /** A localisation network's map of this slice, when one has run on it. */
  lesionMap: LesionMapPixels | null;
}

/** One map per subtype (labels), height×width bytes each: a map pixel's probability ×255. */
export interface LesionMapPixels {
  modelId: string;
  labels: string[];
  height: number;
  width: number;
  threshold: number;
  /** Null when the study's volume comes from this map; else why no volume is shown. */
  volumeWithheld: string | null;
  data: Uint8Array;
}

const MAX_CACHED = 96; // 96 × 512 KiB ≈ 48 MiB

export class SliceCache {
  private readonly cache = new Map<number, Promise<HuSlice>>();
  constructor(private readonly api: TriageApi) {}

  get(instanceId: number): Promise<HuSlice> {
    const hit = this.cache.get(instanceId);
    if (hit) {
      this.cache.delete(instanceId);
      this.cache.set(instanceId, hit);
      return hit;
    }
    const p = this.api.slice({ instanceId }).then((r) => ({
      instanceId: r.instanceId,
      rows: r.rows,
      columns: r.columns,
      hu: decodeInt16(r.huBase64),
      lesionMap: r.lesionMap ? lesionPixels(r.lesionMap) : null,
    }));
    p.catch(() => this.cache.delete(instanceId));
    this.cache.set(instanceId, p);
    while (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value as number);
    return p;
  }
}

function lesionPixels(m: NonNullable<SliceResponse['lesionMap']>): LesionMapPixels {
  const { modelId, labels, height, width, threshold, volumeWithheld } = m;
  const data = decodeBytes(m.base64);
  if (data.length !== labels.length * height * width) throw new Error(`lesion map of ${modelId}: ${data.length} bytes for ${labels.length}×${height}×${width}`);
  return { modelId, labels, height, width, threshold, volumeWithheld, data };
}

/** Base64 → bytes. */
export function decodeBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Base64 → little-endian int16 (the slice store's format). */
export function decodeInt16(b64: string): Int16Array {
  const bytes = decodeBytes(b64);
  const view = new DataView(bytes.buffer);
  const out = new Int16Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}
