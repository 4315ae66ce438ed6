/**
 * Encapsulated Uncompressed Explicit VR Little Endian (PS3.5 A.4.11): each frame is the native
 * little-endian pixel data, only wrapped in a fragment so frames can be found without parsing.
 */
import { DecodeError, type Codec, type CodecOutput, type FrameDescription } from './types.js';

export const encapsulatedUncompressedCodec: Codec = {
  label: 'encapsulated uncompressed',
  async decode(frame: Uint8Array, desc: FrameDescription): Promise<CodecOutput> {
    const pixels = desc.rows * desc.columns;
    const bytes = desc.bitsAllocated <= 8 ? 1 : 2;
    if (frame.length < pixels * bytes) {
      throw new DecodeError(`encapsulated uncompressed frame has ${frame.length} bytes, expected ${pixels * bytes}`);
    }
    const own = frame.slice(0, pixels * bytes);
    const samples = bytes === 2 ? new Uint16Array(own.buffer, 0, pixels) : own;
    return { samples, width: desc.columns, height: desc.rows, components: desc.samplesPerPixel };
  },
};
