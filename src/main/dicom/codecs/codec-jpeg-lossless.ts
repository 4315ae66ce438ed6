/**
 * JPEG lossless, process 14, any predictor and selection value 1 (PS3.5 A.4.1; ITU-T T.81
 * Annex H) with jpeg-lossless-decoder-js — the decoder cornerstone3D uses for .57 and .70. Pure
 * JavaScript, so the worker's V8 heap limit and the pool's time limit are what bound it.
 */
import { Decoder } from 'jpeg-lossless-decoder-js';
import { checkDeclaredSize, checkEndMarker, readJpegFrameHeader } from './stream-header.js';
import { DecodeError, type Codec, type CodecOutput, type FrameDescription } from './types.js';

const LABEL = 'JPEG lossless';

/**
 * jpeg-lossless-decoder-js 2.1.2 computes predictor 7 as `(Ra + Rb) / 2` in floating point;
 * T.81 H.2.1 defines it as an integer shift, `(Ra + Rb) >> 1`. The half it keeps is harmless until
 * the modulo-2^16 difference wraps (negative CT values stored as 16-bit two's complement), where
 * truncation then rounds the wrong way: dcmtk's `dcmcjpeg +el +sv 7` of the corpus CT came back
 * with 136–183 wrong samples. The other predictors already use integer arithmetic.
 */
class T81Decoder extends Decoder {
  override select7(compOffset?: number): number {
    return (this.getPreviousX(compOffset) + this.getPreviousY(compOffset)) >> 1;
  }
}

/** Zero bytes put between the entropy-coded data and EOI; the bit reader looks ahead ≤ 2 bytes. */
const LOOKAHEAD_PAD = 4;

export const jpegLosslessCodec: Codec = {
  label: LABEL,
  async decode(frame: Uint8Array, desc: FrameDescription): Promise<CodecOutput> {
    const header = readJpegFrameHeader(frame);
    if (header.marker !== 0xffc3) {
      throw new DecodeError(`JPEG lossless stream has frame marker 0x${header.marker.toString(16)}, not SOF3 (process 14)`);
    }
    checkDeclaredSize(LABEL, header, desc);
    const eoi = checkEndMarker(LABEL, frame);
    // jpeg-lossless-decoder-js 2.1.2 drops the LAST sample when its bit reader meets the EOI
    // marker while still reading that sample's Huffman code (getHuffmanValue returns the marker
    // instead of the value; upstream guarded only one path of getn with isLastPixel). It happens
    // on the corpus CTImage .70 file: sample 262143 came back 0 instead of −2000. Zero bytes
    // before EOI keep the marker out of the look-ahead; a decoder ignores data after the last
    // sample of a scan (T.81 E.2.4), so the stream means the same.
    const padded = new Uint8Array(eoi + LOOKAHEAD_PAD + 2);
    padded.set(frame.subarray(0, eoi));
    padded[eoi + LOOKAHEAD_PAD] = 0xff;
    padded[eoi + LOOKAHEAD_PAD + 1] = 0xd9;
    const bytesOut = desc.bitsAllocated <= 8 ? 1 : 2;
    const decoder = new T81Decoder();
    let samples: Uint8Array | Uint16Array;
    try {
      samples = decoder.decode(padded.buffer, 0, padded.byteLength, bytesOut);
    } catch (e) {
      throw new DecodeError(`${LABEL} decoder failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    // The decoder stops quietly at a marker; a stream that ran out early leaves samples unset.
    const written = decoder.yLoc * header.width + decoder.xLoc;
    if (written < header.width * header.height) {
      throw new DecodeError(`${LABEL} stream ends after ${written} of ${header.width * header.height} samples`);
    }
    return { samples, width: header.width, height: header.height, components: header.components };
  },
};
