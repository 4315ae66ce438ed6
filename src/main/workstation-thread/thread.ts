/**
 * The workstation thread's entry: starts the workstation (core, store, models, watcher, API) here,
 * so every SQLite statement, DICOM parse and scoring step runs off the thread that owns the
 * windows. Each API call is answered by dispatch (src/shared/api.ts) over the API implementation,
 * which validates the request; errors travel back as envelopes (errorReply: the message, and a
 * review conflict's decision).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { dispatch } from '../../shared/api.js';
import { errorReply } from '../api/index.js';
import { startWorkstation, type Workstation } from '../workstation.js';
import type { FromThread, ToThread, WorkstationThreadOptions } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('the workstation thread must be started as a worker thread');

const post = (m: FromThread): void => port.postMessage(m);
const options = workerData as WorkstationThreadOptions;
// Resolves to null when the workstation could not start (the host has been told why).
const started: Promise<Workstation | null> = startWorkstation({ ...options, log: (message) => post({ type: 'log', message }) }).then(
  (ws) => {
    ws.api.onEvent((event) => post({ type: 'event', event }));
    post({ type: 'started', modelsLoaded: ws.modelsLoaded });
    return ws;
  },
  (err: unknown) => {
    post({ type: 'failed', error: (err as Error).message });
    return null;
  },
);
let stopping: Promise<void> | null = null;

async function answer(m: Extract<ToThread, { type: 'call' }>): Promise<void> {
  const ws = await started;
  if (!ws || stopping) {
    post({ type: 'reply', id: m.id, envelope: { ok: false, error: 'the triage core is not running' } });
    return;
  }
  try {
    post({ type: 'reply', id: m.id, envelope: { ok: true, value: await dispatch(ws.api, m.method, m.request) } });
  } catch (err) {
    post({ type: 'reply', id: m.id, envelope: { ok: false, ...errorReply(err) } });
  }
}

/** Stops once, after a start still under way: finishes the current step, leaves queued work queued. */
function stop(): Promise<void> {
  stopping ??= (async () => {
    try {
      await (await started)?.stop();
    } catch (err) {
      post({ type: 'log', message: `stop: ${(err as Error).message}` });
    }
    post({ type: 'stopped' });
    port!.close();
  })();
  return stopping;
}

port.on('message', (m: ToThread) => {
  if (m.type === 'call') void answer(m);
  else void stop();
});
