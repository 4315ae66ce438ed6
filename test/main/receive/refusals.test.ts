/**
 * What the receiver answers a sender, against dcmtk's storescu: success only for a slice the
 * workstation will use; a failure status with the reason (Error Comment) for one it keeps but
 * will not score, so the sending PACS keeps its copy; and never an overwritten original. Files are
 * real phantom DICOM (RSNA-style `ID_…` SOP Instance UIDs, which the folder import takes too).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, type TriageCore } from '../../../src/main/core.js';
import type { DicomReceiver } from '../../../src/main/receive/index.js';
import { findElement, phantomSlices, tempDir, withElementText } from '../../helpers.js';

const HAVE_DCMTK = existsSync('/usr/bin/storescu');
const run = promisify(execFile);
const dir = tempDir('triage-refusals-');
let core: TriageCore;
let receiver: DicomReceiver;
let slices: string[];

/** storescu's debug log of one send (the response's status and Error Comment), and whether it exited 0. */
async function send(...files: string[]): Promise<{ ok: boolean; log: string }> {
  try {
    const r = await run('storescu', ['-d', '-aet', 'CT_SCANNER', '-aec', 'ICH_TRIAGE', '127.0.0.1', String(receiver.port), ...files]);
    return { ok: true, log: `${r.stdout}${r.stderr}` };
  } catch (e) {
    const r = e as { stdout?: string; stderr?: string };
    return { ok: false, log: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  }
}

function write(name: string, bytes: Uint8Array): string {
  const p = join(dir.path, name);
  writeFileSync(p, bytes);
  return p;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.skipIf(!HAVE_DCMTK)('C-STORE answers', () => {
  beforeAll(async () => {
    slices = phantomSlices(join(dir.path, 'ph'), 51, 4);
    core = compose({ dataDir: join(dir.path, 'data'), settleMs: 60_000 });
    receiver = await core.listen({ port: 0, aeTitle: 'ICH_TRIAGE', allowedCallingAeTitles: ['CT_SCANNER'] });
  });
  afterAll(async () => {
    await core?.stop();
    dir.cleanup();
  });

  it('stores the phantom files, RSNA-style UIDs and all: one rule for both doors', async () => {
    const { ok, log } = await send(...slices);
    expect(ok, log).toBe(true);
    expect(log).not.toMatch(/Status\s*:?\s*0x[1-9a-f]/i);
    expect(receiver.stats.stored).toBe(4);
    expect(core.store.counts().instances).toBe(4);
  });

  it('refuses a non-CT object with 0xA900 and the reason, and keeps it in the quarantine', async () => {
    const mr = withElementText(withElementText(new Uint8Array(readFileSync(slices[0]!)), 0x0008, 0x0060, 'MR'), 0x0008, 0x0018, 'ID_mr0001');
    const { ok, log } = await send(write('mr.dcm', mr));
    expect(ok).toBe(false); // storescu reports the failure to its operator
    expect(log).toMatch(/DataSetDoesNotMatchSOPClass|0xa900/i);
    expect(log).toMatch(/Modality is MR, not CT/);
    expect(core.quarantine().some((q) => q.reason === 'Modality is MR, not CT')).toBe(true);
    // Sent again, the same file is refused again for the same reason: never a late Success.
    const again = await send(join(dir.path, 'mr.dcm'));
    expect(again.ok).toBe(false);
    expect(again.log).toMatch(/Modality is MR, not CT/);
  });

  it('refuses an unusable RescaleSlope with 0xC000 and the reason', async () => {
    const bad = withElementText(withElementText(new Uint8Array(readFileSync(slices[1]!)), 0x0028, 0x1053, 'NaN'), 0x0008, 0x0018, 'ID_nan0001');
    const { ok, log } = await send(write('nan.dcm', bad));
    expect(ok).toBe(false);
    expect(log).toMatch(/CannotUnderstand|0xc000/i);
    expect(log).toMatch(/RescaleSlope/);
    expect(core.quarantine().some((q) => /RescaleSlope \(0028,1053\) is NaN/.test(q.reason))).toBe(true);
  });

  it('keeps both files when a second instance reuses a SOP Instance UID with other pixels', async () => {
    const first = new Uint8Array(readFileSync(slices[2]!));
    const el = findElement(first, 0x7fe0, 0x0010);
    const second = Uint8Array.from(first);
    const at = el.explicit ? el.tagAt + 12 + 1000 : el.valueAt + 1000; // a pixel byte (OW: 4-byte length)
    second[at] = second[at]! ^ 0x55;
    const spool = join(dir.path, 'data', 'received');
    const hashes = () => new Map(readdirSync(spool).filter((f) => f.endsWith('.dcm')).map((f) => [f, sha(readFileSync(join(spool, f)))]));
    const before = hashes();
    const { ok, log } = await send(write('again.dcm', second));
    expect(ok).toBe(false);
    expect(log).toMatch(/CannotUnderstand|0xc000/i);
    expect(log).toMatch(/conflict/);
    const after = hashes();
    // every file received before is untouched; the conflicting instance has a file of its own
    for (const [f, h] of before) expect(after.get(f), f).toBe(h);
    const added = [...after.keys()].filter((f) => !before.has(f));
    expect(added).toHaveLength(1);
    expect([...before.values()]).not.toContain(after.get(added[0]!));
    expect(core.store.counts().conflicts).toBe(1);
    // the same bytes again are the same file: nothing new, and success
    const again = await send(slices[2]!);
    expect(again.ok, again.log).toBe(true);
    expect(hashes().size).toBe(after.size);
  });
});
