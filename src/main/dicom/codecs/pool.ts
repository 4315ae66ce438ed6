/**
 * DecoderPool: a few decoder workers with a per-frame time limit and a memory limit. Input: a
 * Transfer Syntax UID, one frame's compressed bytes and its FrameDescription. Output: stored
 * values, or a DecodeError with a one-line reason.
 *
 * Isolation is the point: a codec that throws, aborts, spins or balloons on a hostile stream
 * costs that frame a DecodeError; the worker it ran in is terminated and a fresh one is started
 * when the next frame needs it. Workers are started lazily and do not keep the process alive
 * while idle.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker, workerUrl } from '../../workers/index.js';
import { checkDescription } from './describe.js';
import type { DebugAction, DecoderWorkerData, FromWorker, ToWorker } from './protocol.js';
import { codecFor, transferSyntaxName } from './syntaxes.js';
import { DecodeError, type FrameDescription, type StoredPixels } from './types.js';

export interface DecoderPoolOptions {
  /** Per-frame wall-clock limit, counted from when a worker takes the frame. Default 10 000. */
  timeoutMs?: number;
  /** Per-worker limit for the JS heap and for each WebAssembly memory. Default 512. */
  maxMemoryMb?: number;
  /** Number of workers. Default: cores − 1, between 1 and 4. */
  size?: number;
}

export interface DecoderPoolStats {
  workersStarted: number;
  workersRetired: number;
  decoded: number;
  failed: number;
}

interface Job {
  message: ToWorker;
  transfer: ArrayBuffer[];
  resolve: (pixels: StoredPixels) => void;
  reject: (error: DecodeError) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  retired: boolean;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** Consecutive workers that died before saying 'ready' before queued frames are failed. */
const MAX_START_FAILURES = 3;

export class DecoderPool {
  private readonly timeoutMs: number;
  private readonly memoryBytes: number;
  private readonly maxMemoryMb: number;
  private readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private startFailures = 0;
  private closed = false;
  private readonly counters: DecoderPoolStats = { workersStarted: 0, workersRetired: 0, decoded: 0, failed: 0 };

  constructor(opts: DecoderPoolOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxMemoryMb = opts.maxMemoryMb ?? 512;
    this.memoryBytes = this.maxMemoryMb * 2 ** 20;
    this.size = Math.max(1, Math.floor(opts.size ?? Math.min(4, Math.max(1, availableParallelism() - 1))));
    if (!(this.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
    if (!(this.maxMemoryMb >= 16)) throw new RangeError('maxMemoryMb must be at least 16');
  }

  get stats(): Readonly<DecoderPoolStats> {
    return { ...this.counters };
  }

  decode(transferSyntaxUid: string, frame: Uint8Array, desc: FrameDescription): Promise<StoredPixels> {
    if (this.closed) return Promise.reject(new DecodeError('decoder pool is closed'));
    if (!codecFor(transferSyntaxUid)) {
      return Promise.reject(new DecodeError(`transfer syntax ${transferSyntaxName(transferSyntaxUid)} not supported yet`));
    }
    try {
      checkDescription(desc, this.memoryBytes);
    } catch (e) {
      return Promise.reject(e);
    }
    // A frame from dicom-parser is often a view into the whole file; posting it would clone the
    // entire underlying buffer, so copy exactly the frame and transfer the copy.
    const own = frame.slice();
    const { rows, columns, bitsAllocated, bitsStored, pixelRepresentation, samplesPerPixel } = desc;
    return this.enqueue(
      {
        type: 'decode',
        id: this.nextId++,
        transferSyntaxUid,
        frame: own,
        desc: { rows, columns, bitsAllocated, bitsStored, pixelRepresentation, samplesPerPixel },
      },
      [own.buffer],
    );
  }

  /**
   * Test hook: makes one worker spin forever or exit abruptly. Honoured only when the worker was
   * started with ICH_DECODER_TEST_HOOKS=1 in the environment; otherwise a DecodeError.
   */
  debugHook(action: DebugAction): Promise<StoredPixels> {
    if (this.closed) return Promise.reject(new DecodeError('decoder pool is closed'));
    return this.enqueue({ type: 'debug', id: this.nextId++, action }, []);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closedError = (): DecodeError => new DecodeError('decoder pool closed');
    for (const job of this.queue.splice(0)) job.reject(closedError());
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (slot) => {
        slot.retired = true;
        if (slot.timer) clearTimeout(slot.timer);
        slot.job?.reject(closedError());
        slot.job = undefined;
        await slot.worker.terminate();
      }),
    );
  }

  private enqueue(message: ToWorker, transfer: ArrayBuffer[]): Promise<StoredPixels> {
    return new Promise<StoredPixels>((resolve, reject) => {
      this.queue.push({ message, transfer, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (!slot.ready || slot.job || slot.retired) continue;
      const job = this.queue.shift();
      if (!job) break;
      this.dispatch(slot, job);
    }
    // Start workers for frames that no ready or starting worker will take.
    const starting = this.slots.filter((s) => !s.ready && !s.retired).length;
    let wanted = this.queue.length - starting;
    while (wanted > 0 && this.slots.length < this.size) {
      this.spawn();
      wanted--;
    }
    for (const slot of this.slots) {
      // An idle worker must not keep the process alive; a busy or starting one must.
      if (slot.job || !slot.ready) slot.worker.ref();
      else slot.worker.unref();
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    slot.timer = setTimeout(() => {
      this.finish(slot, new DecodeError(`decoder timed out after ${this.timeoutMs} ms`));
      this.retire(slot);
    }, this.timeoutMs);
    slot.worker.postMessage(job.message, job.transfer);
  }

  private spawn(): void {
    const workerData: DecoderWorkerData = {
      memoryLimitBytes: this.memoryBytes,
      testHooks: process.env['ICH_DECODER_TEST_HOOKS'] === '1',
    };
    const worker = startWorker(workerUrl(import.meta.url, './decode-worker.ts'), {
      workerData,
      resourceLimits: { maxOldGenerationSizeMb: this.maxMemoryMb, stackSizeMb: 4 },
    });
    const slot: Slot = { worker, ready: false, retired: false, job: undefined, timer: undefined };
    this.slots.push(slot);
    this.counters.workersStarted++;

    worker.on('message', (msg: FromWorker) => {
      if (slot.retired) return;
      switch (msg.type) {
        case 'ready':
          slot.ready = true;
          this.startFailures = 0;
          this.pump();
          return;
        case 'decoded':
          if (slot.job?.message.id !== msg.id) return;
          this.counters.decoded++;
          this.finish(slot, msg.pixels);
          this.pump();
          return;
        case 'failed':
          if (slot.job?.message.id !== msg.id) return;
          this.finish(slot, new DecodeError(msg.error.reason));
          if (msg.retire) this.retire(slot);
          else this.pump();
          return;
      }
    });
    worker.on('error', (err: Error & { code?: string }) => {
      if (slot.retired) return;
      this.workerDied(slot, err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'decoder ran out of memory' : 'decoder crashed', err);
    });
    worker.on('exit', (code) => {
      if (slot.retired) return;
      this.workerDied(slot, 'decoder crashed', new Error(`worker exited with code ${code}`));
    });
  }

  private workerDied(slot: Slot, reason: string, err: Error): void {
    const wasReady = slot.ready;
    this.finish(slot, new DecodeError(reason, { cause: err }));
    if (!wasReady && ++this.startFailures >= MAX_START_FAILURES) {
      // The worker cannot start at all (a broken install): fail what is waiting rather than
      // spawning forever. The next decode() tries again from scratch.
      this.startFailures = 0;
      const message = `decoder worker failed to start: ${err.message.split('\n')[0]}`;
      for (const job of this.queue.splice(0)) job.reject(new DecodeError(message, { cause: err }));
    }
    this.retire(slot);
  }

  /** Settles the slot's job, if any, with pixels or an error. */
  private finish(slot: Slot, result: StoredPixels | DecodeError): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    const job = slot.job;
    slot.job = undefined;
    if (!job) return;
    if (result instanceof DecodeError) {
      this.counters.failed++;
      job.reject(result);
    } else {
      job.resolve(result);
    }
  }

  private retire(slot: Slot): void {
    if (slot.retired) return;
    slot.retired = true;
    this.counters.workersRetired++;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate().catch(() => undefined);
    this.pump();
  }
}
