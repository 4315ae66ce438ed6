/**
 * One frame, start to finish, inside the decoder worker: look up the codec by Transfer Syntax UID,
 * check the DICOM description, decode, check the codec's own header against the DICOM header,
 * and return stored values.
 */
import { checkCodecOutput, checkDescription, toStoredValues } from './describe.js';
import { codecForTransferSyntax } from './registry.js';
import { transferSyntaxName } from './syntaxes.js';
import { DecodeError, type DecodeLimits, type FrameDescription, type StoredPixels } from './types.js';

export async function decodeFrame(
  transferSyntaxUid: string,
  frame: Uint8Array,
  desc: FrameDescription,
  limits: DecodeLimits,
): Promise<StoredPixels> {
  const codec = codecForTransferSyntax(transferSyntaxUid);
  if (!codec) throw new DecodeError(`transfer syntax ${transferSyntaxName(transferSyntaxUid)} not supported yet`);
  checkDescription(desc, limits.memoryBytes);
  if (frame.length === 0) throw new DecodeError(`${codec.label} frame is empty`);
  const out = await codec.decode(frame, desc, limits);
  checkCodecOutput(codec.label, out, desc);
  return toStoredValues(out.samples, desc);
}
