/**
 * Codec registry keyed by Transfer Syntax UID (STYLE.md habit 4; cornerstone3D registers its
 * decoders the same way). Loaded only inside the decoder worker: the codec modules pull in
 * WebAssembly builds the main thread never needs.
 */
import { codecFor, type CodecId } from './syntaxes.js';
import type { Codec } from './types.js';
import { jpegBaselineCodec } from './codec-jpeg-baseline.js';
import { jpegLosslessCodec } from './codec-jpeg-lossless.js';
import { jpegLsCodec } from './codec-jpeg-ls.js';
import { jpeg2000Codec } from './codec-jpeg2000.js';
import { rleCodec } from './codec-rle.js';
import { encapsulatedUncompressedCodec } from './codec-encapsulated-uncompressed.js';

const CODECS: Readonly<Record<CodecId, Codec>> = {
  'jpeg-baseline': jpegBaselineCodec,
  'jpeg-lossless': jpegLosslessCodec,
  'jpeg-ls': jpegLsCodec,
  jpeg2000: jpeg2000Codec,
  rle: rleCodec,
  'encapsulated-uncompressed': encapsulatedUncompressedCodec,
};

export function codecForTransferSyntax(uid: string): Codec | undefined {
  const id = codecFor(uid);
  return id ? CODECS[id] : undefined;
}
