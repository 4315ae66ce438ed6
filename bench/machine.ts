/**
 * The machine a run measured: CPU model (/proc/cpuinfo), cores, RAM, OS, runtime versions, and
 * the load average, because on a shared machine a figure means little without it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, release, totalmem, type as osType } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  /** The vector extensions the kernels can use (a VM's CPU name can be as bare as "AMD EPYC"). */
  cpuFeatures: string[];
  logicalCores: number;
  availableParallelism: number;
  memoryBytes: number;
  os: string;
  kernel: string;
  node: string;
  onnxruntimeNode: string;
  python?: Record<string, unknown>;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

export function machineInfo(): MachineInfo {
  const cpuinfo = readOr('/proc/cpuinfo', '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const flags = new Set((/^flags\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? '').split(/\s+/));
  const features = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'neon', 'asimd'].filter((f) => flags.has(f));
  const osRelease = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readOr('/etc/os-release', ''))?.[1] ?? osType();
  const require = createRequire(import.meta.url);
  const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
  return {
    cpuModel: model,
    cpuFeatures: features,
    logicalCores: cpus().length,
    availableParallelism: availableParallelism(),
    memoryBytes: totalmem(),
    os: osRelease,
    kernel: `${osType()} ${release()}`,
    node: process.version,
    onnxruntimeNode: ortVersion,
    loadAverageAtStart: loadavg(),
  };
}
