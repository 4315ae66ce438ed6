/**
 * The receiver is a second door to the same ingest: instances sent by dcmtk's storescu appear in
 * the worklist exactly like files dropped in the import folder, refusals in the quarantine.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { compose } from '../../../src/main/core.js';
import { corpus, CT1_UNC, fixture, HAVE_CORPUS, tempDir } from '../../helpers.js';

const run = promisify(execFile);
const dir = tempDir();
afterAll(() => dir.cleanup());

it.skipIf(!HAVE_CORPUS)('instances received over C-STORE go through the normal ingest', async () => {
  const send = join(dir.path, 'send');
  mkdirSync(send);
  fixture('series', '--base', corpus(CT1_UNC), '--out', send, '--count', '5');
  const core = compose({ dataDir: join(dir.path, 'data'), settleMs: 300 });
  try {
    const receiver = await core.listen({ port: 0, aeTitle: 'ICH_TRIAGE', allowedCallingAeTitles: ['CT_SCANNER'] });
    const files = readdirSync(send).map((f) => join(send, f));
    // Asynchronously: the receiver answers from this very process's event loop.
    await run('storescu', ['-aet', 'CT_SCANNER', '-aec', 'ICH_TRIAGE', '127.0.0.1', String(receiver.port), ...files]);
    await waitFor(() => core.worklist()[0]?.state === 'awaiting_model', 10_000);
    const [row] = core.worklist();
    expect(row!.sliceCount).toBe(5);
    expect(receiver.stats.stored).toBe(5);

    // A refused instance (not CT) is kept in the quarantine with its reason; the sender is told it
    // failed (storescu exits non-zero), so that it keeps its copy (test/main/receive/refusals.test.ts).
    const mr = join(dir.path, 'mr');
    mkdirSync(mr);
    fixture('variant', '--base', corpus(CT1_UNC), '--out', join(mr, 'mr.dcm'), '--set', 'Modality=MR', '--set', 'SOPInstanceUID=1.2.3.4.5.6.7');
    await expect(run('storescu', ['-aet', 'CT_SCANNER', '-aec', 'ICH_TRIAGE', '127.0.0.1', String(receiver.port), join(mr, 'mr.dcm')])).rejects.toThrow();
    await waitFor(() => core.quarantine().length === 1, 10_000);
    expect(core.quarantine()[0]!.reason).toBe('Modality is MR, not CT');
  } finally {
    await core.stop();
  }
});

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
