/**
 * What the receiver accepts (PS3.4 Annex B, Storage Service Class): CT only, in the native
 * syntaxes and the compressed ones the decoder pool can read, stored as received.
 */
import { supportedCompressedTransferSyntaxes } from '../dicom/index.js';

export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';

export const STORAGE_SOP_CLASSES: ReadonlySet<string> = new Set([
  '1.2.840.10008.5.1.4.1.1.2', // CT Image Storage
  '1.2.840.10008.5.1.4.1.1.2.1', // Enhanced CT Image Storage (multi-frame: the ingest quarantines it)
]);

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';

export const NATIVE_SYNTAXES: readonly string[] = [
  IMPLICIT_VR_LITTLE_ENDIAN,
  '1.2.840.10008.1.2.1', // Explicit VR Little Endian
  '1.2.840.10008.1.2.2', // Explicit VR Big Endian (retired, still sent by old modalities)
  '1.2.840.10008.1.2.1.99', // Deflated Explicit VR Little Endian
];

/** Accepting a syntax we cannot decode would only move the failure to the ingest. */
export function storageTransferSyntaxes(): ReadonlySet<string> {
  return new Set([...NATIVE_SYNTAXES, ...supportedCompressedTransferSyntaxes().map((s) => s.uid)]);
}
