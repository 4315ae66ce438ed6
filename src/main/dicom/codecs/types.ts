/**
 * Types shared by the pool (main thread), the worker and the codecs.
 */

/** What the DICOM header says about one frame (PS3.3 C.7.6.3, Image Pixel module). */
export interface FrameDescription {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: 0 | 1;
  samplesPerPixel: number;
}

/** Stored values of one frame, rows × columns samples, before Modality LUT / rescale. */
export type StoredPixels = Int16Array | Uint16Array | Uint8Array;

/** What a codec hands back: samples as the codestream holds them, plus its own header. */
export interface CodecOutput {
  /** One sample per pixel (we only decode monochrome); 8- or 16-bit, signed or not. */
  samples: Uint8Array | Int8Array | Uint16Array | Int16Array;
  width: number;
  height: number;
  components: number;
}

export interface Codec {
  /** Human name used in error messages, e.g. "JPEG 2000". */
  readonly label: string;
  decode(frame: Uint8Array, desc: FrameDescription, limits: DecodeLimits): Promise<CodecOutput>;
}

export interface DecodeLimits {
  /** Largest WebAssembly memory / output buffer a decode may use, in bytes. */
  memoryBytes: number;
}

export class DecodeError extends Error {
  /** One line, suitable for a quarantine reason. */
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    const oneLine = reason.replace(/\s+/g, ' ').trim().slice(0, 300);
    super(oneLine, options);
    this.name = 'DecodeError';
    this.reason = oneLine;
  }
}
