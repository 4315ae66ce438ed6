/**
 * DICOM decode to Hounsfield slices with the app's reader (readSlice, src/main/dicom): file
 * bytes already in memory → a validated 512×512 float32 HU slice, as the ingest stage calls it
 * (native transfer syntaxes need no codec; the phantom writes explicit VR little endian).
 *
 * Input: the study's files, repetitions. Output: seconds per pass over all files (after one
 * warm-up pass), and the HU slices of the first pass for the model benchmarks' input files.
 */
import { readFileSync } from 'node:fs';
import { readSlice, type HuSlice } from '../src/main/dicom/index.js';

export interface DecodeBench {
  slices: number;
  passSeconds: number[];
}

export async function benchDecode(files: string[], reps: number): Promise<{ result: DecodeBench; slices: HuSlice[] }> {
  const blobs = files.map((f) => new Uint8Array(readFileSync(f)));
  const slices: HuSlice[] = [];
  for (const b of blobs) slices.push(await readSlice(b)); // warm-up pass: JIT, lazy imports
  const passSeconds: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    for (const b of blobs) await readSlice(b);
    passSeconds.push((performance.now() - t) / 1000);
  }
  return { result: { slices: blobs.length, passSeconds }, slices };
}
