/**
 * The one place DICOM tags are read (ARCHITECTURE.md: "DICOM tag reading is written once").
 *
 * Input: a dicom-parser DataSet. Output: a plain `DicomHeader` with every attribute the core
 * uses, parsed leniently the way real files demand: DS/IS values with stray spaces, several
 * values where one is expected (the first one counts, e.g. WindowCenter "40\450"), absent
 * optional tags (RescaleSlope/Intercept default to 1/0), and RSNA's SOPInstanceUIDs such as
 * `ID_0fe31b044`, which are not valid UIDs but must be accepted.
 */
import type { DataSet } from 'dicom-parser';

export const TAG = {
  transferSyntaxUid: 'x00020010',
  imageType: 'x00080008',
  sopClassUid: 'x00080016',
  sopInstanceUid: 'x00080018',
  studyDate: 'x00080020',
  studyTime: 'x00080030',
  accessionNumber: 'x00080050',
  modality: 'x00080060',
  studyDescription: 'x00081030',
  seriesDescription: 'x0008103e',
  patientName: 'x00100010',
  patientId: 'x00100020',
  patientSex: 'x00100040',
  patientAge: 'x00101010',
  sliceThickness: 'x00180050',
  convolutionKernel: 'x00181210',
  contrastBolusAgent: 'x00180010',
  gantryTilt: 'x00181120',
  studyInstanceUid: 'x0020000d',
  seriesInstanceUid: 'x0020000e',
  seriesNumber: 'x00200011',
  instanceNumber: 'x00200013',
  imagePositionPatient: 'x00200032',
  imageOrientationPatient: 'x00200037',
  sliceLocation: 'x00201041',
  samplesPerPixel: 'x00280002',
  photometricInterpretation: 'x00280004',
  numberOfFrames: 'x00280008',
  rows: 'x00280010',
  columns: 'x00280011',
  pixelSpacing: 'x00280030',
  bitsAllocated: 'x00280100',
  bitsStored: 'x00280101',
  highBit: 'x00280102',
  pixelRepresentation: 'x00280103',
  pixelPaddingValue: 'x00280120',
  windowCenter: 'x00281050',
  windowWidth: 'x00281051',
  rescaleIntercept: 'x00281052',
  rescaleSlope: 'x00281053',
  pixelData: 'x7fe00010',
} as const;

export interface DicomHeader {
  transferSyntaxUid: string | undefined;
  sopClassUid: string | undefined;
  sopInstanceUid: string | undefined;
  studyInstanceUid: string | undefined;
  seriesInstanceUid: string | undefined;
  modality: string | undefined;
  patientName: string | undefined;
  patientId: string | undefined;
  /** PatientSex (M, F, O) as written; the viewer shows it beside the name. */
  patientSex: string | undefined;
  /** PatientAge as written, e.g. '067Y' (the DICOM age string). */
  patientAge: string | undefined;
  accessionNumber: string | undefined;
  studyDescription: string | undefined;
  seriesDescription: string | undefined;
  /** ImageType as written (values separated by backslashes), e.g. ORIGINAL\PRIMARY\AXIAL. */
  imageType: string | undefined;
  /** ConvolutionKernel as written (several values separated by backslashes). */
  convolutionKernel: string | undefined;
  /**
   * ContrastBolusAgent as written; '' when the element is present but empty, undefined when absent.
   * The element belongs to the Contrast/Bolus module, which an image carries when contrast was
   * given (PS3.3 A.3: "required if contrast media was used"), so even an empty one says enhanced.
   */
  contrastBolusAgent: string | undefined;
  studyDate: string | undefined;
  studyTime: string | undefined;
  seriesNumber: number | undefined;
  instanceNumber: number | undefined;
  imagePositionPatient: [number, number, number] | undefined;
  imageOrientationPatient: [number, number, number, number, number, number] | undefined;
  sliceLocation: number | undefined;
  sliceThickness: number | undefined;
  gantryTilt: number | undefined;
  pixelSpacing: [number, number] | undefined;
  samplesPerPixel: number;
  photometricInterpretation: string | undefined;
  numberOfFrames: number;
  rows: number | undefined;
  columns: number | undefined;
  bitsAllocated: number | undefined;
  bitsStored: number | undefined;
  highBit: number | undefined;
  pixelRepresentation: number;
  pixelPaddingValue: number | undefined;
  /** First value of WindowCenter/WindowWidth (PS3.3 C.11.2: several values are alternatives). */
  windowCenter: number | undefined;
  windowWidth: number | undefined;
  rescaleSlope: number;
  rescaleIntercept: number;
  hasPixelData: boolean;
}

/** A trimmed string value, or undefined when absent or empty. */
/** A dicom-parser tag key ('x0020000d') as a reader writes it: (0020,000D). */
export function formatTag(tag: string): string {
  return `(${tag.slice(1, 5)},${tag.slice(5, 9)})`.toUpperCase();
}

export function readString(ds: DataSet, tag: string): string | undefined {
  if (!ds.elements[tag]) return undefined;
  let value: string | undefined;
  try {
    value = ds.string(tag);
  } catch {
    return undefined;
  }
  // UIDs are padded with NUL, other strings with spaces (PS3.5 6.2).
  const trimmed = value?.replace(/\0/g, '').trim();
  return trimmed ? trimmed : undefined;
}

/** The index-th value of a multi-valued DS/IS string, as a finite number. */
function readNumberString(ds: DataSet, tag: string, index = 0): number | undefined {
  const raw = readString(ds, tag);
  if (raw === undefined) return undefined;
  const part = raw.split('\\')[index];
  if (part === undefined || part.trim() === '') return undefined;
  const value = Number(part.trim());
  return Number.isFinite(value) ? value : undefined;
}

/**
 * A rescale value (PS3.3 C.11.1.1.2): the first number of the element, or `fallback` when the
 * element is absent or empty. A value that is present but not a number, or overflows (`1e309`),
 * reads as NaN or ±Infinity so that validation refuses the slice with its reason; a silent
 * default there would shift every Hounsfield unit of the image.
 */
function readRescale(ds: DataSet, tag: string, fallback: number): number {
  const raw = readString(ds, tag);
  if (raw === undefined) return fallback;
  const part = raw.split('\\')[0]!.trim();
  if (part === '') return fallback;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(part) ? Number(part) : Number.NaN;
}

function readNumbers(ds: DataSet, tag: string, count: number): number[] | undefined {
  const raw = readString(ds, tag);
  if (raw === undefined) return undefined;
  const parts = raw.split('\\').map((p) => Number(p.trim()));
  if (parts.length < count || parts.slice(0, count).some((v) => !Number.isFinite(v))) return undefined;
  return parts.slice(0, count);
}

/** An unsigned short (US) value; also accepts a value stored as a string by lenient writers. */
function readUint16(ds: DataSet, tag: string): number | undefined {
  const el = ds.elements[tag];
  if (!el) return undefined;
  if (el.length === 2) {
    try {
      return ds.uint16(tag);
    } catch {
      return undefined;
    }
  }
  return readNumberString(ds, tag);
}

/** PixelPaddingValue is US or SS depending on PixelRepresentation (PS3.3 C.7.5.1.1.2). */
function readPadding(ds: DataSet, pixelRepresentation: number): number | undefined {
  const el = ds.elements[TAG.pixelPaddingValue];
  if (!el || el.length < 2) return undefined;
  try {
    return pixelRepresentation === 1 ? ds.int16(TAG.pixelPaddingValue) : ds.uint16(TAG.pixelPaddingValue);
  } catch {
    return undefined;
  }
}

export function readHeader(ds: DataSet): DicomHeader {
  const pixelRepresentation = readUint16(ds, TAG.pixelRepresentation) ?? 0;
  const position = readNumbers(ds, TAG.imagePositionPatient, 3);
  const orientation = readNumbers(ds, TAG.imageOrientationPatient, 6);
  const spacing = readNumbers(ds, TAG.pixelSpacing, 2);
  return {
    transferSyntaxUid: readString(ds, TAG.transferSyntaxUid),
    sopClassUid: readString(ds, TAG.sopClassUid),
    sopInstanceUid: readString(ds, TAG.sopInstanceUid),
    studyInstanceUid: readString(ds, TAG.studyInstanceUid),
    seriesInstanceUid: readString(ds, TAG.seriesInstanceUid),
    modality: readString(ds, TAG.modality),
    patientName: readString(ds, TAG.patientName),
    patientId: readString(ds, TAG.patientId),
    patientSex: readString(ds, TAG.patientSex),
    patientAge: readString(ds, TAG.patientAge),
    accessionNumber: readString(ds, TAG.accessionNumber),
    studyDescription: readString(ds, TAG.studyDescription),
    seriesDescription: readString(ds, TAG.seriesDescription),
    imageType: readString(ds, TAG.imageType),
    convolutionKernel: readString(ds, TAG.convolutionKernel),
    contrastBolusAgent: ds.elements[TAG.contrastBolusAgent] ? (readString(ds, TAG.contrastBolusAgent) ?? '') : undefined,
    studyDate: readString(ds, TAG.studyDate),
    studyTime: readString(ds, TAG.studyTime),
    seriesNumber: readNumberString(ds, TAG.seriesNumber),
    instanceNumber: readNumberString(ds, TAG.instanceNumber),
    imagePositionPatient: position as DicomHeader['imagePositionPatient'],
    imageOrientationPatient: orientation as DicomHeader['imageOrientationPatient'],
    sliceLocation: readNumberString(ds, TAG.sliceLocation),
    sliceThickness: readNumberString(ds, TAG.sliceThickness),
    gantryTilt: readNumberString(ds, TAG.gantryTilt),
    pixelSpacing: spacing as DicomHeader['pixelSpacing'],
    samplesPerPixel: readUint16(ds, TAG.samplesPerPixel) ?? 1,
    photometricInterpretation: readString(ds, TAG.photometricInterpretation),
    numberOfFrames: readNumberString(ds, TAG.numberOfFrames) ?? 1,
    rows: readUint16(ds, TAG.rows),
    columns: readUint16(ds, TAG.columns),
    bitsAllocated: readUint16(ds, TAG.bitsAllocated),
    bitsStored: readUint16(ds, TAG.bitsStored),
    highBit: readUint16(ds, TAG.highBit),
    pixelRepresentation,
    pixelPaddingValue: readPadding(ds, pixelRepresentation),
    windowCenter: readNumberString(ds, TAG.windowCenter),
    windowWidth: readNumberString(ds, TAG.windowWidth),
    rescaleSlope: readRescale(ds, TAG.rescaleSlope, 1),
    rescaleIntercept: readRescale(ds, TAG.rescaleIntercept, 0),
    hasPixelData: ds.elements[TAG.pixelData] !== undefined,
  };
}
