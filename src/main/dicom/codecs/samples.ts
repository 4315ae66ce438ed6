/**
 * Views a codec's little-endian output bytes as samples (WebAssembly memory is little-endian).
 */
export function samplesFromBytes(bytes: Uint8Array, bitsPerSample: number, signed: boolean): Uint8Array | Int8Array | Uint16Array | Int16Array {
  if (bitsPerSample <= 8) {
    return signed ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
  }
  // `bytes` is a fresh copy (see wasm-module.ts), so its offset is 0 and aligned.
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  const n = aligned.byteLength >> 1;
  return signed ? new Int16Array(aligned.buffer, aligned.byteOffset, n) : new Uint16Array(aligned.buffer, aligned.byteOffset, n);
}
