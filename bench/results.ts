/**
 * The shape of the JSON `npm run bench` writes (schemaVersion 1). Times are seconds unless a name
 * says ms; memory is bytes; ratios are plain numbers (ortTimeOverPytorchTime < 1: onnxruntime is
 * faster; appOverPydicomSpeed > 1: the app's reader is faster; fractionOfPeak in 0..1).
 */
import type { MachineInfo } from './machine.js';
import type { ProfileSummary } from './profile.js';
import type { PostgresBench } from './postgres.js';
import type { WorklistBench } from './worklist.js';

export interface RuntimeFigures {
  msPerSlice: number;
  slicesPerSecond: number;
  runs: number;
  runSeconds: number[];
  /** VmHWM of the process that ran only this configuration (runtime + model + one batch). */
  peakRssBytes: number | null;
  loadSeconds: number;
  /** Other processes' share of the machine's CPU while this ran (bench/proc.ts). */
  othersCpuShare: number | null;
}

export interface Skipped {
  skipped: string;
  /** What polling saw before the process was stopped, if anything. */
  peakRssBytes: number | null;
}

export interface ModelBench {
  id: string;
  /** The ONNX file, relative to the repository root. */
  path: string;
  flopsPerSlice: number | null;
  configurations: {
    batch: number;
    onnxruntime: RuntimeFigures | Skipped;
    pytorch: RuntimeFigures | Skipped;
    /** onnxruntime-node ms per slice ÷ PyTorch ms per slice, same weights, threads and batch. */
    ortTimeOverPytorchTime: number | null;
    /** onnxruntime's achieved FLOP/s ÷ the measured fp32 MatMul peak. */
    fractionOfPeak: number | null;
    pytorchFractionOfPeak?: number;
    /** Where the CPU file is int8 and a float file ships too: the float file through onnxruntime,
     * same batch and threads, measured right after the int8 one. */
    onnxruntimeFloat?: RuntimeFigures | Skipped;
    /** float ms per slice ÷ int8 ms per slice (> 1: int8 is faster). */
    int8Speedup?: number | null;
  }[];
  profile: (ProfileSummary & { batch: number }) | null;
  /** Where the CPU file is int8: the float file of the float rows, and where it came from (shipped,
   * or the int8 file dequantised by bench/float_models.py where no float file ships). */
  floatFile?: { path: string; source: string };
  /** The int8 file's accuracy cost as the export recorded it (models/manifest.json `int8`): mean
   * ROC-AUC of the float and int8 files on the same held-out slices, per pool. */
  int8Accuracy?: { pool: string; slices: number; meanAucFloat: number; meanAucInt8: number }[];
}

export interface BenchResults {
  schemaVersion: 1;
  command: string;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  threads: number;
  memLimitBytes: number;
  machine: MachineInfo;
  endToEnd: {
    slices: number;
    /** Last file copied → worklist row 'scored' (measured when slices is 40; else waits + compute × 40/slices). */
    secondsPer40SliceStudy: number;
    extrapolatedFromSlices: number | null;
    measuredSeconds: number;
    settleMs: number;
    stableMs: number;
    /** The configured stability and settle waits, part of measuredSeconds by design. */
    waitsSeconds: number;
    /** measuredSeconds − waitsSeconds: reading, storing, inference, scoring, the worklist query. */
    computeSeconds: number;
    breakdown: { stabilityAndIngestSeconds: number; settleSeconds: number; inferenceSeconds: number; worklistSeconds: number };
    inferenceSecondsPerSlice: number;
    /** Last file copied → the study ranked (its ranking networks done, slower ones still running); measured. */
    rankedSeconds: number | null;
    /** First file copied → the first provisional score while slices still arrive; measured. */
    firstProvisionalSeconds: number | null;
    modelsLoaded: string[];
    modelLoadSeconds: number;
    /** Other processes' share of the machine's CPU during the end-to-end run (bench/proc.ts). */
    othersCpuShare: number | null;
    appDefaultWaits: { settleMs: number; stableMs: number };
    /** computeSeconds (scaled to 40 slices) + the app's default waits: derived, not measured. */
    estimatedSecondsPer40SliceStudyAtAppDefaultWaits: number;
    /** Last file copied → ranked by a score from every slice (provisional or final); measured. */
    rankedFromAllSlicesSeconds?: number | null;
  };
  /**
   * The same study arriving as a scanner sends it (slicesPerSecond), at the app's default waits;
   * every figure measured. Absent in results written before this run existed.
   */
  scannerPace?: ScannerPaceRun;
  /**
   * The same, sent over DICOM to the app's receiver (C-STORE, one association a slice), as a
   * scanner's network node sends it; the stability wait does not apply. Absent in older results.
   */
  scannerPaceDicom?: ScannerPaceRun;
  /**
   * The study pushed to the receiver in one association, as fast as it takes them, then released
   * (a PACS forward, a scanner's transfer of a finished series): the release settles the series
   * (assemble/release.ts) at the app's default waits. Absent in older results.
   */
  pushedDicom?: ScannerPaceRun;
  /**
   * The copied-at-once run and the DICOM scanner-pace run again, every network's CPU file in float
   * (the shipped float file, or an int8-only network's file dequantised: bench/float_models.py),
   * measured right after the int8 runs. Absent in results written before it existed.
   */
  floatRun?: {
    models: Record<string, { path: string; source: string }>;
    copiedAtOnce: {
      measuredSeconds: number;
      /** measuredSeconds less the same shortened waits as endToEnd. */
      computeSeconds: number;
      inferenceSeconds: number;
      rankedSeconds: number | null;
      rankedFromAllSlicesSeconds: number | null;
      peakRssBytes: number | null;
      othersCpuShare: number | null;
    };
    scannerPaceDicom: ScannerPaceRun;
    /** Absent in results written before the pushed run existed. */
    pushedDicom?: ScannerPaceRun;
  };
  memory: {
    peakRssBytes: number | null;
    rssAfterModelLoadBytes: number | null;
    memoryUsageAtEnd: NodeJS.MemoryUsage;
    what: string;
  };
  /** Best GFLOP/s of square fp32 MatMuls, measured before and after the models (samples). */
  peak: {
    torchMatmulGflops: number;
    onnxruntimeMatmulGflops: number;
    matmulSizes: number[];
    usedGflops: number;
    samples: { n: number; when: string; torch: number; onnxruntime: number; othersCpuShare: number | null }[];
  };
  /** The PyTorch processes' OpenMP wait policy (see bench/proc.ts, PYTHON_ENV). */
  pythonEnv: { OMP_WAIT_POLICY: string | null };
  flops: Record<string, { total: number; conv: number; linear: number; lstm: number }>;
  models: ModelBench[];
  decode: {
    slices: number;
    app: { slicesPerSecond: number; passSeconds: number[] };
    pydicom: { slicesPerSecond: number; passSeconds: number[]; version: string };
    /** The median of roundRatios where present; before rounds, the two medians' ratio. */
    appOverPydicomSpeed: number;
    /** Each round's app ÷ pydicom speed (the two alternate, the order swapped each round). */
    roundRatios?: number[];
  };
  /** On SQLite, the app's default backend. */
  worklist: WorklistBench;
  /**
   * The same worklist on PostgreSQL, and a review's way from one workstation to another; each a
   * skipped stage with its reason where PostgreSQL's server is not installed. Absent in results
   * written before these were measured.
   */
  postgres?: PostgresBench;
}

export interface ScannerPaceRun {
  /**
   * How the slices arrived: copied into the import folder, sent to the DICOM receiver one
   * association a slice ('dicom'), or pushed in one association and released ('dicom-association').
   */
  arrival?: 'folder' | 'dicom' | 'dicom-association';
  slices: number;
  /** The pace; null where the slices went as fast as the receiver took them ('dicom-association'). */
  slicesPerSecond: number | null;
  /** First slice → last slice copied (or its C-STORE begun; for one association, its release). */
  arrivalSeconds: number;
  settleMs: number;
  stableMs: number;
  /** Over DICOM: the wait after a release that settles the series its association carried whole (absent in older results). */
  releaseSettleMs?: number;
  /** First file copied → the first provisional score. */
  firstProvisionalSeconds: number | null;
  /** Last file copied → the study ranked by a score from every slice, provisional or final. */
  rankedFromAllSlicesSeconds: number | null;
  /** Last file copied → ranked by the final run (after the settle wait). */
  finalRankedSeconds: number | null;
  /** Last file copied → the worklist row 'scored' (every network, after the settle wait). */
  scoredSeconds: number;
  othersCpuShare: number | null;
}
