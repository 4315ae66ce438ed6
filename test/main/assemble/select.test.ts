/**
 * Which series of a study the networks read: the rule on its own; a study's pre- and post-contrast
 * series through ingest and settling (phantom slices, so it runs in a fresh clone); then a mixed
 * study (soft 5 mm, the same in a bone kernel, a thin 0.625 mm reconstruction) through ingest,
 * settling and a real model: only the soft 5 mm series is run, the others say why, and the study
 * is not left waiting.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseSeries, type SeriesFacts } from '../../../src/main/assemble/select.js';
import { compose } from '../../../src/main/core.js';
import { OnnxSeriesScorer } from '../../../src/main/inference/scorer.js';
import { corpus, CT1_UNC, fixture, HAVE_CORPUS, phantomSlices, REPO_ROOT, tempDir } from '../../helpers.js';

const facts = (uid: string, f: Partial<SeriesFacts>): SeriesFacts => ({
  seriesUid: uid,
  description: null,
  imageType: 'ORIGINAL\\PRIMARY\\AXIAL',
  kernel: 'STANDARD',
  sliceThickness: 5,
  contrastAgent: null,
  sliceCount: 30,
  ...f,
});

describe('the series choice', () => {
  it('reads the soft-kernel 5 mm axial series and says why each other is not read', () => {
    const choice = chooseSeries([
      facts('thin', { sliceThickness: 0.625, sliceCount: 240, description: 'HEAD 0.625' }),
      facts('bone', { kernel: 'BONE', description: 'HEAD BONE' }),
      facts('scout', { imageType: 'ORIGINAL\\PRIMARY\\LOCALIZER', sliceCount: 2, description: 'Scout' }),
      facts('soft', { description: 'HEAD 5mm' }),
      facts('siemens-sharp', { kernel: 'H70h', description: 'Kopf 5.0 H70h' }),
    ]);
    expect(choice.read).toBe('soft');
    expect(choice.skipped.get('thin')).toMatch(/^0\.625 mm slices \(the networks were trained on 5 mm\): the networks read "HEAD 5mm"/);
    expect(choice.skipped.get('bone')).toMatch(/^bone or sharp kernel \(BONE\)/);
    expect(choice.skipped.get('siemens-sharp')).toMatch(/^bone or sharp kernel \(H70h\)/);
    expect(choice.skipped.get('scout')).toMatch(/^a localizer/);
  });

  it('reads the series without contrast, whatever the enhanced one has more of, and says why', () => {
    const choice = chooseSeries([
      facts('post', { contrastAgent: 'OMNIPAQUE 350', description: 'HEAD C+', sliceCount: 60 }),
      facts('post-unnamed', { contrastAgent: '', description: 'HEAD POST' }),
      facts('pre-bone', { kernel: 'BONE', description: 'HEAD BONE' }),
      facts('pre', { description: 'HEAD W/O', sliceThickness: 2.5 }),
    ]);
    expect(choice.read).toBe('pre'); // a 2.5 mm non-contrast series over a 5 mm enhanced one
    expect(choice.skipped.get('post')).toMatch(
      /^contrast-enhanced \(OMNIPAQUE 350\); the networks were trained on non-contrast CT: the networks read "HEAD W\/O"/,
    );
    expect(choice.skipped.get('post-unnamed')).toMatch(/^contrast-enhanced \(agent not named\)/);
    expect(choice.skipped.get('pre-bone')).toMatch(/^bone or sharp kernel/);
    // enhanced series only: still one is read, by the other rules
    expect(chooseSeries([facts('a', { contrastAgent: 'X', kernel: 'BONE' }), facts('b', { contrastAgent: '' })]).read).toBe('b');
  });

  it('a study with only a thin or only a bone series still has one read; one series is always read', () => {
    expect(chooseSeries([facts('thin', { sliceThickness: 0.6 })]).read).toBe('thin');
    expect(chooseSeries([facts('bone', { kernel: 'BONEPLUS' }), facts('thin-bone', { kernel: 'BONE', sliceThickness: 1 })]).read).toBe('bone');
    expect(chooseSeries([]).read).toBeNull();
    // Soft kernels of several vendors are not taken for sharp ones.
    for (const k of ['STANDARD', 'SOFT', 'STD+', 'H30s', 'J30s', 'Hr38', 'FC26', 'UB', 'I31s']) {
      expect(chooseSeries([facts('a', { kernel: k }), facts('b', { kernel: 'BONE' })]).read, k).toBe('a');
    }
  });
});

const dir = tempDir('triage-select-');
afterAll(() => dir.cleanup());

describe('pre- and post-contrast series through ingest and settling', () => {
  it('records what each series says of contrast and reads the one without', async () => {
    const base = phantomSlices(join(dir.path, 'phantom'), 31, 4)[0]!;
    const inbox = join(dir.path, 'contrast-inbox');
    const study = ['--study-uid', '1.2.826.0.1.3680043.8.498.810'];
    const make = (name: string, series: string, ...set: string[]) => {
      const out = join(inbox, name);
      mkdirSync(out, { recursive: true });
      fixture('series', '--base', base, '--out', out, '--count', '3', ...study, '--series-uid', series, ...set.flatMap((s) => ['--set-text', s]));
    };
    make('post', '1.2.826.0.1.3680043.8.498.811', 'ContrastBolusAgent=OMNIPAQUE 350', 'SeriesDescription=HEAD C+');
    make('post-unnamed', '1.2.826.0.1.3680043.8.498.812', 'ContrastBolusAgent=', 'SeriesDescription=HEAD POST');
    make('pre', '1.2.826.0.1.3680043.8.498.813', 'SeriesDescription=HEAD W/O');
    const core = compose({ dataDir: join(dir.path, 'contrast-data'), settleMs: 0 });
    await core.importFolder(inbox);
    const [row] = core.worklist();
    const series = core.store.series.ofStudy(row!.studyUid).sort((x, y) => x.seriesUid.localeCompare(y.seriesUid));
    expect(series.map((s) => s.contrastAgent)).toEqual(['OMNIPAQUE 350', '', null]);
    expect(series.map((s) => s.skippedReason === null)).toEqual([false, false, true]);
    expect(series[0]!.skippedReason).toMatch(/^contrast-enhanced \(OMNIPAQUE 350\)/);
    expect(series[1]!.skippedReason).toMatch(/^contrast-enhanced \(agent not named\)/);
    await core.stop();
  }, 120_000);
});

describe.skipIf(!HAVE_CORPUS)('a mixed study through the core', () => {
  it('runs only the series the networks read; the others are kept, listed and not waited for', async () => {
    const inbox = join(dir.path, 'inbox');
    const study = ['--study-uid', '1.2.826.0.1.3680043.8.498.800'];
    const make = (name: string, series: string, count: number, ...set: string[]) => {
      const out = join(inbox, name);
      mkdirSync(out, { recursive: true });
      fixture('series', '--base', corpus(CT1_UNC), '--out', out, '--count', String(count), ...study, '--series-uid', series, ...set.flatMap((s) => ['--set-text', s]));
    };
    make('soft', '1.2.826.0.1.3680043.8.498.801', 3, 'ConvolutionKernel=STANDARD', 'SliceThickness=5', 'SeriesDescription=HEAD 5mm');
    make('bone', '1.2.826.0.1.3680043.8.498.802', 3, 'ConvolutionKernel=BONE', 'SliceThickness=5', 'SeriesDescription=HEAD BONE');
    make('thin', '1.2.826.0.1.3680043.8.498.803', 4, 'ConvolutionKernel=STANDARD', 'SliceThickness=0.625', 'SeriesDescription=HEAD THIN');
    const core = compose({ dataDir: join(dir.path, 'data'), settleMs: 0 });
    const scorer = await OnnxSeriesScorer.create({ store: core.store, dataDir: core.dataDir, modelsDir: join(REPO_ROOT, 'models') });
    core.attachScorer(scorer!);
    const skipped: string[] = [];
    core.on((e) => {
      if (e.type === 'series-skipped') skipped.push(e.seriesUid.slice(-3));
    });
    await core.importFolder(inbox);
    expect(skipped.sort()).toEqual(['802', '803']);
    const ran = new Set([...core.store.predictions.all().values()].flat().map((p) => p.seriesUid.slice(-3)));
    expect([...ran]).toEqual(['801']);
    const [row] = core.worklist();
    expect(row!.state).toBe('scored');
    expect(row!.score).not.toBeNull();
    expect(row!.seriesCount).toBe(3);
    expect([row!.sliceCount, row!.readSliceCount]).toEqual([10, 3]); // "N of M slices" counts the read series
    const reasons = core.store.series.ofStudy(row!.studyUid).sort((x, y) => x.seriesUid.localeCompare(y.seriesUid));
    expect(reasons[0]!.skippedReason).toBeNull();
    expect(reasons[1]!.skippedReason).toMatch(/bone or sharp kernel \(BONE\): the networks read "HEAD 5mm"/);
    expect(reasons[2]!.skippedReason).toMatch(/0\.625 mm slices/);
    await core.stop();
  }, 600_000);
});
