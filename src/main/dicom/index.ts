/**
 * DICOM stage. Input: a Part 10 file's bytes. Output: a validated `HuSlice` or a
 * `QuarantineError` with a one-line reason. This folder is the only reader of DICOM tags.
 */
export { readSlice, parseDataSet, hasPart10Prefix, validateHeader, sliceWindow, SLICE_SIZE } from './read.js';
export type { HuSlice, SliceWindow, FrameDecoder, FrameDescription } from './read.js';
export { readHeader, readString, TAG } from './tags.js';
export type { DicomHeader } from './tags.js';
export { QuarantineError } from './errors.js';
export { sliceNormal, positionAlongNormal, tiltFromAxialDegrees, MAX_AXIAL_TILT_DEGREES } from './geometry.js';
export type { Orientation, Vec3 } from './geometry.js';
export { transferSyntaxName, isNativeTransferSyntax } from './transfer-syntax.js';
export { PooledFrameDecoder } from './decoder.js';
export { supportedCompressedTransferSyntaxes } from './codecs/index.js';
export { INSTANCE_UID_RULE, isAcceptableInstanceUid } from './uid.js';
