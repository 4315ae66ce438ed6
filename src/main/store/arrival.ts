/**
 * What one arriving slice tells the store: the facts the ingest read from its file. The study,
 * series and instance repositories each record their part of it.
 */
/** A read slice as the ingest hands it over. */
export interface NewInstance {
  sopUid: string;
  seriesUid: string;
  studyUid: string;
  study: {
    patientName?: string | undefined;
    patientId?: string | undefined;
    patientSex?: string | undefined;
    patientAge?: string | undefined;
    accession?: string | undefined;
    description?: string | undefined;
    studyDate?: string | undefined;
    studyTime?: string | undefined;
  };
  seriesNumber?: number | undefined;
  seriesDescription?: string | undefined;
  /** ImageType, ConvolutionKernel and SliceThickness: what the series choice reads (assemble/select.ts). */
  imageType?: string | undefined;
  kernel?: string | undefined;
  sliceThickness?: number | undefined;
  /** ContrastBolusAgent: '' when present but empty (still contrast-enhanced), undefined when absent. */
  contrastAgent?: string | undefined;
  instanceNumber?: number | undefined;
  position?: readonly [number, number, number] | undefined;
  orientation?: readonly number[] | undefined;
  originalRows: number;
  originalColumns: number;
  resampled: boolean;
  /** Why the stored values were not read as the header says (HuSlice.huCorrection); null when they were. */
  huCorrection?: string | null | undefined;
  pixelSpacing?: readonly [number, number] | undefined;
  window: { center: number; width: number; source: 'tags' | 'default' };
  rescaleSlope: number;
  rescaleIntercept: number;
  transferSyntax: string;
  fileSha256: string;
  pixelSha256: string;
  huPath: string;
  sourcePath: string;
  size: number;
}
