/**
 * Decoder worker entry (worker_threads). Input: ToWorker messages. Output: FromWorker messages.
 * Runs the codecs away from the main thread so a codec that crashes, hangs or balloons on a
 * hostile stream costs one DecodeError, not the app (ARCHITECTURE.md: the main process stays
 * responsive). The pool enforces the time limit by terminating this thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeFrame } from './decode-frame.js';
import type { DecoderWorkerData, FromWorker, ToWorker } from './protocol.js';
import { DecodeError } from './types.js';
import { capWasmMemory, isFatalWasmError, takeMemoryLimitHit } from './wasm-module.js';

const port = parentPort;
if (!port) throw new Error('decode-worker.ts must run in a worker thread');
const config = workerData as DecoderWorkerData;
capWasmMemory(config.memoryLimitBytes);

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

port.on('message', (msg: ToWorker) => {
  void handle(msg);
});

async function handle(msg: ToWorker): Promise<void> {
  if (msg.type === 'debug') {
    if (!config.testHooks) {
      post({ type: 'failed', id: msg.id, error: { name: 'DecodeError', reason: 'test hooks are disabled' }, retire: false });
      return;
    }
    if (msg.action === 'crash') process.exit(70);
    for (;;) {
      // Spin until the pool terminates us.
    }
  }
  try {
    const pixels = await decodeFrame(msg.transferSyntaxUid, msg.frame, msg.desc, { memoryBytes: config.memoryLimitBytes });
    post({ type: 'decoded', id: msg.id, pixels }, [pixels.buffer as ArrayBuffer]);
  } catch (e) {
    const limitHit = takeMemoryLimitHit();
    const reason = limitHit
      ? 'decoder ran out of memory'
      : e instanceof DecodeError
        ? e.reason
        : `decoder failed: ${e instanceof Error ? e.message : String(e)}`;
    post({
      type: 'failed',
      id: msg.id,
      error: { name: 'DecodeError', reason },
      retire: limitHit || isFatalWasmError(e),
    });
  }
}

post({ type: 'ready' });
