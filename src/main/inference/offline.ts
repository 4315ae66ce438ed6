/**
 * Keeps onnxruntime offline. onnxruntime 1.30 collects telemetry by default on Linux: it looks up
 * a vendor collector host, persists a device id and an event queue under ~/.cache/Microsoft, and
 * writes /tmp/mat-debug-<pid>.log — on a reading-room PC that promised no network access.
 * onnxruntime-node exposes no option for it; the native library reads `ORT_DISABLE_TELEMETRY`
 * from the process environment when it creates its environment, so this module must run before
 * onnxruntime-node is loaded anywhere in the process. Import it first (side effect) wherever
 * onnxruntime-node is imported, and the main thread sets it before it starts an inference worker
 * (a worker's `process.env` is its own copy; only the main thread's writes reach the real
 * environment that native code reads).
 */
export const ORT_TELEMETRY_VARIABLE = 'ORT_DISABLE_TELEMETRY';

export function disableOnnxRuntimeTelemetry(): void {
  process.env[ORT_TELEMETRY_VARIABLE] = '1';
}

disableOnnxRuntimeTelemetry();
