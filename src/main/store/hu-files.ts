/**
 * The core's own copy of each slice's pixels: HU as little-endian int16, 512×512, in a
 * content-addressed file `hu/<aa>/<sha256>.i16` under the data folder, or, when several
 * workstations share one PostgreSQL database, under the folder they share (`--shared-dir`), so
 * that each reads the slices another received. Content addressing makes several writers of the
 * same slice agree: the name is the pixels' hash, and a file appears whole (rename) or not at all.
 *
 * Why a copy: moving or deleting the import folder's files is not the core's business, yet
 * inference, the viewer and re-scoring need the pixels later; decoding the DICOM again would do
 * the work twice. Why int16: HU are integers on every scanner we know of after rescale (a
 * fractional slope still gives sub-HU detail no window shows), and int16 halves the disk use of
 * float32. Values are rounded to the nearest HU and clamped to the int16 range.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';

export function huToInt16(hu: Float32Array): Int16Array {
  const out = new Int16Array(hu.length);
  for (let i = 0; i < hu.length; i++) {
    const v = Math.round(hu[i]!);
    out[i] = v < -32768 ? -32768 : v > 32767 ? 32767 : v;
  }
  return out;
}

function bytesOf(values: Int16Array): Uint8Array {
  // Int16Array is little-endian on every platform Electron ships for (x64, arm64).
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function pixelSha256(values: Int16Array): string {
  return createHash('sha256').update(bytesOf(values)).digest('hex');
}

export function huRelativePath(sha256: string): string {
  return join('hu', sha256.slice(0, 2), `${sha256}.i16`);
}

/** Writes the file durably (temp name, fsync, rename) unless it already exists. */
export function writeHuFile(dataDir: string, sha256: string, values: Int16Array): string {
  const rel = huRelativePath(sha256);
  const full = join(dataDir, rel);
  if (existsSync(full)) return rel;
  mkdirSync(dirname(full), { recursive: true });
  // Host and process in the temp name: writers on several machines may share the folder.
  const tmp = `${full}.${hostname()}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, bytesOf(values));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, full);
  return rel;
}

/**
 * Removes HU temp files that no writer will finish: `<sha>.i16.<host>.<pid>.tmp` left by a process killed
 * between its write and its rename. Only files older than `olderThanMs` go, so a second process
 * writing into the same data folder right now keeps its own. Returns how many were removed.
 */
export function sweepHuTemps(dataDir: string, olderThanMs = 60_000, now = Date.now()): number {
  const root = join(dataDir, 'hu');
  if (!existsSync(root)) return 0;
  let removed = 0;
  for (const sub of readdirSync(root, { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    const folder = join(root, sub.name);
    for (const name of readdirSync(folder)) {
      if (!name.endsWith('.tmp')) continue;
      const full = join(folder, name);
      try {
        if (now - statSync(full).mtimeMs >= olderThanMs) {
          unlinkSync(full);
          removed++;
        }
      } catch {
        // Renamed or removed by its writer meanwhile: nothing to sweep.
      }
    }
  }
  return removed;
}

export function readHuFile(dataDir: string, rel: string): Int16Array {
  const buf = readFileSync(join(dataDir, rel));
  const copy = new Int16Array(buf.byteLength / 2);
  new Uint8Array(copy.buffer).set(buf);
  return copy;
}
