/**
 * The workstation in a worker thread, for the Electron shell. Input: the workstation's options.
 * Output: `call(method, request)` answering like dispatch, the API's events, log lines, and stop().
 *
 * Why a thread: the Electron main thread also draws the menus, routes every IPC message and keeps
 * the windows responsive. SQLite calls are synchronous (better-sqlite3), and the worklist query
 * alone takes 70–160 ms at 100,000 studies on a 2-core CPU (`npm run bench`); storing slices, settling series
 * and writing scores add more while a study arrives. In this thread they block only each other.
 * Requests are validated once, by the API implementation inside the thread; this side forwards
 * them as they are.
 */
import type { Worker } from 'node:worker_threads';
import { ApiError, type ApiEvent, type ApiMethod } from '../../shared/api.js';
import { startWorker, workerUrl } from '../workers/index.js';
import type { FromThread, ToThread, WorkstationThreadOptions } from './protocol.js';

export type { WorkstationThreadOptions } from './protocol.js';

export interface WorkstationThread {
  /** Models loaded and scoring in the thread (0: series wait for a model). */
  readonly modelsLoaded: number;
  /**
   * One API call, validated and answered in the thread; rejects with an ApiError carrying the API's
   * message (and a review conflict's decision).
   */
  call(method: ApiMethod, request: unknown): Promise<unknown>;
  onEvent(listener: (e: ApiEvent) => void): () => void;
  /**
   * Called once if the thread ends without being asked to (an uncaught error, a crash in native
   * code): every pending and later call is refused with this reason.
   */
  onExit(listener: (reason: string) => void): void;
  /** Finishes the current step, closes the database and ends the thread. */
  stop(): Promise<void>;
}

interface Pending {
  method: ApiMethod;
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** Starts the thread and waits until the workstation in it is up (or says why it is not). */
export async function startWorkstationThread(options: WorkstationThreadOptions, log: (m: string) => void = () => {}): Promise<WorkstationThread> {
  const host = new ThreadHost(startWorker(workerUrl(import.meta.url, './thread.ts'), { workerData: options }), log);
  await host.started;
  return host;
}

class ThreadHost implements WorkstationThread {
  modelsLoaded = 0;
  readonly started: Promise<void>;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: ApiEvent) => void>();
  private readonly exitListeners = new Set<(reason: string) => void>();
  private ended: string | null = null;
  private stopRequested = false;
  private stopped: Promise<void> | null = null;
  private markStarted!: () => void;
  private markFailed!: (e: Error) => void;

  constructor(
    private readonly worker: Worker,
    private readonly log: (m: string) => void,
  ) {
    this.started = new Promise<void>((ok, fail) => {
      this.markStarted = ok;
      this.markFailed = fail;
    });
    worker.on('message', (m: FromThread) => this.receive(m));
    worker.on('error', (err) => this.end(`the triage core failed: ${err.message}`));
    worker.on('exit', (code) => this.end(this.stopRequested ? 'the triage core has stopped' : `the triage core stopped unexpectedly (exit code ${code})`));
  }

  call(method: ApiMethod, request: unknown): Promise<unknown> {
    if (this.ended !== null || this.stopRequested) return Promise.reject(new Error(this.ended ?? 'the triage core is stopping'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      this.post({ type: 'call', id, method, request });
    });
  }

  onEvent(listener: (e: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onExit(listener: (reason: string) => void): void {
    this.exitListeners.add(listener);
  }

  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      this.stopRequested = true;
      if (this.ended !== null) return resolve();
      this.worker.once('exit', () => resolve());
      this.post({ type: 'stop' });
    });
    return this.stopped;
  }

  private post(m: ToThread): void {
    this.worker.postMessage(m);
  }

  private receive(m: FromThread): void {
    switch (m.type) {
      case 'started':
        this.modelsLoaded = m.modelsLoaded;
        this.markStarted();
        break;
      case 'failed':
        this.stopRequested = true;
        this.markFailed(new Error(m.error));
        void this.worker.terminate();
        break;
      case 'reply': {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.envelope.ok) p?.resolve(m.envelope.value);
        // A review conflict's decision rides along as it came: the screen validates it.
        else p?.reject(new ApiError(m.envelope.error, p.method, m.envelope.conflict));
        break;
      }
      case 'event':
        for (const l of this.listeners) l(m.event);
        break;
      case 'log':
        this.log(m.message);
        break;
      case 'stopped':
        // The database is closed and the queue left for the next start: nothing in the thread
        // is worth waiting for (a stray timer must not keep quitting waiting). 'exit' settles stop().
        void this.worker.terminate();
        break;
    }
  }

  /** The thread is gone: refuse what waits, tell whoever listens once, unless it was asked to go. */
  private end(reason: string): void {
    if (this.ended !== null) return;
    this.ended = reason;
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
    this.markFailed(new Error(reason));
    if (!this.stopRequested) for (const l of this.exitListeners) l(reason);
  }
}
