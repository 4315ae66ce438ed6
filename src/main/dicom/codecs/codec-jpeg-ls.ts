/**
 * JPEG-LS lossless and near-lossless (PS3.5 A.4.3; ITU-T T.87) with CharLS, through the
 * cornerstone WebAssembly build (@cornerstonejs/codec-charls), as cornerstone3D does.
 *
 * CharLS hands back the sample bit patterns unsigned; signed CT is restored by ./describe.ts
 * (PS3.5 A.4.3 leaves sign handling to Pixel Representation).
 */
import { checkDeclaredSize, checkEndMarker, readJpegFrameHeader } from './stream-header.js';
import { DecodeError, type Codec, type CodecOutput, type FrameDescription } from './types.js';
import { WasmCodecHost } from './wasm-module.js';
import { samplesFromBytes } from './samples.js';

const LABEL = 'JPEG-LS';

const host = new WasmCodecHost(LABEL, 'JpegLSDecoder', async () => (await import('@cornerstonejs/codec-charls/decodewasmjs')).default);

export const jpegLsCodec: Codec = {
  label: LABEL,
  async decode(frame: Uint8Array, desc: FrameDescription): Promise<CodecOutput> {
    const header = readJpegFrameHeader(frame);
    if (header.marker !== 0xfff7) {
      throw new DecodeError(`JPEG-LS stream has a JPEG frame header (0x${header.marker.toString(16)}) instead of SOF55`);
    }
    checkDeclaredSize(LABEL, header, desc);
    checkEndMarker(LABEL, frame);
    const { info, bytes } = await host.decode(frame);
    return {
      samples: samplesFromBytes(bytes, info.bitsPerSample, false),
      width: info.width,
      height: info.height,
      components: info.componentCount,
    };
  },
};
