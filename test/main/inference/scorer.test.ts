/**
 * The ONNX scorer against real models: the repository's Conv-LSTM (small enough for CI), a
 * tampered copy, and a model that breaks the contract.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose } from '../../../src/main/core.js';
import { OnnxSeriesScorer, sha256File } from '../../../src/main/inference/scorer.js';
import { corpus, CT1_UNC, fixture, HAVE_CORPUS, PYTHON, REPO_ROOT, tempDir, withDatabase } from '../../helpers.js';

const dir = tempDir();
const inbox = join(dir.path, 'inbox');
afterAll(() => dir.cleanup());

interface ManifestModel {
  id: string;
  files: { path: string; sha256: string }[];
}
const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'manifest.json'), 'utf8')) as {
  models: ManifestModel[];
  ensembles: unknown[];
};
const convlstm = manifest.models.find((m) => m.id === 'convlstm')!;

/** A models folder holding the given manifest entries, their files copied from models/. */
function modelsDir(name: string, models: ManifestModel[]): string {
  const out = join(dir.path, name);
  for (const m of models) {
    for (const f of m.files) {
      mkdirSync(join(out, f.path, '..'), { recursive: true });
      try {
        copyFileSync(join(REPO_ROOT, 'models', f.path), join(out, f.path));
      } catch {
        // a file made by the test itself is already in place
      }
    }
  }
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ models, ensembles: [] }));
  return out;
}

beforeAll(() => {
  if (!HAVE_CORPUS) return;
  mkdirSync(inbox);
  fixture('series', '--base', corpus(CT1_UNC), '--out', inbox, '--count', '3');
});

describe.skipIf(!HAVE_CORPUS)('the ONNX scorer', () => {
  it('scores a ready series with a real model: per-slice predictions, study scores, ranking', async () => {
    const core = compose({ dataDir: join(dir.path, 'data-ok'), settleMs: 0 });
    const scorer = await OnnxSeriesScorer.create({ store: core.store, dataDir: core.dataDir, modelsDir: modelsDir('ok', [convlstm]) });
    expect(scorer).toBeDefined();
    expect(scorer!.modelStates()).toEqual([
      expect.objectContaining({ modelId: 'convlstm', status: 'loaded', provider: 'cpu', reason: expect.stringMatching(/CUDA provider not installed/) }),
    ]);
    core.attachScorer(scorer!);
    const progress: { done: number; total: number; inFlight: number }[] = [];
    core.on((e) => {
      if (e.type === 'series-scoring') progress.push({ ...e.progress, inFlight: core.scoringProgress().size });
    });
    await core.importFolder(inbox);
    // One event per batch while the series is in flight, ending at every slice run done.
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ done: 3, total: 3, inFlight: 1 });
    expect(core.scoringProgress().size).toBe(0);
    const [row] = core.worklist();
    expect(row!.state).toBe('scored');
    expect(row!.score).not.toBeNull();
    for (const p of Object.values(row!.score!)) expect(p).toBeGreaterThanOrEqual(0);
    // With only the Conv-LSTM installed, it ranks alone and the worklist says so.
    expect(row!.scoredBy).toBe('convlstm (ensemble unavailable)');
    const preds = core.store.predictions.all().get('convlstm')!;
    expect(preds.filter((p) => p.provider === 'cpu')).toHaveLength(3);
    const keys = core.store.scores.get(row!.studyUid, 'ranking')!.keySlices;
    expect(keys).toHaveLength(3);
    await core.stop();
  });

  it('a series that grows after it was scored runs only its new slices; a changed model file runs them all again', async () => {
    const uids = ['--study-uid', '1.2.826.0.1.3680043.8.498.901', '--series-uid', '1.2.826.0.1.3680043.8.498.902', '--uid-prefix', '1.2.826.0.1.3680043.8.498.903.'];
    const first = join(dir.path, 'grow-3');
    const grown = join(dir.path, 'grow-5');
    mkdirSync(first);
    mkdirSync(grown);
    fixture('series', '--base', corpus(CT1_UNC), '--out', first, '--count', '3', ...uids);
    fixture('series', '--base', corpus(CT1_UNC), '--out', grown, '--count', '5', ...uids); // the same 3, then 2 more
    const core = compose({ dataDir: join(dir.path, 'data-grow'), settleMs: 0 });
    const models = modelsDir('grow', [convlstm]);
    const scorer = await OnnxSeriesScorer.create({ store: core.store, dataDir: core.dataDir, modelsDir: models });
    core.attachScorer(scorer!);
    const totals: number[] = [];
    core.on((e) => {
      if (e.type === 'series-scoring' && e.progress.done === e.progress.total) totals.push(e.progress.total);
    });
    await core.importFolder(first);
    const stored = () => withDatabase(core.dataDir, (db) => db.prepare('SELECT instance_id, p_any, created_at FROM predictions ORDER BY instance_id').all());
    const before = stored();
    await core.importFolder(grown);
    expect(totals).toEqual([3, 2]);
    const after = stored();
    expect(after).toHaveLength(5);
    expect(after.slice(0, 3)).toEqual(before); // the first three kept, not run again
    expect(core.worklist()[0]!.state).toBe('scored');
    await core.stop();

    // Another file for the model (here the same weights under another name, which is enough to
    // change what made the answers): every slice runs again.
    const changed = join(dir.path, 'grow-changed');
    mkdirSync(join(changed, 'convlstm'), { recursive: true });
    copyFileSync(join(models, convlstm.files[0]!.path), join(changed, 'convlstm', 'convlstm-copy.onnx'));
    const renamed = { ...convlstm, files: [{ ...convlstm.files[0]!, path: 'convlstm/convlstm-copy.onnx' }] };
    writeFileSync(join(changed, 'manifest.json'), JSON.stringify({ models: [renamed], ensembles: [] }));
    const again = compose({ dataDir: join(dir.path, 'data-grow'), settleMs: 0 });
    const rescorer = await OnnxSeriesScorer.create({ store: again.store, dataDir: again.dataDir, modelsDir: changed });
    const rerun: number[] = [];
    await rescorer!.scoreSeries('1.2.826.0.1.3680043.8.498.902', (p) => rerun.push(p.total));
    expect(rerun.at(-1)).toBe(5);
    await rescorer!.close();
    await again.stop();
  });

  it('scores a series while it arrives: a provisional study score from the slices so far, then a final one that runs only the rest', async () => {
    const uids = ['--study-uid', '1.2.826.0.1.3680043.8.498.911', '--series-uid', '1.2.826.0.1.3680043.8.498.912', '--uid-prefix', '1.2.826.0.1.3680043.8.498.913.'];
    const part = join(dir.path, 'stream-3');
    const whole = join(dir.path, 'stream-5');
    const watched = join(dir.path, 'stream-watched');
    for (const d of [part, whole, watched]) mkdirSync(d);
    fixture('series', '--base', corpus(CT1_UNC), '--out', part, '--count', '3', ...uids);
    fixture('series', '--base', corpus(CT1_UNC), '--out', whole, '--count', '5', ...uids);
    // A settle wait no test reaches: the series stays 'receiving' until settled by hand below.
    const core = compose({ dataDir: join(dir.path, 'data-stream'), settleMs: 3_600_000, stableMs: 200 });
    const scorer = await OnnxSeriesScorer.create({ store: core.store, dataDir: core.dataDir, modelsDir: modelsDir('stream', [convlstm]) });
    core.attachScorer(scorer!);
    const totals: number[] = [];
    const events: string[] = [];
    core.on((e) => {
      if (e.type === 'series-scoring' && e.progress.done === e.progress.total) totals.push(e.progress.total);
      if (e.type === 'series-provisional' || e.type === 'series-scored') events.push(e.type);
    });
    core.watch(watched);
    for (const f of readdirSync(part)) copyFileSync(join(part, f), join(watched, f));
    const deadline = Date.now() + 60_000;
    // Slices are read as they become stable, so a first provisional pass may cover fewer than three.
    while (core.worklist()[0]?.provisionalSlices !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(events).toContain('series-provisional');
    expect(events).not.toContain('series-scored');
    let [row] = core.worklist();
    expect(row!.state).toBe('receiving');
    expect(row!.score).not.toBeNull();
    expect(row!.provisionalSlices).toBe(3);
    // Two more slices arrive (the first three again are duplicates); then the series settles.
    await core.stop();
    const again = compose({ dataDir: join(dir.path, 'data-stream'), settleMs: 3_600_000 });
    const rescorer = await OnnxSeriesScorer.create({ store: again.store, dataDir: again.dataDir, modelsDir: join(dir.path, 'stream') });
    again.attachScorer(rescorer!);
    again.on((e) => {
      if (e.type === 'series-scoring' && e.progress.done === e.progress.total) totals.push(e.progress.total);
    });
    for (const f of readdirSync(whole)) await again.ingestFile(join(whole, f));
    again.settle(true);
    await again.runJobs();
    [row] = again.worklist();
    expect(row!.state).toBe('scored');
    expect(row!.provisionalSlices).toBeNull();
    expect(row!.sliceCount).toBe(5);
    expect(totals.reduce((a, b) => a + b, 0)).toBe(5); // each slice ran once, the last two after settling
    expect(totals.at(-1)).toBe(2);
    await again.stop();
  });

  it('scores a slice as soon as it is stored while watching or listening, not at the next settle tick', async () => {
    const src = join(dir.path, 'now-1');
    const watched = join(dir.path, 'now-watched');
    for (const d of [src, watched]) mkdirSync(d);
    fixture('series', '--base', corpus(CT1_UNC), '--out', src, '--count', '1',
      '--study-uid', '1.2.826.0.1.3680043.8.498.921', '--series-uid', '1.2.826.0.1.3680043.8.498.922', '--uid-prefix', '1.2.826.0.1.3680043.8.498.923.');
    const core = compose({ dataDir: join(dir.path, 'data-now'), settleMs: 3_600_000 });
    const scorer = await OnnxSeriesScorer.create({ store: core.store, dataDir: core.dataDir, modelsDir: modelsDir('now', [convlstm]) });
    core.attachScorer(scorer!);
    core.watch(watched); // the settle timer runs from here; its tick is a second away
    // As the DICOM receiver hands over an instance it has spooled.
    const outcome = await core.ingestFile(join(src, readdirSync(src)[0]!));
    expect(outcome.outcome).toBe('stored');
    await core.idle(); // only work the stored slice started: no tick has come yet
    const [row] = core.worklist();
    expect(row).toMatchObject({ state: 'receiving', provisionalSlices: 1 });
    expect(row!.score).not.toBeNull();
    await core.stop();
  });

  it("runs the ranking family's networks first: the study is ranked before the slowest network has run", async () => {
    // The shipped manifest: the Conv-LSTM is listed first, the ensemble (B3 + Inception-ResNet-V2)
    // ranks, the lesion network draws maps (it runs next: small, and the volume comes with the rank).
    const core = compose({ dataDir: join(dir.path, 'data-ranked'), settleMs: 0 });
    const scorer = await OnnxSeriesScorer.create({ store: core.store, dataDir: core.dataDir, modelsDir: join(REPO_ROOT, 'models') });
    core.attachScorer(scorer!);
    const order: string[] = [];
    let atRanked: { ranking: boolean; convlstm: boolean; modelsRun: string[] } | undefined;
    core.on((e) => {
      if (e.type === 'series-scoring' && order.at(-1) !== e.progress.modelId) order.push(e.progress.modelId);
      if (e.type === 'series-ranked') {
        const studyUid = core.store.series.get(e.seriesUid)!.studyUid;
        atRanked = {
          ranking: core.store.scores.get(studyUid, 'ranking') !== undefined,
          convlstm: core.store.scores.get(studyUid, 'convlstm') !== undefined,
          modelsRun: [...order],
        };
      }
    });
    await core.importFolder(inbox);
    expect(order).toEqual(['efficientnet_b3', 'inception_resnet_v2', 'lesion_unet', 'convlstm']);
    // when ranked: the ensemble's score is in, the Conv-LSTM has not run yet
    expect(atRanked).toEqual({ ranking: true, convlstm: false, modelsRun: ['efficientnet_b3', 'inception_resnet_v2'] });
    const [row] = core.worklist();
    expect(row!.state).toBe('scored');
    expect(row!.scoredBy).toBe('ensemble');
    expect(core.store.scores.get(row!.studyUid, 'convlstm')).toBeDefined();
    await core.stop();
  });

  it('a provisional run gives way to new slices after the ranking family, keeping what the slow network did', async () => {
    const core = compose({ dataDir: join(dir.path, 'data-yield'), settleMs: 3_600_000 });
    const scorer = await OnnxSeriesScorer.create({ store: core.store, dataDir: core.dataDir, modelsDir: join(REPO_ROOT, 'models') });
    core.attachScorer(scorer!);
    for (const f of readdirSync(inbox)) await core.ingestFile(join(inbox, f));
    const [arriving] = core.store.series.arriving();
    const runs: Record<string, number> = {};
    await scorer!.scoreSeries(
      arriving!.seriesUid,
      (p) => (runs[p.modelId] = (runs[p.modelId] ?? 0) + 1),
      // as if a slice arrived while the Conv-LSTM ran its first batch
      { provisional: true, yieldTo: () => (runs.convlstm ?? 0) >= 1 },
    );
    expect(Object.keys(runs)).toEqual(['efficientnet_b3', 'inception_resnet_v2', 'lesion_unet', 'convlstm']);
    expect(runs.convlstm).toBe(1); // one batch (one slice: its batch size), then it gave way
    const ids = core.store.instances.ofSeries(arriving!.seriesUid).map((i) => i.id);
    const fp = (id: string) => scorer!['fingerprint'](scorer!['loaded']().find((m: { modelId: string }) => m.modelId === id)!);
    expect(core.store.predictions.byFile('convlstm', fp('convlstm')!, ids).size).toBe(1);
    const [row] = core.worklist();
    expect(row!.provisionalSlices).toBe(3); // ranked from every slice so far
    expect(core.store.scores.get(row!.studyUid, 'convlstm')).toBeUndefined(); // no score from one of three
    // Settled: the final run runs the Conv-LSTM on the two slices it had not reached, nothing else.
    const totals: { modelId: string; total: number }[] = [];
    core.on((e) => {
      if (e.type === 'series-scoring' && e.progress.done === e.progress.total) totals.push({ modelId: e.progress.modelId, total: e.progress.total });
    });
    core.settle(true);
    await core.runJobs();
    expect(totals).toEqual([{ modelId: 'convlstm', total: 2 }]);
    expect(core.worklist()[0]).toMatchObject({ state: 'scored', provisionalSlices: null });
    expect(core.store.scores.get(row!.studyUid, 'convlstm')).toBeDefined();
    await core.stop();
  });

  it('refuses a model whose file does not match its sha256, and says why', async () => {
    const tampered = modelsDir('tampered', [convlstm]);
    appendFileSync(join(tampered, convlstm.files[0]!.path), Buffer.from([0]));
    const core = compose({ dataDir: join(dir.path, 'data-tampered'), settleMs: 0 });
    const scorer = await OnnxSeriesScorer.create({ store: core.store, dataDir: core.dataDir, modelsDir: tampered });
    expect(scorer!.modelStates()[0]).toMatchObject({ status: 'refused', reason: expect.stringMatching(/sha256 .* does not match/) });
    core.attachScorer(scorer!);
    await core.importFolder(inbox);
    // No model could run: the series is marked for retry with its reason; nothing is scored.
    const [row] = core.worklist();
    expect(row!.state).toBe('failed');
    expect(row!.stateReason).toMatch(/no model could be loaded/);
    expect(row!.score).toBeNull();
    await core.stop();
  });

  it('a model that breaks the contract fails the run with a reason; the app goes on', async () => {
    const bad = join(dir.path, 'bad');
    mkdirSync(join(bad, 'bad'), { recursive: true });
    execFileSync(PYTHON, [join(REPO_ROOT, 'test', 'fixtures', 'bad_model.py'), join(bad, 'bad', 'bad.onnx')]);
    const entry = { id: 'bad', version: '1', files: [{ path: 'bad/bad.onnx', sha256: await sha256File(join(bad, 'bad', 'bad.onnx')) }] };
    writeFileSync(join(bad, 'manifest.json'), JSON.stringify({ models: [entry], ensembles: [] }));
    const core = compose({ dataDir: join(dir.path, 'data-bad'), settleMs: 0 });
    const scorer = await OnnxSeriesScorer.create({ store: core.store, dataDir: core.dataDir, modelsDir: bad });
    core.attachScorer(scorer!);
    await core.importFolder(inbox);
    const [row] = core.worklist();
    expect(row!.state).toBe('failed');
    expect(row!.stateReason).toMatch(/broke the contract/);
    const job = withDatabase(core.dataDir, (db) => db.prepare('SELECT state, attempts, last_error FROM jobs').get()) as { state: string; last_error: string };
    expect(job.state).toBe('queued'); // retried later
    expect(job.last_error).toMatch(/broke the contract/);
    await core.stop();
  });
});
