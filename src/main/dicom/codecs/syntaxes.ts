/**
 * Transfer syntax table (PS3.6 Annex A, PS3.5 §10 and Annex A.4). Pure data: safe to import from
 * the main thread and from the decoder worker.
 *
 * `encapsulated` marks the syntaxes whose Pixel Data is a sequence of fragments (PS3.5 A.4);
 * `codec` names the decoder in ./registry.ts when we have one. An encapsulated syntax without a
 * codec is known (we can name it in an error) but not supported.
 */

export type CodecId = 'jpeg-baseline' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg2000' | 'rle' | 'encapsulated-uncompressed';

export interface TransferSyntaxInfo {
  readonly uid: string;
  readonly name: string;
  readonly encapsulated: boolean;
  readonly codec?: CodecId;
  /** Lossy syntaxes: decoded values only approximate the original stored values. */
  readonly lossy?: boolean;
}

const TABLE: readonly TransferSyntaxInfo[] = [
  // Native (PS3.5 A.1–A.3, A.5 deflate): the lead's reader handles these itself.
  { uid: '1.2.840.10008.1.2', name: 'Implicit VR Little Endian', encapsulated: false },
  { uid: '1.2.840.10008.1.2.1', name: 'Explicit VR Little Endian', encapsulated: false },
  // PS3.5 A.4.11 (2023): native little-endian frames, each in its own fragment.
  { uid: '1.2.840.10008.1.2.1.98', name: 'Encapsulated Uncompressed Explicit VR Little Endian', encapsulated: true, codec: 'encapsulated-uncompressed' },
  { uid: '1.2.840.10008.1.2.1.99', name: 'Deflated Explicit VR Little Endian', encapsulated: false },
  { uid: '1.2.840.10008.1.2.2', name: 'Explicit VR Big Endian', encapsulated: false },
  // JPEG (PS3.5 A.4.1, ISO/IEC 10918-1). Only process 1 (8-bit baseline) and process 14 lossless
  // are decoded: the 12-bit lossy processes need a 12-bit libjpeg build we do not ship.
  { uid: '1.2.840.10008.1.2.4.50', name: 'JPEG Baseline (Process 1)', encapsulated: true, codec: 'jpeg-baseline', lossy: true },
  { uid: '1.2.840.10008.1.2.4.51', name: 'JPEG Extended (Process 2 and 4)', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.52', name: 'JPEG Extended (Process 3 and 5)', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.53', name: 'JPEG Spectral Selection, Non-Hierarchical (Process 6 and 8)', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.54', name: 'JPEG Spectral Selection, Non-Hierarchical (Process 7 and 9)', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.55', name: 'JPEG Full Progression, Non-Hierarchical (Process 10 and 12)', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.56', name: 'JPEG Full Progression, Non-Hierarchical (Process 11 and 13)', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.57', name: 'JPEG Lossless, Non-Hierarchical (Process 14)', encapsulated: true, codec: 'jpeg-lossless' },
  { uid: '1.2.840.10008.1.2.4.58', name: 'JPEG Lossless, Non-Hierarchical (Process 15)', encapsulated: true },
  { uid: '1.2.840.10008.1.2.4.59', name: 'JPEG Extended, Hierarchical (Process 16 and 18)', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.60', name: 'JPEG Extended, Hierarchical (Process 17 and 19)', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.61', name: 'JPEG Spectral Selection, Hierarchical (Process 20 and 22)', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.62', name: 'JPEG Spectral Selection, Hierarchical (Process 21 and 23)', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.63', name: 'JPEG Full Progression, Hierarchical (Process 24 and 26)', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.64', name: 'JPEG Full Progression, Hierarchical (Process 25 and 27)', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.65', name: 'JPEG Lossless, Hierarchical (Process 28)', encapsulated: true },
  { uid: '1.2.840.10008.1.2.4.66', name: 'JPEG Lossless, Hierarchical (Process 29)', encapsulated: true },
  { uid: '1.2.840.10008.1.2.4.70', name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])', encapsulated: true, codec: 'jpeg-lossless' },
  // JPEG-LS (PS3.5 A.4.3, ISO/IEC 14495-1).
  { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS Lossless Image Compression', encapsulated: true, codec: 'jpeg-ls' },
  { uid: '1.2.840.10008.1.2.4.81', name: 'JPEG-LS Lossy (Near-Lossless) Image Compression', encapsulated: true, codec: 'jpeg-ls', lossy: true },
  // JPEG 2000 (PS3.5 A.4.4, ISO/IEC 15444-1).
  { uid: '1.2.840.10008.1.2.4.90', name: 'JPEG 2000 Image Compression (Lossless Only)', encapsulated: true, codec: 'jpeg2000' },
  { uid: '1.2.840.10008.1.2.4.91', name: 'JPEG 2000 Image Compression', encapsulated: true, codec: 'jpeg2000', lossy: true },
  { uid: '1.2.840.10008.1.2.4.92', name: 'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)', encapsulated: true },
  { uid: '1.2.840.10008.1.2.4.93', name: 'JPEG 2000 Part 2 Multi-component Image Compression', encapsulated: true, lossy: true },
  // Video (PS3.5 A.4.5–A.4.7): never a CT slice.
  { uid: '1.2.840.10008.1.2.4.100', name: 'MPEG2 Main Profile / Main Level', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.101', name: 'MPEG2 Main Profile / High Level', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.102', name: 'MPEG-4 AVC/H.264 High Profile / Level 4.1', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.103', name: 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.104', name: 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.105', name: 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.106', name: 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.107', name: 'HEVC/H.265 Main Profile / Level 5.1', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.108', name: 'HEVC/H.265 Main 10 Profile / Level 5.1', encapsulated: true, lossy: true },
  // JPEG XL (PS3.5 A.4.12) and High-Throughput JPEG 2000 (PS3.5 A.4.11).
  { uid: '1.2.840.10008.1.2.4.110', name: 'JPEG XL Lossless', encapsulated: true },
  { uid: '1.2.840.10008.1.2.4.111', name: 'JPEG XL JPEG Recompression', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.112', name: 'JPEG XL', encapsulated: true, lossy: true },
  { uid: '1.2.840.10008.1.2.4.201', name: 'High-Throughput JPEG 2000 Image Compression (Lossless Only)', encapsulated: true },
  { uid: '1.2.840.10008.1.2.4.202', name: 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)', encapsulated: true },
  { uid: '1.2.840.10008.1.2.4.203', name: 'High-Throughput JPEG 2000 Image Compression', encapsulated: true, lossy: true },
  // JPIP referenced syntaxes carry a URL instead of pixel data (PS3.5 A.6): nothing to decode.
  { uid: '1.2.840.10008.1.2.4.94', name: 'JPIP Referenced', encapsulated: false },
  { uid: '1.2.840.10008.1.2.4.95', name: 'JPIP Referenced Deflate', encapsulated: false },
  { uid: '1.2.840.10008.1.2.4.204', name: 'JPIP HTJ2K Referenced', encapsulated: false },
  { uid: '1.2.840.10008.1.2.4.205', name: 'JPIP HTJ2K Referenced Deflate', encapsulated: false },
  // RLE (PS3.5 A.4.2 and Annex G).
  { uid: '1.2.840.10008.1.2.5', name: 'RLE Lossless', encapsulated: true, codec: 'rle' },
  { uid: '1.2.840.10008.1.2.8.1', name: 'Deflated Image Frame Compression', encapsulated: true },
];

const BY_UID: ReadonlyMap<string, TransferSyntaxInfo> = new Map(TABLE.map((t) => [t.uid, t]));

export function transferSyntaxInfo(uid: string): TransferSyntaxInfo | undefined {
  return BY_UID.get(normaliseUid(uid));
}

/** UIDs in DICOM strings may carry a trailing NUL pad byte (PS3.5 §6.2, UI). */
export function normaliseUid(uid: string): string {
  return uid.replace(/[\0\s]+$/g, '').trim();
}

export function transferSyntaxName(uid: string): string {
  const info = transferSyntaxInfo(uid);
  return info ? info.name : `unknown transfer syntax ${normaliseUid(uid) || '(empty)'}`;
}

export function isCompressedTransferSyntax(uid: string): boolean {
  return transferSyntaxInfo(uid)?.encapsulated === true;
}

export function supportedCompressedTransferSyntaxes(): { uid: string; name: string }[] {
  return TABLE.filter((t) => t.codec !== undefined).map((t) => ({ uid: t.uid, name: t.name }));
}

export function codecFor(uid: string): CodecId | undefined {
  return transferSyntaxInfo(uid)?.codec;
}
