/**
 * A sender's A-RELEASE settles the series its association carried whole, without the settle wait:
 * the rule on its own, then dcmtk's storescu sending phantom slices to the core's receiver. Senders
 * that open one association a slice, or add slices after the release, keep the settle wait.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleasedSeries } from '../../../src/main/assemble/index.js';
import { compose, type TriageCore } from '../../../src/main/core.js';
import { phantomSlices, tempDir } from '../../helpers.js';

const run = promisify(execFile);
const dir = tempDir('triage-release-');
afterAll(() => dir.cleanup());

describe('the release rule', () => {
  const t0 = new Date('2026-01-01T10:00:00.000Z');
  const at = (ms: number) => new Date(t0.getTime() + ms);

  it('marks the series a released association carried at least two slices of, once its grace has passed', () => {
    const releases = new ReleasedSeries(2_000);
    for (let i = 0; i < 3; i++) releases.carriedSlice(1, 'series-a');
    releases.carriedSlice(1, 'series-b'); // one slice says nothing about its series' end
    releases.ended(1, true, t0);
    expect(releases.nextDueInMs(at(500))).toBe(1_500);
    expect(releases.takeDue(at(1_999)).size).toBe(0);
    const due = releases.takeDue(at(2_000));
    expect([...due]).toEqual([['series-a', { releasedAt: t0.toISOString(), slices: 3 }]]);
    expect(releases.takeDue(at(5_000)).size).toBe(0); // taken once
    expect(releases.nextDueInMs(at(5_000))).toBeUndefined();
  });

  it('an aborted or dropped association marks nothing', () => {
    const releases = new ReleasedSeries(0);
    releases.carriedSlice(7, 'series-a');
    releases.carriedSlice(7, 'series-a');
    releases.ended(7, false, t0);
    expect(releases.takeDue(at(1_000)).size).toBe(0);
  });
});

describe('through the receiver', () => {
  let slices: string[] = [];
  beforeAll(() => {
    slices = phantomSlices(join(dir.path, 'phantom'), 31, 4);
  }, 120_000);

  let n = 0;
  async function withCore(releaseSettleMs: number | null, use: (core: TriageCore, send: (files: string[]) => Promise<void>) => Promise<void>): Promise<void> {
    // The settle wait is a minute: a series ready within seconds was settled by the release.
    const core = compose({ dataDir: join(dir.path, `data-${n++}`), settleMs: 60_000, releaseSettleMs });
    try {
      const receiver = await core.listen({ port: 0, aeTitle: 'ICH_TRIAGE' });
      // storescu sends every file it is given in one association, then releases it.
      const send = async (files: string[]) => {
        await run('storescu', ['-aet', 'CT_SCANNER', '-aec', 'ICH_TRIAGE', '127.0.0.1', String(receiver.port), ...files]);
      };
      await use(core, send);
    } finally {
      await core.stop();
    }
  }
  const state = (core: TriageCore) => core.worklist()[0]?.state;

  it('a series sent whole in one association is ready seconds after the release, not after the settle wait', async () => {
    await withCore(300, async (core, send) => {
      await send(slices);
      // Within 10 s of the release, while the settle wait is a minute (waitFor throws otherwise).
      await waitFor(() => state(core) === 'awaiting_model', 10_000);
      expect(core.worklist()[0]!.sliceCount).toBe(4);
    });
  }, 30_000);

  it('keeps the settle wait when releases are not to settle, for one association a slice, and for a slice after the release', async () => {
    await withCore(null, async (core, send) => {
      await send(slices);
      await sleep(2_000);
      expect(state(core)).toBe('receiving');
    });
    await withCore(300, async (core, send) => {
      for (const file of slices) await send([file]);
      await sleep(2_000);
      expect(state(core)).toBe('receiving');
    });
    // The fourth slice comes in a second association before the first one's grace ends: the
    // release spoke for three slices of a series that now has four.
    await withCore(1_500, async (core, send) => {
      await send(slices.slice(0, 3));
      await send(slices.slice(3));
      await sleep(3_000);
      expect(state(core)).toBe('receiving');
      expect(core.worklist()[0]!.sliceCount).toBe(4);
    });
  }, 60_000);
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await sleep(50);
  }
}
