/**
 * The reader's door to the codec workers: a FrameDecoder over a DecoderPool. A codec's
 * DecodeError becomes a QuarantineError with the same one-line reason, so a hostile or broken
 * frame costs its file only.
 */
import type { DataSet } from 'dicom-parser';
import { DecodeError, DecoderPool, encapsulatedFrameBytes, supportedCompressedTransferSyntaxes } from './codecs/index.js';
import type { DecoderPoolOptions, StoredPixels } from './codecs/index.js';
import { QuarantineError } from './errors.js';
import type { FrameDecoder, FrameDescription } from './read.js';

export class PooledFrameDecoder implements FrameDecoder {
  private readonly supported = new Set(supportedCompressedTransferSyntaxes().map((s) => s.uid));
  private readonly pool: DecoderPool;

  constructor(options: DecoderPoolOptions = {}) {
    this.pool = new DecoderPool(options);
  }

  supports(transferSyntaxUid: string): boolean {
    return this.supported.has(transferSyntaxUid);
  }

  async decodeFrame(uid: string, byteArray: Uint8Array, dataSet: DataSet, desc: FrameDescription): Promise<StoredPixels> {
    let frame: Uint8Array;
    try {
      frame = encapsulatedFrameBytes(byteArray, dataSet, 0);
    } catch (err) {
      throw new QuarantineError(`encapsulated pixel data unreadable: ${(err as Error).message.split('\n')[0]}`);
    }
    try {
      return await this.pool.decode(uid, frame, desc);
    } catch (err) {
      if (err instanceof DecodeError) throw new QuarantineError(err.reason);
      throw err;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
