/**
 * Ingest stage — the one door every slice goes through, whether it came from the import folder
 * or the DICOM receiver.
 *
 * Input: a file path. Output: an `IngestOutcome`, and in the store either an instance (with its
 * HU copy on disk), a duplicate sighting, a conflict, or a quarantine entry with a one-line reason.
 * It never throws for a bad file; a file already seen with the same content is skipped, which is
 * what makes a restart after kill -9 neither lose nor repeat a slice.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { hasPart10Prefix, readSlice, QuarantineError, type FrameDecoder, type HuSlice } from '../dicom/index.js';
import { huToInt16, pixelSha256, writeHuFile, SeriesStudyMismatch, type FileOutcome, type NewInstance, type Store } from '../store/index.js';

export { HeldFiles } from './held.js';

/**
 * `unchanged`: this exact file was read before (its `reason` says why, when it was refused then);
 * `skipped`: a side file that is plainly not DICOM (a CSV, JSON, text or image file beside the
 * slices), listed but neither read as a slice nor quarantined.
 */
export type IngestOutcomeKind = FileOutcome | 'unchanged' | 'vanished' | 'skipped';

export interface IngestOutcome {
  path: string;
  outcome: IngestOutcomeKind;
  reason?: string;
  /** A stored slice whose values were not read as its header says: why (HuSlice.huCorrection). */
  huCorrection?: string;
  sopUid?: string;
  seriesUid?: string;
  studyUid?: string;
}

/**
 * Extensions of the side files that travel with exported studies and the phantom generator's
 * output. A file with one of these and no DICOM preamble is skipped, not refused as damaged.
 */
const SIDE_FILE_EXTENSIONS = new Set(['csv', 'json', 'txt', 'md', 'xml', 'html', 'htm', 'log', 'pdf', 'png', 'jpg', 'jpeg', 'gif', 'bmp', 'tsv', 'yaml', 'yml', 'ini', 'npz', 'npy']);

function sideFileKind(path: string, bytes: Uint8Array): string | undefined {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase();
  if (!ext || !SIDE_FILE_EXTENSIONS.has(ext)) return undefined;
  return hasPart10Prefix(bytes) ? undefined : ext;
}

/** Files larger than this are not single CT slices; refusing them bounds memory. */
const MAX_FILE_BYTES = 256 * 1024 * 1024;

/** The store's record of one read slice: its identity, study and series facts, geometry and files. */
function instanceRecord(
  slice: HuSlice,
  files: Pick<NewInstance, 'sourcePath' | 'fileSha256' | 'pixelSha256' | 'huPath' | 'size'>,
): NewInstance {
  const h = slice.header;
  return {
    sopUid: h.sopInstanceUid!,
    seriesUid: h.seriesInstanceUid!,
    studyUid: h.studyInstanceUid!,
    study: {
      patientName: h.patientName,
      patientId: h.patientId,
      patientSex: h.patientSex,
      patientAge: h.patientAge,
      accession: h.accessionNumber,
      description: h.studyDescription,
      studyDate: h.studyDate,
      studyTime: h.studyTime,
    },
    seriesNumber: h.seriesNumber,
    seriesDescription: h.seriesDescription,
    imageType: h.imageType,
    kernel: h.convolutionKernel,
    contrastAgent: h.contrastBolusAgent,
    sliceThickness: h.sliceThickness,
    instanceNumber: h.instanceNumber,
    position: h.imagePositionPatient,
    orientation: h.imageOrientationPatient,
    originalRows: slice.originalRows,
    originalColumns: slice.originalColumns,
    resampled: slice.resampled,
    huCorrection: slice.huCorrection,
    pixelSpacing: h.pixelSpacing,
    window: slice.window,
    rescaleSlope: h.rescaleSlope,
    rescaleIntercept: h.rescaleIntercept,
    transferSyntax: slice.transferSyntaxUid,
    ...files,
  };
}

export class Ingest {
  constructor(
    private readonly store: Store,
    /** Where the HU copies go (hu/…): the data folder, or the folder workstations on one database share. */
    private readonly huDir: string,
    private readonly decoder?: FrameDecoder,
  ) {}

  async ingestFile(inputPath: string): Promise<IngestOutcome> {
    const path = resolve(inputPath);
    const read = await this.readBounded(path);
    if ('outcome' in read) return read;
    const { bytes } = read;
    const fileSha = createHash('sha256').update(bytes).digest('hex');
    const seen = this.store.files.seen(path, fileSha);
    if (seen) {
      const reason = seen.outcome === 'quarantined' || seen.outcome === 'conflict' ? this.store.files.refusalReason(path, fileSha) : undefined;
      return { path, outcome: 'unchanged', ...(reason !== undefined ? { reason } : {}) };
    }
    const side = sideFileKind(path, bytes);
    if (side) return { path, outcome: 'skipped', reason: `not DICOM: a .${side} file beside the slices` };

    let slice: HuSlice;
    try {
      slice = await readSlice(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), this.decoder);
    } catch (err) {
      const reason = err instanceof QuarantineError ? err.reason : `unexpected error reading file: ${describe(err)}`;
      this.store.files.quarantine(path, fileSha, bytes.length, reason);
      return { path, outcome: 'quarantined', reason };
    }

    const pixels = huToInt16(slice.hu);
    const pixelSha = pixelSha256(pixels);
    // The HU file is written (durably) before the row that points at it, so a crash between the
    // two leaves at worst an unreferenced file that the next attempt reuses by its hash.
    const huPath = writeHuFile(this.huDir, pixelSha, pixels);
    const h = slice.header;
    const ids = { sopUid: h.sopInstanceUid!, seriesUid: h.seriesInstanceUid!, studyUid: h.studyInstanceUid! };
    try {
      const { outcome } = this.store.instances.record(
        instanceRecord(slice, { sourcePath: path, fileSha256: fileSha, pixelSha256: pixelSha, huPath, size: bytes.length }),
      );
      if (outcome === 'conflict') {
        return { path, outcome, ...ids, reason: 'same SOPInstanceUID as a stored slice but different pixel data' };
      }
      return { path, outcome, ...ids, ...(slice.huCorrection ? { huCorrection: slice.huCorrection } : {}) };
    } catch (err) {
      if (err instanceof SeriesStudyMismatch) {
        this.store.files.quarantine(path, fileSha, bytes.length, err.message);
        return { path, outcome: 'quarantined', reason: err.message };
      }
      throw err;
    }
  }

  /**
   * The file's bytes, or the outcome that ends its ingest: vanished, or refused (recorded) for not
   * being a regular file, for its size — known before a byte is read, so a 1 GB file never reaches
   * memory — or for a read error.
   */
  private async readBounded(path: string): Promise<{ bytes: Buffer } | IngestOutcome> {
    const refuse = (reason: string): IngestOutcome => {
      this.store.files.refuseOnce(path, reason);
      return { path, outcome: 'quarantined', reason };
    };
    const tooLarge = (size: number) => `file of ${size} bytes is too large for one CT slice (limit ${MAX_FILE_BYTES})`;
    let handle: FileHandle | undefined;
    try {
      // O_NONBLOCK: opening a FIFO whose writer never comes must not hang the ingest (the folder
      // rule refuses FIFOs before this; a path swapped for one in between still cannot block).
      handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
      const st = await handle.stat();
      if (!st.isFile()) return refuse('not a regular file: skipped without reading it');
      if (st.size > MAX_FILE_BYTES) return refuse(tooLarge(st.size));
      const bytes = await handle.readFile();
      return bytes.length > MAX_FILE_BYTES ? refuse(tooLarge(bytes.length)) : { bytes }; // it grew after fstat
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Moved or deleted between being seen and being read: nothing to refuse, nothing lost.
      if (code === 'ENOENT') return { path, outcome: 'vanished' };
      return refuse(`could not read file: ${code ?? (err as Error).message}`);
    } finally {
      await handle?.close();
    }
  }

}

function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
}
