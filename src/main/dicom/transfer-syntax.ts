/**
 * Which transfer syntaxes the reader decodes itself. Names and the full table (PS3.6 Annex A)
 * have one home, ./codecs/syntaxes.ts, which the codec registry keys its decoders by.
 */
export { transferSyntaxName, isCompressedTransferSyntax } from './codecs/syntaxes.js';

const NATIVE = new Set([
  '1.2.840.10008.1.2', // Implicit VR Little Endian
  '1.2.840.10008.1.2.1', // Explicit VR Little Endian
  '1.2.840.10008.1.2.1.99', // Deflated Explicit VR Little Endian
  '1.2.840.10008.1.2.2', // Explicit VR Big Endian
]);

export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';

export function isNativeTransferSyntax(uid: string): boolean {
  return NATIVE.has(uid);
}
