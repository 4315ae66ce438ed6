/**
 * The workstation in a worker thread, as the Electron shell runs it: calls answered (and
 * validated) in the thread, errors as rejections carrying the API's message (and a review
 * conflict's decision), events forwarded,
 * the data folder held by the thread and released by stop(), and a start that fails (the folder
 * in use) reported with its reason. Real core, real SQLite, real worker thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiError, type ApiEvent, type ReviewEntry } from '../../../src/shared/api.js';
import { acquireDataLock, DataFolderInUse, Store } from '../../../src/main/store/index.js';
import { recordSeries } from '../../fixtures/store.js';
import { startWorkstationThread, type WorkstationThread } from '../../../src/main/workstation-thread/index.js';

describe('the workstation thread', () => {
  let dir: string;
  let ws: WorkstationThread;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'triage-thread-'));
    // One study on record before the thread opens the folder, for the review conflict below.
    const store = Store.open(join(dir, 'data'));
    recordSeries(store, 1);
    store.close();
    ws = await startWorkstationThread({ dataDir: join(dir, 'data'), models: false }, (m) => logs.push(m));
  });

  afterAll(async () => {
    await ws?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers API calls from the thread that owns the store', async () => {
    expect(ws.modelsLoaded).toBe(0);
    expect(await ws.call('status', {})).toMatchObject({ dataDir: join(dir, 'data'), counts: expect.any(Object) });
    expect(await ws.call('worklist', {})).toMatchObject({ rows: [expect.objectContaining({ studyUid: '1.2.3.1' })] });
    // The folder is locked by the thread's core, so a second store in this thread is refused.
    expect(() => acquireDataLock(join(dir, 'data'), 'test')).toThrow(DataFolderInUse);
  });

  it('validates in the thread and rejects with the API message', async () => {
    await expect(ws.call('worklist', { sort: 'random' })).rejects.toThrow(/invalid worklist request/);
    await expect(ws.call('study', { studyUid: '9.9.9' })).rejects.toThrow('no study 9.9.9');
    await expect(ws.call('slice', { instanceId: -1 })).rejects.toThrow(/invalid slice request/);
  });

  it("rejects a review conflict with the other decision as it came, for the IPC envelope", async () => {
    await ws.call('signIn', { name: 'Dr Ahmed', create: true });
    const first = (await ws.call('review', { studyUid: '1.2.3.1', decision: 'in_review', after: null })) as { review: ReviewEntry };
    const late = await ws.call('review', { studyUid: '1.2.3.1', decision: 'confirmed', after: null }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(ApiError);
    expect(late).toMatchObject({ method: 'review', message: expect.stringMatching(/decided meanwhile: in_review by Dr Ahmed/) });
    expect((late as ApiError).conflict).toEqual({ studyUid: '1.2.3.1', latest: first.review });
    // Other failures carry no conflict.
    expect(await ws.call('study', { studyUid: '9.9.9' }).catch((e: ApiError) => e.conflict)).toBeUndefined();
  });

  it('forwards the API events', async () => {
    const got: ApiEvent[] = [];
    const off = ws.onEvent((e) => got.push(e));
    expect(await ws.call('signIn', { name: 'Dr Ahmed', create: true })).toMatchObject({ reviewer: 'Dr Ahmed' });
    await vi.waitFor(() => expect(got).toContainEqual(expect.objectContaining({ type: 'changed', reason: 'session' })));
    const settings = (await ws.call('updateSettings', { thresholds: { any: 0.42 } })) as { thresholds: { any: number } };
    expect(settings.thresholds.any).toBe(0.42);
    await vi.waitFor(() => expect(got).toContainEqual(expect.objectContaining({ type: 'changed', reason: 'settings' })));
    off();
  });

  it('stops: the database closes, the lock is released, later calls are refused', async () => {
    const exits: string[] = [];
    ws.onExit((r) => exits.push(r));
    await ws.stop();
    await ws.stop(); // twice is once
    acquireDataLock(join(dir, 'data'), 'test')();
    await expect(ws.call('status', {})).rejects.toThrow(/stop/);
    expect(exits).toEqual([]); // asked to stop: no crash report
  });

  it('reports a start that fails, with its reason', async () => {
    const release = acquireDataLock(join(dir, 'held'), 'another workstation');
    try {
      await expect(startWorkstationThread({ dataDir: join(dir, 'held'), models: false })).rejects.toThrow(/data folder .*held is in use/);
    } finally {
      release();
    }
  });
});
