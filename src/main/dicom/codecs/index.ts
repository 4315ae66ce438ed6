/**
 * Compressed transfer syntaxes: decode one frame of encapsulated Pixel Data (PS3.5 A.4).
 *
 * Input: a Transfer Syntax UID, one frame's compressed bytes (see `encapsulatedFrameBytes`) and
 * the frame's FrameDescription from the DICOM header. Output: the frame's STORED values,
 * rows × columns samples (Int16Array when Pixel Representation is 1, else Uint16Array for 16-bit
 * and Uint8Array for 8-bit), before Rescale Slope/Intercept — or a DecodeError with a one-line
 * reason ("transfer syntax <name> not supported yet", "JPEG 2000 decoder failed: …", "decoder
 * timed out after N ms", "decoder ran out of memory", "decoder crashed").
 *
 * Decoders (one file per codec, registered by Transfer Syntax UID in registry.ts) run only in
 * worker threads owned by a DecoderPool; this surface never loads a codec into the caller.
 */
export type { FrameDescription, StoredPixels } from './types.js';
export { DecodeError } from './types.js';
export { DecoderPool } from './pool.js';
export type { DecoderPoolOptions, DecoderPoolStats } from './pool.js';
export { encapsulatedFrameBytes } from './frame.js';
export {
  isCompressedTransferSyntax,
  supportedCompressedTransferSyntaxes,
  transferSyntaxName,
} from './syntaxes.js';
