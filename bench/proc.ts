/**
 * Child processes of the benchmark. Every measurement whose memory matters runs in its own
 * process, so its peak resident set (VmHWM) is its own and not the sum of what ran before.
 *
 * Input: a command, its arguments, a memory ceiling. Output: the last JSON line the child printed
 * on stdout, or the reason there is none (killed at the ceiling, exited non-zero, timed out).
 * While the child runs its VmRSS is polled; past the ceiling it is killed, so a configuration too
 * big for the machine costs one skipped row, not the other engineers' processes.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The interpreter with torch, numpy and pydicom (the python3 on PATH lacks torch). */
export const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';

export interface ChildResult<T> {
  ok: boolean;
  value?: T;
  /** Why there is no value: killed at the memory ceiling, non-zero exit, timeout. */
  reason?: string;
  /** Highest VmRSS seen by polling (bytes); the child's own VmHWM is exact, this is a floor. */
  polledPeakRssBytes: number;
  wallSeconds: number;
  /**
   * Share of the machine's CPU time (all cores, hypervisor steal included) that went to other
   * processes while this child ran: 0 on an otherwise idle machine. A figure measured with a
   * large share is a figure of a shared machine.
   */
  othersCpuShare: number | null;
}

/** Aggregate CPU ticks from /proc/stat: busy (steal included) and total; undefined off Linux. */
function cpuTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** utime + stime of a process, in clock ticks (all its threads). */
function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Clock ticks per second of /proc/stat (USER_HZ): 100 on every Linux we ship to. */
const USER_HZ = 100;

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM); undefined off Linux or once gone. */
export function procStatusBytes(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface RunOptions {
  memLimitBytes: number;
  timeoutMs: number;
  /** Lines of the child's stderr are passed here (progress, warnings). */
  onStderr?: (line: string) => void;
}

export function runJsonChild<T>(
  command: string,
  args: string[],
  opts: RunOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ChildResult<T>> {
  const started = performance.now();
  return new Promise((resolveResult) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderrTail = '';
    let polledPeak = 0;
    let killedWhy: string | undefined;
    const cpuStart = cpuTicks();
    const selfStart = process.cpuUsage();
    let childTicks = 0;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderrTail = (stderrTail + d).slice(-4000);
      if (opts.onStderr) for (const line of d.split('\n')) if (line.trim()) opts.onStderr(line);
    });
    const poll = setInterval(() => {
      childTicks = (child.pid ? processTicks(child.pid) : undefined) ?? childTicks;
      const rss = child.pid ? procStatusBytes(child.pid, 'VmRSS') : undefined;
      if (rss === undefined) return;
      polledPeak = Math.max(polledPeak, rss);
      if (rss > opts.memLimitBytes && !killedWhy) {
        killedWhy = `killed: resident memory reached ${gb(rss)} GB, over the ${gb(opts.memLimitBytes)} GB ceiling`;
        child.kill('SIGKILL');
      }
    }, 100);
    const timer = setTimeout(() => {
      if (!killedWhy) killedWhy = `killed: still running after ${Math.round(opts.timeoutMs / 1000)} s`;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      const wallSeconds = (performance.now() - started) / 1000;
      const cpuEnd = cpuTicks();
      const self = process.cpuUsage(selfStart);
      const selfTicks = ((self.user + self.system) / 1e6) * USER_HZ;
      // The child's last 100 ms are not in childTicks; the share is a close estimate, not exact.
      const othersCpuShare =
        cpuStart && cpuEnd && cpuEnd.total > cpuStart.total
          ? Math.max(0, (cpuEnd.busy - cpuStart.busy - childTicks - selfTicks) / (cpuEnd.total - cpuStart.total))
          : null;
      const base = { polledPeakRssBytes: polledPeak, wallSeconds, othersCpuShare };
      if (killedWhy) return resolveResult({ ok: false, reason: killedWhy, ...base });
      const last = stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
      if (code !== 0 || !last) {
        const why = stderrTail.trim().split('\n').slice(-3).join(' | ');
        return resolveResult({ ok: false, reason: `exited ${code ?? signal}: ${why || 'no output'}`, ...base });
      }
      try {
        resolveResult({ ok: true, value: JSON.parse(last) as T, ...base });
      } catch (err) {
        resolveResult({ ok: false, reason: `unparsable output: ${(err as Error).message}`, ...base });
      }
    });
  });
}

/** A TypeScript child under tsx, the way bin/bench.mjs runs the driver. */
export function runTsChild<T>(file: string, input: unknown, opts: RunOptions): Promise<ChildResult<T>> {
  return runJsonChild<T>(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, file), JSON.stringify(input)], opts);
}

/**
 * OpenMP threads that sleep instead of spinning while they wait: with the default spin-wait,
 * PyTorch on a 2-core machine where another process holds a core ran 10-60x slower (measured:
 * EfficientNet-B3 at batch 1, 4.0 s against 0.07 s a slice), which would measure the scheduler,
 * not the kernels. onnxruntime's own thread pool showed no such collapse. A value already set by
 * the caller is kept.
 */
export const PYTHON_ENV: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' };

export function runPython<T>(script: string, args: string[], opts: RunOptions): Promise<ChildResult<T>> {
  return runJsonChild<T>(PYTHON, [resolve(REPO_ROOT, script), ...args], opts, PYTHON_ENV);
}

export function gb(bytes: number): string {
  return (bytes / 1e9).toFixed(2);
}
