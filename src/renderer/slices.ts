/** Slice pixels: fetched through the API, decoded, cached (least recently used). */
import type { TriageApi } from '../shared/api.js';

export interface HuSlice {
  instanceId: number;
  rows: number;
  columns: number;
  hu: Int16Array;
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
    const p = this.api.slice({ instanceId }).then((r) => ({ instanceId: r.instanceId, rows: r.rows, columns: r.columns, hu: decodeInt16(r.huBase64) }));
    p.catch(() => this.cache.delete(instanceId));
    this.cache.set(instanceId, p);
    while (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value as number);
    return p;
  }
}

/** Base64 → little-endian int16 (the slice store's format). */
export function decodeInt16(b64: string): Int16Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  const out = new Int16Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}
