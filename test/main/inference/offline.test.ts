/**
 * The offline promise, checked on the real process: `triage import` of a phantom study with the
 * bundled models (onnxruntime-node loaded, every network run) under strace. No connect/sendto/
 * sendmsg to any address but loopback and local sockets, and none of onnxruntime's telemetry
 * traces on disk (the device id and event queue under ~/.cache/Microsoft, /tmp/mat-debug-<pid>.log),
 * which onnxruntime 1.30 writes by default unless the app turns telemetry off
 * (src/main/inference/offline.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PYTHON, REPO_ROOT, tempDir } from '../../helpers.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;
const dir = tempDir('triage-offline-');
afterAll(() => dir.cleanup());

/** Network system calls to anything but loopback (AF_UNIX and netlink are local by construction). */
export function outboundCalls(trace: string): string[] {
  return trace
    .split('\n')
    .filter((l) => /\b(connect|sendto|sendmsg)\(/.test(l))
    .filter((l) => /AF_INET6?\b/.test(l))
    .filter((l) => !/inet_addr\("127\.|inet_pton\(AF_INET6, "::1"|"::ffff:127\./.test(l));
}

describe('offline by construction', () => {
  it('recognises an outbound call in strace output (the check can fail)', () => {
    const line = '123 connect(21, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("20.42.65.85")}, 16) = -1';
    const local = '123 connect(21, {sa_family=AF_INET, sin_port=htons(8737), sin_addr=inet_addr("127.0.0.1")}, 16) = 0';
    expect(outboundCalls([line, local].join('\n'))).toEqual([line]);
  });

  it.skipIf(!hasStrace)('an import with every model makes no outbound call and leaves no telemetry', () => {
    const input = join(dir.path, 'in');
    execFileSync(PYTHON, ['-m', 'models.phantom', 'generate', '--studies', '1', '--seed', '31', '--slices-min', '4',
      '--slices-max', '4', '--out', input], { cwd: REPO_ROOT, stdio: 'pipe' });
    rmSync(join(input, 'study_00000', 'phantom.json')); // the generator's notes, not a slice
    const home = join(dir.path, 'home');
    const tracePath = join(dir.path, 'trace.txt');
    const started = Date.now() - 1000; // a mat-debug file left by an earlier process whose pid came back is not this run's
    const r = spawnSync('strace', ['-f', '-e', 'trace=connect,sendto,sendmsg', '-o', tracePath, process.execPath,
      join(REPO_ROOT, 'bin', 'triage.mjs'), '--data-dir', join(dir.path, 'data'), '--init', 'import', join(input, 'study_00000')], {
      encoding: 'utf8',
      env: { ...process.env, HOME: home, ORT_DISABLE_TELEMETRY: '' },
      timeout: 240_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/4 stored/);
    // Scoring is not silent: progress by quarter, then the series scored.
    expect(r.stderr).toMatch(/scoring series [\d.]+: \d+\/\d+ slice runs \(\w+\)/);
    expect(r.stderr).toMatch(/scored series /);
    const trace = readFileSync(tracePath, 'utf8');
    expect(outboundCalls(trace)).toEqual([]);
    expect(existsSync(join(home, '.cache', 'Microsoft'))).toBe(false);
    const pids = new Set(trace.split('\n').map((l) => l.split(' ')[0]).filter((p) => /^\d+$/.test(p!)));
    expect(pids.size).toBeGreaterThan(0);
    for (const pid of pids) {
      const log = `/tmp/mat-debug-${pid}.log`;
      const written = existsSync(log) && statSync(log).mtimeMs >= started;
      expect(written, `${log} written by this run`).toBe(false);
    }
  }, 300_000);
});
