/**
 * The messages between the Electron main thread and the workstation thread. Everything is plain
 * data (structured clone): the thread's options, API calls in and envelopes out, the API's events,
 * log lines, and the stop handshake.
 */
import type { ApiEvent, ApiMethod, Envelope } from '../../shared/api.js';
import type { WorkstationOptions } from '../workstation.js';

/** The workstation's options that can cross a thread boundary: all but its callbacks and the core's own. */
export type WorkstationThreadOptions = Omit<WorkstationOptions, 'log' | 'core'>;

/** Main → thread. */
export type ToThread = { type: 'call'; id: number; method: ApiMethod; request: unknown } | { type: 'stop' };

/** Thread → main. */
export type FromThread =
  | { type: 'started'; modelsLoaded: number }
  | { type: 'failed'; error: string }
  | { type: 'reply'; id: number; envelope: Envelope }
  | { type: 'event'; event: ApiEvent }
  | { type: 'log'; message: string }
  | { type: 'stopped' };
