/**
 * JPEG 2000 lossless and lossy (PS3.5 A.4.4; ISO/IEC 15444-1) with OpenJPEG, through the
 * cornerstone WebAssembly build (@cornerstonejs/codec-openjpeg), as cornerstone3D does.
 */
import { checkDeclaredSize, checkEndMarker, j2kCodestream, readJ2kSiz } from './stream-header.js';
import type { Codec, CodecOutput, FrameDescription } from './types.js';
import { WasmCodecHost } from './wasm-module.js';
import { samplesFromBytes } from './samples.js';

const LABEL = 'JPEG 2000';

const host = new WasmCodecHost(LABEL, 'J2KDecoder', async () => (await import('@cornerstonejs/codec-openjpeg/decodewasmjs')).default);

export const jpeg2000Codec: Codec = {
  label: LABEL,
  async decode(frame: Uint8Array, desc: FrameDescription): Promise<CodecOutput> {
    const codestream = j2kCodestream(frame);
    checkDeclaredSize(LABEL, readJ2kSiz(codestream), desc);
    checkEndMarker(LABEL, codestream);
    const { info, bytes } = await host.decode(codestream);
    return {
      // OpenJPEG sign-extends signed codestreams into int16; ./describe.ts treats both alike.
      samples: samplesFromBytes(bytes, info.bitsPerSample, info.isSigned === true),
      width: info.width,
      height: info.height,
      components: info.componentCount,
    };
  },
};
