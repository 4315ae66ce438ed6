/**
 * DICOM Part 10 file → Hounsfield slice, with dicom-parser.
 *
 * Input: the file's bytes. Output: a `HuSlice` — the header the core keeps, HU as float32 at the
 * model contract's 512×512 (bilinear resampling when the file is another size, recorded), and the
 * slice's default window. Every refusal is a `QuarantineError` whose reason is one line naming
 * what is wrong; nothing here throws anything else for a bad file.
 *
 * HU = stored value × RescaleSlope + RescaleIntercept (PS3.3 C.11.1.1.2; 1 and 0 when absent),
 * stored values taken from BitsAllocated, masked to BitsStored at HighBit and sign-extended when
 * PixelRepresentation is 1 (PS3.5 8.1.1). PixelPaddingValue pixels keep their HU (e.g. −2000
 * outside the field of view); every window clips them to black. One header error is read through,
 * and recorded with the slice: 12-bit two's complement values labelled unsigned (`wrappedTwelveBitShare`).
 */
import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import contract from '../../shared/model-contract.json' with { type: 'json' };
import { BRAIN_WINDOW } from '../../shared/windows.js';
import { QuarantineError } from './errors.js';
import { tiltFromAxialDegrees, MAX_AXIAL_TILT_DEGREES } from './geometry.js';
import { resampleBilinear } from './resample.js';
import { formatTag, readHeader, TAG, type DicomHeader } from './tags.js';
import { INSTANCE_UID_RULE, isAcceptableInstanceUid } from './uid.js';
import type { FrameDescription, StoredPixels } from './codecs/index.js';
import {
  EXPLICIT_VR_BIG_ENDIAN,
  isCompressedTransferSyntax,
  isNativeTransferSyntax,
  transferSyntaxName,
} from './transfer-syntax.js';

export type { FrameDescription };

export const SLICE_SIZE: number = contract.inputSize;
/** Larger images are not head CT slices; refusing them early bounds memory on hostile files. */
const MAX_DIMENSION = 4096;
/**
 * Head CT is reconstructed at 512×512 (older scanners 256×256); a smaller matrix would be
 * upsampled into detail it does not have and scored as if it were a head CT.
 */
const MIN_DIMENSION = 256;
/**
 * Field of view per axis (pixel spacing × matrix): an adult head is 140–200 mm wide and head
 * protocols reconstruct 180–300 mm; below 100 mm no head fits, above 500 mm it is a body FOV.
 */
const MIN_FOV_MM = 100;
const MAX_FOV_MM = 500;
/** A deflated dataset may not inflate past this: a "zip bomb" costs one file, not the process. */
const MAX_INFLATED_BYTES = 256 * 1024 * 1024;
const CT_MODALITY = 'CT';

export interface SliceWindow {
  center: number;
  width: number;
  /** 'tags' when read from WindowCenter/WindowWidth, 'default' when absent (brain window). */
  source: 'tags' | 'default';
}

export interface HuSlice {
  header: DicomHeader;
  /** HU, row-major, SLICE_SIZE × SLICE_SIZE. */
  hu: Float32Array;
  originalRows: number;
  originalColumns: number;
  resampled: boolean;
  window: SliceWindow;
  transferSyntaxUid: string;
  /**
   * Why the stored values were not read as the header describes them, in one sentence; null when
   * they were. The only case: 12-bit two's complement values labelled unsigned (`wrappedTwelveBitShare`).
   */
  huCorrection: string | null;
}

/** Decodes encapsulated (compressed) pixel data; provided by src/main/dicom/codecs. */
export interface FrameDecoder {
  supports(transferSyntaxUid: string): boolean;
  decodeFrame(
    transferSyntaxUid: string,
    byteArray: Uint8Array,
    dataSet: DataSet,
    desc: FrameDescription,
  ): Promise<StoredValues>;
}

function describe(err: unknown): string {
  // dicom-parser throws strings, Errors, or { exception, dataSet } when it stops part-way.
  const inner =
    err && typeof err === 'object' && !(err instanceof Error) && 'exception' in err
      ? (err as { exception: unknown }).exception
      : err;
  const text = inner instanceof Error ? inner.message : String(inner);
  return text.replace(/^dicomParser[.:]\w+:\s*/, '').split('\n')[0]!.slice(0, 200);
}

/** Whether the bytes begin as a DICOM Part 10 file: a 128-byte preamble, then "DICM". */
export function hasPart10Prefix(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

/**
 * Where the file meta information (group 0002) ends, from its group length (0002,0000), the first
 * element after "DICM"; 0 when the file does not start with one (nothing to compare against), and
 * past the end when the file stops inside that first element.
 */
function fileMetaEnd(bytes: Uint8Array): number {
  if (bytes.length < 144) return Number.POSITIVE_INFINITY;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isGroupLength = view.getUint16(132, true) === 0x0002 && view.getUint16(134, true) === 0x0000;
  return isGroupLength ? 144 + view.getUint32(140, true) : 0;
}

export function parseDataSet(bytes: Uint8Array): DataSet {
  if (!hasPart10Prefix(bytes)) {
    throw new QuarantineError('not a DICOM Part 10 file (no DICM prefix at byte 128)');
  }
  let dataSet: DataSet;
  try {
    dataSet = dicomParser.parseDicom(bytes, {
      inflater: (byteArray: Uint8Array, position: number) => {
        const inflated = inflateRawSync(byteArray.subarray(position), { maxOutputLength: MAX_INFLATED_BYTES });
        const full = new Uint8Array(position + inflated.length);
        full.set(byteArray.subarray(0, position), 0);
        full.set(inflated, position);
        return full;
      },
    } as dicomParser.ParseDicomOptions);
  } catch (err) {
    const message = describe(err);
    if (/past end|end of buffer|buffer overrun|overread|beyond|out of range|unexpected end|cannot be greater than or equal to/i.test(message)) {
      throw new QuarantineError(`truncated or damaged DICOM file: ${message}`);
    }
    if (bytes.length < fileMetaEnd(bytes)) {
      throw new QuarantineError(`truncated or damaged DICOM file: it ends inside its file meta information (${message})`);
    }
    throw new QuarantineError(`unreadable DICOM file: ${message}`);
  }
  // dicom-parser does not always notice the end of a cut file: in implicit VR it accepts a last
  // element whose declared length runs past the end, and the file then reads as one that merely
  // lacks its later tags ("missing StudyInstanceUID"). A half-copied file must say so.
  const end = dataSet.byteArray.length;
  for (const el of Object.values(dataSet.elements)) {
    if (!el.hadUndefinedLength && el.length >= 0 && el.dataOffset + el.length > end) {
      throw new QuarantineError(
        `truncated or damaged DICOM file: element ${formatTag(el.tag)} runs past the end of the file ` +
          `(${el.dataOffset + el.length} > ${end} bytes)`,
      );
    }
  }
  return dataSet;
}

/** Checks that refuse a file before any pixel is touched, in the order a reader would ask. */
export function validateHeader(h: DicomHeader): void {
  if (!h.studyInstanceUid) throw new QuarantineError('missing StudyInstanceUID (0020,000D)');
  if (!h.seriesInstanceUid) throw new QuarantineError('missing SeriesInstanceUID (0020,000E)');
  if (!h.sopInstanceUid) throw new QuarantineError('missing SOPInstanceUID (0008,0018)');
  if (!isAcceptableInstanceUid(h.sopInstanceUid)) {
    throw new QuarantineError(`SOPInstanceUID (0008,0018) is not ${INSTANCE_UID_RULE}`);
  }
  if (h.modality !== CT_MODALITY) {
    throw new QuarantineError(h.modality ? `Modality is ${h.modality}, not CT` : 'missing Modality (0008,0060): not CT');
  }
  if (!h.hasPixelData) throw new QuarantineError('no pixel data (7FE0,0010)');
  if (h.numberOfFrames > 1) {
    throw new QuarantineError(`multi-frame image (${h.numberOfFrames} frames): one axial slice per file expected`);
  }
  const photometric = h.photometricInterpretation ?? 'MONOCHROME2';
  if (h.samplesPerPixel !== 1 || !photometric.startsWith('MONOCHROME')) {
    throw new QuarantineError(`colour image (${photometric}, ${h.samplesPerPixel} samples per pixel): CT slices are greyscale`);
  }
  if (!h.rows || !h.columns) throw new QuarantineError('missing Rows/Columns');
  if (h.rows > MAX_DIMENSION || h.columns > MAX_DIMENSION) {
    throw new QuarantineError(`image of ${h.rows}×${h.columns} is larger than ${MAX_DIMENSION}×${MAX_DIMENSION}`);
  }
  if (h.rows < MIN_DIMENSION || h.columns < MIN_DIMENSION) {
    throw new QuarantineError(
      `image of ${h.rows}×${h.columns} is smaller than ${MIN_DIMENSION}×${MIN_DIMENSION}: too coarse to score (it would be upsampled to ${SLICE_SIZE}×${SLICE_SIZE})`,
    );
  }
  if (h.pixelSpacing) {
    const [dy, dx] = h.pixelSpacing;
    const fovY = dy * h.rows;
    const fovX = dx * h.columns;
    if (!(dy > 0 && dx > 0) || !(fovY >= MIN_FOV_MM && fovY <= MAX_FOV_MM && fovX >= MIN_FOV_MM && fovX <= MAX_FOV_MM)) {
      throw new QuarantineError(
        `PixelSpacing ${dy}\\${dx} mm gives a field of view of ${Math.round(fovY)}×${Math.round(fovX)} mm, outside ${MIN_FOV_MM}–${MAX_FOV_MM} mm: not a head CT`,
      );
    }
  }
  if (h.bitsAllocated !== 8 && h.bitsAllocated !== 16) {
    throw new QuarantineError(`BitsAllocated ${h.bitsAllocated ?? 'missing'} not supported (8 or 16)`);
  }
  const bitsStored = h.bitsStored ?? h.bitsAllocated;
  if (bitsStored < 1 || bitsStored > h.bitsAllocated) {
    throw new QuarantineError(`BitsStored ${bitsStored} does not fit BitsAllocated ${h.bitsAllocated}`);
  }
  if (!h.imageOrientationPatient) throw new QuarantineError('missing ImageOrientationPatient (0020,0037)');
  const tilt = tiltFromAxialDegrees(h.imageOrientationPatient);
  if (!(tilt <= MAX_AXIAL_TILT_DEGREES)) {
    throw new QuarantineError(
      `orientation is not axial: slice normal is ${Math.round(tilt)}° from the patient z axis (limit ${MAX_AXIAL_TILT_DEGREES}°)`,
    );
  }
  // CT stores HU = stored × slope + intercept with a positive slope; a zero slope flattens the image
  // and a negative one inverts it (brain read as −2000 HU), so neither is a CT image we can score.
  if (!Number.isFinite(h.rescaleSlope) || h.rescaleSlope <= 0) {
    throw new QuarantineError(`RescaleSlope (0028,1053) is ${h.rescaleSlope}: not a positive finite number, so HU cannot be computed`);
  }
  if (!Number.isFinite(h.rescaleIntercept)) {
    throw new QuarantineError(`RescaleIntercept (0028,1052) is ${h.rescaleIntercept}: not a finite number, so HU cannot be computed`);
  }
}

export function frameDescription(h: DicomHeader): FrameDescription {
  return {
    rows: h.rows!,
    columns: h.columns!,
    bitsAllocated: h.bitsAllocated!,
    bitsStored: h.bitsStored ?? h.bitsAllocated!,
    pixelRepresentation: h.pixelRepresentation === 1 ? 1 : 0,
    samplesPerPixel: h.samplesPerPixel,
  };
}

/** Stored pixel values as a codec gives them, or a native file's (whose signed 8-bit pixels stay bytes). */
type StoredValues = StoredPixels | Int8Array;

/**
 * Native (uncompressed) pixel data → stored values: a typed-array view on the file's bytes where
 * the byte order and alignment allow (no copy), else a copy. Signedness follows
 * PixelRepresentation; masking to BitsStored is left to `storedToHu`.
 */
function readNativeStoredValues(ds: DataSet, h: DicomHeader, transferSyntaxUid: string): StoredValues {
  const el = ds.elements[TAG.pixelData]!;
  const desc = frameDescription(h);
  const count = desc.rows * desc.columns;
  const bytesNeeded = (count * desc.bitsAllocated) / 8;
  const available = Math.min(el.length, ds.byteArray.length - el.dataOffset);
  if (available < bytesNeeded) {
    throw new QuarantineError(`truncated pixel data: ${bytesNeeded} bytes expected, ${Math.max(0, available)} present`);
  }
  // More bytes than Rows × Columns × BitsAllocated/8 (beyond the one pad byte PS3.5 7.1.1 allows
  // for odd lengths) means the header does not describe the pixels: reading them would show
  // garbage HU, so the file is refused.
  if (el.length > bytesNeeded + 1) {
    throw new QuarantineError(
      `pixel data is ${el.length} bytes but Rows × Columns × BitsAllocated/8 is ${bytesNeeded}: header and pixels disagree`,
    );
  }
  const signed = desc.pixelRepresentation === 1;
  const offset = ds.byteArray.byteOffset + el.dataOffset;
  if (desc.bitsAllocated === 8) {
    return signed ? new Int8Array(ds.byteArray.buffer, offset, count) : new Uint8Array(ds.byteArray.buffer, offset, count);
  }
  if (transferSyntaxUid !== EXPLICIT_VR_BIG_ENDIAN) {
    // A 16-bit view needs an even byte offset; an odd one (possible after odd-length elements)
    // gets an aligned copy of the bytes.
    const aligned = offset % 2 === 0;
    const buffer = aligned ? ds.byteArray.buffer : ds.byteArray.slice(el.dataOffset, el.dataOffset + bytesNeeded).buffer;
    const start = aligned ? offset : 0;
    return signed ? new Int16Array(buffer, start, count) : new Uint16Array(buffer, start, count);
  }
  const view = new DataView(ds.byteArray.buffer, offset, bytesNeeded);
  const out = signed ? new Int16Array(count) : new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, false);
  return out;
}

function isSignedArray(values: StoredValues): boolean {
  return values instanceof Int16Array || values instanceof Int8Array;
}

/**
 * HU = stored × slope + intercept where the values need no masking. The integer → float32
 * conversion is the engine's own typed-array copy, so the loop only ever reads float32 (one
 * element kind: the JIT keeps it tight whatever array the values came in). The loop body does
 * eight pixels: V8 does not vectorise, and fewer loop tests and bounds checks per pixel took
 * this step from ≈ 0.75 to ≈ 0.55 ms a 512×512 slice (the larger part of reading a native file).
 */
function scaleToHu(values: StoredValues, slope: number, intercept: number): Float32Array {
  const hu = new Float32Array(values.length);
  hu.set(values);
  const whole = hu.length - (hu.length % 8);
  let i = 0;
  for (; i < whole; i += 8) {
    hu[i] = hu[i]! * slope + intercept;
    hu[i + 1] = hu[i + 1]! * slope + intercept;
    hu[i + 2] = hu[i + 2]! * slope + intercept;
    hu[i + 3] = hu[i + 3]! * slope + intercept;
    hu[i + 4] = hu[i + 4]! * slope + intercept;
    hu[i + 5] = hu[i + 5]! * slope + intercept;
    hu[i + 6] = hu[i + 6]! * slope + intercept;
    hu[i + 7] = hu[i + 7]! * slope + intercept;
  }
  for (; i < hu.length; i++) hu[i] = hu[i]! * slope + intercept;
  return hu;
}

/** Whether a 32-bit load of two 16-bit values puts the first in its low half. */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * How many HU tables are kept. A series shares its pixel layout and rescale, so one table serves
 * all its slices; a few more cover studies read side by side.
 */
const HU_TABLES_KEPT = 4;
const huTables = new Map<string, Float32Array>();

/**
 * HU for every bit pattern a stored value can hold (2^8 or 2^16 entries): masked to BitsStored
 * at HighBit, sign-extended when PixelRepresentation is 1 (PS3.5 8.1.1), then
 * stored × slope + intercept rounded to float32, exactly as a pixel-by-pixel reading would.
 * Built once per layout and rescale and kept, so a slice costs one lookup a pixel.
 */
function huTable(valueBits: 8 | 16, bits: number, shift: number, signed: boolean, slope: number, intercept: number): Float32Array {
  const key = `${valueBits} ${bits} ${shift} ${signed} ${slope} ${intercept}`;
  let table = huTables.get(key);
  if (table) return table;
  const mask = bits >= 32 ? 0xffffffff : (1 << bits) - 1;
  const signBit = 1 << (bits - 1);
  const wrap = 1 << bits;
  table = new Float32Array(2 ** valueBits);
  for (let raw = 0; raw < table.length; raw++) {
    let v = (raw >>> shift) & mask;
    if (signed && v & signBit) v -= wrap;
    table[raw] = v * slope + intercept;
  }
  if (huTables.size >= HU_TABLES_KEPT) huTables.delete(huTables.keys().next().value!);
  huTables.set(key, table);
  return table;
}

/**
 * Stored values → HU. Whole-width values that are the stored integers already go to `scaleToHu`;
 * any other layout (BitsStored below BitsAllocated, as 12 of 16 in most CT; a codec's unsigned
 * array for signed pixels; a broken HighBit) through `huTable`, indexed by each value's bits as an
 * unsigned integer (a signed array's value masked to its width). A lookup replaces the masking,
 * the sign extension, the integer-to-float conversion and the multiply-add of a pixel; the loop
 * body does eight pixels, as in `scaleToHu`.
 */
export function storedToHu(values: StoredValues, h: DicomHeader): Float32Array {
  const desc = frameDescription(h);
  const slope = h.rescaleSlope;
  const intercept = h.rescaleIntercept;
  const bits = desc.bitsStored;
  const highBit = h.highBit ?? bits - 1;
  // A HighBit below BitsStored − 1 reads as BitsStored − 1 (the field starts at bit 0).
  const shift = Math.max(0, highBit + 1 - bits);
  const signed = desc.pixelRepresentation === 1;
  // Full-width values at their natural place whose array signedness matches PixelRepresentation
  // are the stored integers already (a signed view sign-extends; a codec gives natural widths).
  const fullWidth = bits === desc.bitsAllocated && shift === 0;
  if (fullWidth && signed === isSignedArray(values)) return scaleToHu(values, slope, intercept);
  const valueBits = values instanceof Int8Array || values instanceof Uint8Array ? 8 : 16;
  const table = huTable(valueBits, bits, shift, signed, slope, intercept);
  const width = table.length - 1;
  const hu = new Float32Array(values.length);
  const whole = hu.length - (hu.length % 8);
  let i = 0;
  if (width === 0xffff && values.byteOffset % 4 === 0 && LITTLE_ENDIAN_HOST) {
    // Two 16-bit values a load: half the loads and bounds checks (≈ 10–30% of a slice, measured).
    const words = new Uint32Array(values.buffer, values.byteOffset, values.length >>> 1);
    for (let j = 0; i < whole; j += 4, i += 8) {
      const a = words[j]!;
      const b = words[j + 1]!;
      const c = words[j + 2]!;
      const d = words[j + 3]!;
      hu[i] = table[a & 0xffff]!;
      hu[i + 1] = table[a >>> 16]!;
      hu[i + 2] = table[b & 0xffff]!;
      hu[i + 3] = table[b >>> 16]!;
      hu[i + 4] = table[c & 0xffff]!;
      hu[i + 5] = table[c >>> 16]!;
      hu[i + 6] = table[d & 0xffff]!;
      hu[i + 7] = table[d >>> 16]!;
    }
  }
  for (; i < whole; i += 8) {
    hu[i] = table[values[i]! & width]!;
    hu[i + 1] = table[values[i + 1]! & width]!;
    hu[i + 2] = table[values[i + 2]! & width]!;
    hu[i + 3] = table[values[i + 3]! & width]!;
    hu[i + 4] = table[values[i + 4]! & width]!;
    hu[i + 5] = table[values[i + 5]! & width]!;
    hu[i + 6] = table[values[i + 6]! & width]!;
    hu[i + 7] = table[values[i + 7]! & width]!;
  }
  for (; i < hu.length; i++) hu[i] = table[values[i]! & width]!;
  return hu;
}

/**
 * Some CT scanners write HU as 12-bit two's complement while the header says unsigned
 * (PixelRepresentation 0) with a RescaleIntercept near 0 — a known share of the RSNA 2019 head-CT
 * files, among others. Read as the header says, air (−1000 HU, stored as 3096) becomes +3096 HU and
 * the head sits in a frame of "bone": wrong HU for every window and network. Two facts together
 * tell such a slice: the header cannot hold air at all (unsigned values and an intercept above
 * WRAPPED_AIR_CEILING_HU put no pixel below that), and a large share of the values have the 12-bit
 * sign bit set, which would read as +2048 HU or more: no head slice holds that much bone, while
 * air, fat and the padding outside the field of view fill a third or more of a head slice.
 */
const WRAPPED_AIR_CEILING_HU = -100;
/** At or above this share of sign-bit values the slice is read as two's complement (the rest: bone, metal). */
export const WRAPPED_SHARE_MIN = 0.05;

/**
 * The share of stored values with the 12-bit sign bit set when the header describes unsigned
 * 12-bit pixels that cannot hold air; null when the header is anything else (then the values are
 * read as it says, whatever they hold).
 */
export function wrappedTwelveBitShare(values: StoredValues, h: DicomHeader): number | null {
  const desc = frameDescription(h);
  if (desc.bitsAllocated !== 16 || desc.bitsStored !== 12 || desc.pixelRepresentation !== 0) return null;
  if (!(h.rescaleIntercept > WRAPPED_AIR_CEILING_HU)) return null;
  const shift = Math.max(0, (h.highBit ?? 11) - 11);
  let signed = 0;
  for (let i = 0; i < values.length; i++) if (((values[i]! >>> shift) & 0x800) !== 0) signed++;
  return values.length ? signed / values.length : null;
}

/** Stored values → HU, reading 12-bit two's complement labelled unsigned as what it is, and saying so. */
function storedToHuChecked(values: StoredValues, h: DicomHeader): { hu: Float32Array; huCorrection: string | null } {
  const share = wrappedTwelveBitShare(values, h);
  if (share === null || share < WRAPPED_SHARE_MIN) return { hu: storedToHu(values, h), huCorrection: null };
  const pct = Math.round(share * 100);
  return {
    hu: storedToHu(values, { ...h, pixelRepresentation: 1 }),
    huCorrection:
      `stored values read as 12-bit two's complement: the header says unsigned (PixelRepresentation 0) with ` +
      `RescaleIntercept ${h.rescaleIntercept}, which cannot hold air and would put ${pct} % of the pixels at +2048 HU or ` +
      `more (air read as bone)`,
  };
}

export function sliceWindow(h: DicomHeader): SliceWindow {
  if (h.windowCenter !== undefined && h.windowWidth !== undefined && h.windowWidth > 0) {
    return { center: h.windowCenter, width: h.windowWidth, source: 'tags' };
  }
  return { center: BRAIN_WINDOW.center, width: BRAIN_WINDOW.width, source: 'default' };
}

/**
 * Reads one file's bytes into a Hounsfield slice, or throws QuarantineError.
 * `decoder` handles encapsulated transfer syntaxes; without one they are refused.
 */
export async function readSlice(bytes: Uint8Array, decoder?: FrameDecoder): Promise<HuSlice> {
  const ds = parseDataSet(bytes);
  const header = readHeader(ds);
  validateHeader(header);
  const transferSyntaxUid = header.transferSyntaxUid ?? '1.2.840.10008.1.2';

  let stored: StoredValues;
  if (isNativeTransferSyntax(transferSyntaxUid)) {
    stored = readNativeStoredValues(ds, header, transferSyntaxUid);
  } else if (isCompressedTransferSyntax(transferSyntaxUid)) {
    if (!decoder?.supports(transferSyntaxUid)) {
      throw new QuarantineError(`transfer syntax ${transferSyntaxName(transferSyntaxUid)} not supported yet`);
    }
    const desc = frameDescription(header);
    const decoded = await decoder.decodeFrame(transferSyntaxUid, bytes, ds, desc);
    if (decoded.length < desc.rows * desc.columns) {
      throw new QuarantineError(`decoded pixel data too short: ${decoded.length} of ${desc.rows * desc.columns} samples`);
    }
    stored = decoded.subarray(0, desc.rows * desc.columns);
  } else {
    const name = transferSyntaxName(transferSyntaxUid);
    throw new QuarantineError(name.startsWith('unknown') ? name : `transfer syntax ${name} not supported`);
  }
  // Codecs hand back values at their natural width (possibly already sign-extended); masking to
  // BitsStored and sign-extending gives the same stored values for both paths.
  const checked = storedToHuChecked(stored, header);
  let hu = checked.hu;
  const rows = header.rows!;
  const columns = header.columns!;
  const resampled = rows !== SLICE_SIZE || columns !== SLICE_SIZE;
  if (resampled) hu = resampleBilinear(hu, rows, columns, SLICE_SIZE, SLICE_SIZE);
  return {
    header,
    hu,
    originalRows: rows,
    originalColumns: columns,
    resampled,
    window: sliceWindow(header),
    transferSyntaxUid,
    huCorrection: checked.huCorrection,
  };
}
