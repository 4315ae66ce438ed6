/**
 * JPEG baseline, 8-bit (PS3.5 A.4.1, process 1; ITU-T T.81) with libjpeg-turbo, through the
 * cornerstone WebAssembly build (@cornerstonejs/codec-libjpeg-turbo-8bit). Lossy: a CT stored
 * this way has been squeezed into 8 bits with a steep Rescale Slope, so HU are approximate.
 */
import { checkDeclaredSize, checkEndMarker, readJpegFrameHeader } from './stream-header.js';
import { DecodeError, type Codec, type CodecOutput, type FrameDescription } from './types.js';
import { WasmCodecHost } from './wasm-module.js';
import { samplesFromBytes } from './samples.js';

const LABEL = 'JPEG baseline';

const host = new WasmCodecHost(LABEL, 'JPEGDecoder', async () => (await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs')).default);

export const jpegBaselineCodec: Codec = {
  label: LABEL,
  async decode(frame: Uint8Array, desc: FrameDescription): Promise<CodecOutput> {
    const header = readJpegFrameHeader(frame);
    // Process 1 is SOF0; SOF1 at 8 bits is the same decoder path and some writers label it .50.
    if (header.marker !== 0xffc0 && header.marker !== 0xffc1) {
      throw new DecodeError(`JPEG baseline stream has frame marker 0x${header.marker.toString(16)}, not SOF0`);
    }
    if (header.precision !== 8) {
      throw new DecodeError(`JPEG baseline stream has ${header.precision}-bit samples; only 8-bit is decoded`);
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
