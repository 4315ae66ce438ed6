/**
 * onnxruntime's profiler output → time per operator type.
 *
 * Input: the Chrome-trace JSON a session writes with `enableProfiling` (an array of events; a
 * kernel's event is cat 'Node', name '<node>_kernel_time', args.op_name its operator type after
 * graph optimisation, so fused kernels such as FusedConv appear as what actually ran). Output:
 * operator types by total kernel time with their share. The first `model_run` is the warm-up and
 * is left out; only kernels inside the later runs count.
 */
export interface ProfileEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string; provider?: string };
}

export interface OperatorShare {
  opType: string;
  totalMs: number;
  share: number;
  calls: number;
}

export interface ProfileSummary {
  runs: number;
  kernelMsPerRun: number;
  /** Wall time of a profiled run (the profiler's own overhead included). */
  runMs: number;
  operators: OperatorShare[];
}

export function summariseProfile(events: ProfileEvent[]): ProfileSummary {
  const runs = events
    .filter((e) => e.cat === 'Session' && e.name === 'model_run' && e.ts !== undefined && e.dur !== undefined)
    .sort((a, b) => a.ts! - b.ts!)
    .slice(1);
  const inRun = (ts: number) => runs.some((r) => ts >= r.ts! && ts <= r.ts! + r.dur!);
  const byOp = new Map<string, { us: number; calls: number }>();
  let totalUs = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || e.ts === undefined || !inRun(e.ts)) continue;
    const op = e.args?.op_name ?? 'unknown';
    const entry = byOp.get(op) ?? { us: 0, calls: 0 };
    entry.us += e.dur ?? 0;
    entry.calls += 1;
    byOp.set(op, entry);
    totalUs += e.dur ?? 0;
  }
  const n = Math.max(1, runs.length);
  const operators = [...byOp.entries()]
    .map(([opType, v]) => ({ opType, totalMs: v.us / 1000 / n, share: totalUs ? v.us / totalUs : 0, calls: v.calls / n }))
    .sort((a, b) => b.totalMs - a.totalMs);
  return {
    runs: runs.length,
    kernelMsPerRun: totalUs / 1000 / n,
    runMs: runs.reduce((s, r) => s + r.dur!, 0) / 1000 / n,
    operators,
  };
}
