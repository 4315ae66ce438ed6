/**
 * The radiologist's screen in a real browser (Debian's chromium via playwright-core), over
 * http://127.0.0.1 against the real headless core and a real SQLite database: ranking, live
 * arrival, quarantine, viewer presets, the probability strip, a review that survives a server
 * restart, a review conflict with another reader and both ways out of it, and the banner of a
 * shared database that cannot be reached. Saves the screenshots in assets/docs/screenshots/.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { compose } from '../../src/main/core.js';
import { TriageApiImpl } from '../../src/main/api/index.js';
import { ensureRendererBuilt } from '../../src/main/server/renderer-build.js';
import { serve, type Serving } from '../../src/main/server/serve.js';
import { bump, discMap, makeSeries, makeTruncated, phantomStudy, probs, putPredictions, putStudyScore, type FixtureStudy } from '../fixtures/studies.js';
import { chromiumMissing, openScreen } from '../fixtures/browser.js';
import { REPO_ROOT, withDatabase } from '../helpers.js';

// Browser-side callbacks are typed structurally: the Node test tsconfig has no DOM lib, on purpose.
type El = { dataset: Record<string, string | undefined> };
type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null };
type Doc = { querySelector(selector: string): El | null };

// README's fixture screenshots are rewritten only when asked (`npm run screenshots`), so an ordinary
// test run leaves the working tree as it was; otherwise they go to a scratch folder.
const SHOTS = process.env.TRIAGE_WRITE_SCREENSHOTS === '1' ? resolve('assets/docs/screenshots') : join(tmpdir(), 'triage-screen-shots');

const study = (n: string, name: string, slices: number, extra: Partial<FixtureStudy> = {}): FixtureStudy => ({
  studyUid: `1.2.826.0.1.3680043.10.1.${n}`,
  seriesUid: `1.2.826.0.1.3680043.10.1.${n}.2`,
  patientName: name,
  patientId: `PID-${n}`,
  accession: `ACC${n}0`,
  description: 'CT HEAD WITHOUT CONTRAST',
  slices,
  lesion: false,
  window: [40, 120],
  ...extra,
});

const A = study('1', 'HARTMANN^ELSA', 16, { lesion: true, window: [50, 350] });
const B = study('2', 'OKAFOR^DANIEL', 8, { lesion: true });
const C = study('3', 'LINDQVIST^MAJA', 8);
const D = study('4', 'PEREIRA^TOMAS', 8);
const E = study('5', 'NOWAK^ADAM', 6); // arrives while the page is open

describe.skipIf(chromiumMissing !== null)('the triage screen in a browser', () => {
  let root: string;
  let dataDir: string;
  let watchDir: string;
  let policyDir: string;
  let rendererDir: string;
  let serving: Serving;
  let browser: Browser;
  let page: Page;
  let keyA: number[] = [];
  // Study A: a synthetic head CT from models/phantom when it runs here, else cloned corpus slices.
  let a = { studyUid: A.studyUid, slices: A.slices, window: '50/350', peak: 10 };

  // The fixtures' scores are written for flag thresholds of 0.5: a policy manifest pins them.
  const start = async () =>
    serve({ dataDir, rendererDir, models: false, modelsDir: policyDir, watch: watchDir, core: { settleMs: 400, stableMs: 150 } });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'triage-screen-'));
    dataDir = join(root, 'data');
    watchDir = join(root, 'incoming');
    mkdirSync(watchDir);
    policyDir = join(root, 'models');
    mkdirSync(policyDir);
    const half = { any: 0.5, epidural: 0.5, intraparenchymal: 0.5, intraventricular: 0.5, subarachnoid: 0.5, subdural: 0.5 };
    // The lesion network's row as shipped, its volumes declared shown: the fixtures' maps and volume
    // below are what such a network would have stored (this server loads no model).
    const shipped = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'manifest.json'), 'utf8')) as { models: { id: string; outputs?: Record<string, object> }[] };
    const lesion = shipped.models
      .filter((m) => m.id === 'lesion_unet')
      .map((m) => ({ ...m, outputs: { ...m.outputs, lesion_map: { ...m.outputs!.lesion_map, volume: { shown: true, measured: 'as a test policy' } } } }));
    writeFileSync(
      join(policyDir, 'manifest.json'),
      JSON.stringify({ models: lesion, ensembles: [], ranking: { family: 'mean', reason: 'test policy', thresholds: { mean: half, convlstm: half, ensemble: half } } }),
    );
    rendererDir = await ensureRendererBuilt(join(root, 'renderer'));
    const phantom = phantomStudy(join(root, 'phantom'));
    if (phantom) {
      // Only the DICOM files: the generator's sidecar JSON would (rightly) be quarantined.
      cpSync(phantom.dir, join(root, 'import', 'phantom'), { recursive: true, filter: (src) => !/\.(json|csv|npz)$/.test(src) });
      makeSeries(join(root, 'import'), [B, C, D]);
      a = { studyUid: phantom.studyUid, slices: phantom.slices, window: phantom.window, peak: 0 };
    } else {
      makeSeries(join(root, 'import'), [A, B, C, D]);
    }
    makeSeries(join(root, 'later'), [E]);
    makeTruncated(join(root, 'import', 'broken', 'half-copied.dcm'));

    // Import once, then write model outputs as the inference stage would (test setup only).
    const core = compose({ dataDir, settleMs: 0 });
    await core.importFolder(join(root, 'import'));
    const store = core.store;
    if (phantom) {
      // Centre the made-up curves on the slices the phantom's truth labels call bleeding.
      const sops = store.series.ofStudy(a.studyUid).flatMap((s) => s.slices.map((slice) => slice.sopUid));
      const hits = sops.map((s, i) => (phantom.bleeding.has(s) ? i : -1)).filter((i) => i >= 0);
      a.peak = hits.length ? hits[Math.floor(hits.length / 2)]! : Math.floor(sops.length / 2);
    } else {
      a.peak = 10;
    }
    const pk = a.peak;
    const idsA = putPredictions(store, a.studyUid, 'convlstm', 'CPUExecutionProvider', (i) =>
      probs({ any: bump(i, pk, 0.95), subarachnoid: bump(i, pk, 0.9), subdural: bump(i, pk - 1, 0.35) }),
    );
    putPredictions(store, a.studyUid, 'efficientnet_b3', 'CPUExecutionProvider', (i) =>
      probs({ any: bump(i, pk, 0.8), subarachnoid: bump(i, pk, 0.42), subdural: bump(i, pk - 1, 0.6) }),
    );
    putPredictions(store, a.studyUid, 'inception_resnet_v2', 'CPUExecutionProvider', (i) =>
      probs({ any: bump(i, pk, 0.85), subarachnoid: bump(i, pk, 0.38), subdural: bump(i, pk - 1, 0.55) }),
    );
    keyA = [idsA[pk]!, idsA[pk - 1]!, idsA[pk + 1]!].filter((x) => x !== undefined);
    putStudyScore(store, a.studyUid, 'convlstm', probs({ any: 0.95, subarachnoid: 0.9, subdural: 0.35 }), keyA);
    putStudyScore(store, a.studyUid, 'ensemble', probs({ any: 0.83, subarachnoid: 0.4, subdural: 0.58 }), keyA);
    putStudyScore(store, a.studyUid, 'ranking', probs({ any: 0.89, subarachnoid: 0.65, subdural: 0.47 }), keyA);
    // A localisation network's maps (a subdural disc on the three slices round the peak) and its volume.
    const mapSlices = store.series.ofStudy(a.studyUid).flatMap((s) => s.slices.map((x) => x.instanceId));
    store.lesionMaps.save('lesion_unet', null, { channels: 5, height: 128, width: 128 },
      mapSlices.map((instanceId, i) => ({ instanceId, map: discMap(4, 30, 60, 8, Math.abs(i - pk) <= 1 ? 0.9 : 0) })));
    store.lesionMaps.saveVolume(a.studyUid, {
      modelId: 'lesion_unet', seriesUid: store.series.ofStudy(a.studyUid)[0]!.seriesUid, totalMl: 12.4,
      subtypes: { epidural: 0, intraparenchymal: 0, intraventricular: 0, subarachnoid: 0, subdural: 12.4 }, slices: mapSlices.length, provisional: false,
    });
    putPredictions(store, B.studyUid, 'convlstm', 'CPUExecutionProvider', (i) => probs({ any: bump(i, 4, 0.6), subarachnoid: bump(i, 4, 0.55) }));
    putStudyScore(store, B.studyUid, 'ranking', probs({ any: 0.61, subarachnoid: 0.55, intraparenchymal: 0.2 }));
    putPredictions(store, C.studyUid, 'convlstm', 'CPUExecutionProvider', () => probs({ any: 0.08 }));
    putStudyScore(store, C.studyUid, 'ranking', probs({ any: 0.12 }));
    await core.stop();

    serving = await start();
    ({ browser, page } = await openScreen());
    mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await serving?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const rowOrder = () => page.$$eval('tr.row', (rows) => rows.map((r) => (r as unknown as El).dataset.study ?? ''));

  const shot = async (name: string) => {
    const path = join(SHOTS, name);
    await page.screenshot({ path, type: 'png' });
    expect(statSync(path).size).toBeLessThan(400 * 1024);
  };

  it('opens on "who is reading?"; the per-launch token leaves the address bar', async () => {
    expect(serving.url).toMatch(/\?token=[\w-]{20,}$/);
    await page.goto(serving.url);
    await page.waitForSelector('[data-testid="signin"]');
    expect(page.url()).not.toContain('token=');
    await page.click('[data-testid="signin-skip"]');
  });

  it('ranks the worklist by study score, unscored studies say "awaiting model"', async () => {
    await page.waitForSelector('tr.row');
    expect(await rowOrder()).toEqual([a.studyUid, B.studyUid, C.studyUid, D.studyUid]);
    const scores = await page.$$eval('[data-testid="score"]', (els) => els.map((e) => e.textContent));
    expect(scores).toEqual(['89%', '61%', '12%', 'awaiting model']);
    const flagged = await page.$$eval('tr.row', (rows) => rows.map((r) => (r as unknown as El).dataset.flagged));
    expect(flagged).toEqual(['1', '1', '0', '0']);
    expect(await page.textContent('[data-testid="disclaimer"]')).toMatch(/synthetic data only.*not clinically validated/);
    // This server loads no model (the scores are fixtures): the screen says so, not just the footer.
    expect(await page.textContent('[data-testid="no-model-banner"]')).toMatch(/No model loaded: nothing is being scored/);
    await page.waitForSelector('[data-testid="live"].on');
    await shot('worklist.png');
  });

  it('shows a quarantined file with its reason', async () => {
    await page.click('[data-testid="tab-quarantine"]');
    const table = await page.waitForSelector('[data-testid="quarantine"]');
    const text = (await table.textContent()) ?? '';
    expect(text).toContain('half-copied.dcm');
    expect(text).toMatch(/truncated or damaged/);
    await shot('quarantine.png');
    await page.click('button.tab >> text=Worklist');
    await page.waitForSelector('tr.row');
  });

  it('shows a newly imported study without a reload', async () => {
    await page.evaluate(() => ((globalThis as unknown as { __noReload: boolean }).__noReload = true));
    const src = join(root, 'later', E.seriesUid);
    for (const f of readdirSync(src)) cpSync(join(src, f), join(watchDir, f));
    await page.waitForSelector(`tr.row[data-study="${E.studyUid}"]`, { timeout: 30_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    // No score yet: it is listed after the scored studies, waiting for a model.
    expect((await rowOrder()).slice(0, 3)).toEqual([a.studyUid, B.studyUid, C.studyUid]);
  });

  const canvasSum = () =>
    page.$eval('[data-testid="slice-canvas"]', (c) => {
      const canvas = c as unknown as Canvas;
      const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let sum = 0;
      for (let i = 0; i < d.length; i += 4) sum += d[i]!;
      return sum;
    });

  const waitDrawn = (window: string) =>
    page.waitForFunction(
      (w) => (globalThis as unknown as { document: Doc }).document.querySelector('[data-testid="slice-canvas"]')?.dataset.drawn?.endsWith(`:${w}`) ?? false,
      window,
    );

  it('opens the top study with the keyboard; a window preset changes the pixels', async () => {
    await page.keyboard.press('Home');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="viewer"]');
    // Opens at the first key slice.
    await page.waitForSelector(`[data-testid="viewer"][data-slice-index="${a.peak}"]`);
    await waitDrawn(a.window); // preset 1: the slice's own window from its DICOM tags
    await page.keyboard.press('2');
    await waitDrawn('40/80');
    const brain = await canvasSum();
    await page.keyboard.press('9');
    await waitDrawn('600/2800');
    const bone = await canvasSum();
    expect(brain).toBeGreaterThan(0);
    expect(bone).not.toBe(brain);
    expect(await page.textContent('[data-testid="models"]')).toMatch(/models disagree/);
    // Who and when, as the DICOM says: sex, age, ID, accession, study date and time.
    expect(await page.textContent('[data-testid="patient-line"]')).toMatch(
      /^ ?(M|F|O|sex not given) · (\d+ (y|mo|wk|d)|age not given) · .* · Acc \S+ · (\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?|no study date)/,
    );
    await page.keyboard.press('2');
    await waitDrawn('40/80');
    await shot('viewer.png');
  });

  it('moves to a slice when the probability strip is clicked', async () => {
    const strip = await page.waitForSelector('[data-testid="prob-strip"][data-n]');
    const { x0, x1, n } = await strip.evaluate((c) => {
      const d = (c as unknown as El).dataset;
      return { x0: Number(d.x0), x1: Number(d.x1), n: Number(d.n) };
    });
    expect(n).toBe(a.slices);
    const box = (await strip.boundingBox())!;
    const target = 3;
    await page.mouse.click(box.x + x0 + ((x1 - x0) * target) / (n - 1), box.y + box.height / 2);
    await page.waitForSelector(`[data-testid="viewer"][data-slice-index="${target}"]`);
    await page.keyboard.press('ArrowDown');
    await page.waitForSelector(`[data-testid="viewer"][data-slice-index="${target + 1}"]`);
  });

  it('viewer tools at 1280×720: orientation letters, HU under the cursor, zoom, 1:1, a ruler in mm', async () => {
    await page.setViewportSize({ width: 1280, height: 720 });
    expect(await page.textContent('[data-testid="marker-left"]')).toBe('R');
    expect(await page.textContent('[data-testid="marker-right"]')).toBe('L');
    expect(await page.textContent('[data-testid="marker-top"]')).toBe('A');
    expect(await page.textContent('[data-testid="marker-bottom"]')).toBe('P');
    const canvas = (await page.$('[data-testid="slice-canvas"]'))!;
    const box = (await canvas.boundingBox())!;
    expect(box.width).toBeGreaterThanOrEqual(512); // the stored 512² slice at full resolution
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    expect(await page.textContent('[data-testid="probe"]')).toMatch(/HU -?\d+ at 25\d,25\d/);
    const scale = () => canvas.evaluate((c) => Number((c as unknown as El).dataset.scale));
    await page.keyboard.press('+');
    expect(await scale()).toBeCloseTo(1.25, 6);
    await page.keyboard.press('u');
    const fit = await page.$eval('[data-testid="slicebox"]', (b) => (b as unknown as { clientWidth: number }).clientWidth);
    expect(await scale()).toBeCloseTo(512 / fit, 6);
    await page.keyboard.press('f');
    expect(await scale()).toBe(1);
    await page.keyboard.press('m'); // the ruler: 200 stored pixels across
    const px = box.width / 512;
    await page.mouse.move(box.x + 100 * px + 1, box.y + 256 * px);
    await page.mouse.down();
    await page.mouse.move(box.x + 300 * px + 1, box.y + 256 * px, { steps: 4 });
    await page.mouse.up();
    const mm = Number(/([\d.]+) mm/.exec((await page.textContent('[data-testid="probe"]')) ?? '')?.[1]);
    const first = (await serving.api.study({ studyUid: a.studyUid })).series[0]!.slices[0]!;
    expect(first.pixelSpacing).not.toBeNull();
    const perPixel = (first.pixelSpacing![1]! * first.originalColumns) / 512;
    expect(Math.abs(mm - 200 * perPixel)).toBeLessThanOrEqual(2 * perPixel);
    await shot('viewer-1280x720.png');
    await page.keyboard.press('m');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('draws the lesion map over the slice and the key slices with key l, with its legend; every volume says "estimate"', async () => {
    await page.keyboard.press('Escape');
    expect(await page.textContent(`tr.row[data-study="${a.studyUid}"] [data-testid="volume"]`)).toMatch(/≈ 12 mL estimate/);
    await page.dblclick(`tr.row[data-study="${a.studyUid}"]`);
    await page.waitForSelector(`[data-testid="viewer"][data-slice-index="${a.peak}"]`);
    expect(await page.textContent('[data-testid="study-volume"]')).toMatch(/Bleed volume ≈ 12 mL \(estimate, Lesion maps\) · SDH 12 mL/);
    // Off until asked for: the image is read as it is first.
    expect(await page.$('[data-testid="lesion-map"]')).toBeNull();
    expect(await page.textContent('[data-testid="lesion-hint"]')).toMatch(/l: lesion map \(estimate\)/);
    // How red the key slices' thumbnails are (the overlay's colour), computed in the page.
    const thumbRed = () => {
      let sum = 0;
      const cs = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<unknown> } }).document.querySelectorAll('[data-testid="key-thumb"]');
      for (let k = 0; k < cs.length; k++) {
        const d = (cs[k] as Canvas).getContext('2d')!.getImageData(0, 0, 128, 128).data;
        for (let i = 0; i < d.length; i += 4) sum += Math.max(0, d[i]! - d[i + 2]!);
      }
      return sum;
    };
    await page.waitForSelector('[data-testid="key-thumb"]');
    const before = await page.evaluate(thumbRed);
    await page.keyboard.press('l');
    const layer = (await page.waitForSelector('[data-testid="lesion-map"]'))!;
    expect(await page.textContent('[data-testid="lesion-legend"]')).toMatch(/Lesion map, estimate\s*lesion_unet · peak SDH 90 %/);
    // The volume shown above comes from this map's network, so the legend gives its threshold, no withholding.
    expect(await page.textContent('[data-testid="lesion-legend"]')).toMatch(/tick: volume from \d+ %/);
    expect(await page.$('[data-testid="volume-withheld"]')).toBeNull();
    // Drawn where the map has it: at the disc's centre, not in the far corner.
    const alpha = (x: number, y: number) => layer.evaluate((c, [px, py]) => (c as unknown as Canvas).getContext('2d')!.getImageData(px!, py!, 1, 1).data[3]!, [x, y]);
    expect(await alpha(30, 60)).toBeGreaterThan(100);
    expect(await alpha(120, 120)).toBe(0);
    await page.waitForFunction(`(${thumbRed.toString()})() > ${before}`);
    await shot('viewer-lesion-map.png');
    await page.keyboard.press('l');
    await page.waitForSelector('[data-testid="lesion-map"]', { state: 'detached' });
  });

  it('stores a review under the signed-in reviewer, and it persists across a server restart', async () => {
    expect(await page.textContent('[data-testid="reviewer"]')).toMatch(/nobody signed in/);
    expect(await page.isDisabled('[data-testid="confirm"]')).toBe(true);
    await page.click('[data-testid="signin-open"]');
    await page.fill('[data-testid="signin-name"]', 'Dr Ada Test');
    await page.click('[data-testid="signin-add"]');
    await page.waitForSelector('[data-testid="who"] >> text=Dr Ada Test');
    await page.dblclick(`tr.row[data-study="${a.studyUid}"]`);
    await page.waitForSelector('[data-testid="reviewer"] >> text=Dr Ada Test');
    await page.check('[data-testid="subtype-subdural"]');
    await page.fill('[data-testid="comment"]', 'acute left convexity SDH');
    expect(await page.title()).toBe('(2 flagged) ICH triage'); // the tab says what waits
    await page.click('[data-testid="confirm"]');
    // A decision moves on to the next unreviewed study by rank.
    await page.waitForSelector(`[data-testid="viewer"][data-study="${B.studyUid}"]`);
    await page.waitForFunction(() => (globalThis as unknown as { document: { title: string } }).document.title === '(1 flagged) ICH triage');

    await serving.stop();
    serving = await start();
    await page.goto(serving.url);
    await page.waitForSelector('[data-testid="signin-Dr Ada Test"]'); // a named local reviewer now
    await page.click('[data-testid="signin-skip"]');
    await page.waitForSelector(`tr.row[data-study="${a.studyUid}"] [data-testid="status"] >> text=confirmed`);
    await page.dblclick(`tr.row[data-study="${a.studyUid}"]`);
    const history = await page.waitForSelector('[data-testid="review-history"]');
    const text = (await history.textContent()) ?? '';
    expect(text).toContain('Dr Ada Test');
    expect(text).toContain('acute left convexity SDH');
    expect(text).toContain('SDH');
    expect(await page.isChecked('[data-testid="subtype-subdural"]')).toBe(true);

    const audit = withDatabase(serving.core.dataDir, (db) =>
      db.prepare("SELECT actor, action, subject FROM audit_log WHERE action LIKE 'review.%'").all(),
    ) as { actor: string; action: string; subject: string }[];
    expect(audit).toEqual([{ actor: 'Dr Ada Test', action: 'review.confirmed', subject: a.studyUid }]);
    expect(serving.core.store.audit.verify().ok).toBe(true);
    const csv = await serving.api.exportCsv({});
    expect(csv.rowCount).toBe(1);
    expect(csv.csv).toContain('Dr Ada Test');
    // The volume estimate travels with the study, in its own column.
    expect(csv.csv).toContain(',flagged,volume_ml_estimate,review_status,');
    expect(csv.csv).toMatch(/,yes,12\.4,confirmed,/);
  });

  it('reviews from the keyboard: subtype keys, c to confirm, then the next unreviewed study; n/p step through the list', async () => {
    await page.keyboard.press('Escape'); // back to the worklist
    await page.click('[data-testid="signin-open"]');
    await page.click('[data-testid="signin-Dr Ada Test"]');
    await page.waitForSelector('[data-testid="who"] >> text=Dr Ada Test');
    await page.waitForSelector('tr.row');
    await page.dblclick(`tr.row[data-study="${B.studyUid}"]`);
    await page.waitForSelector(`[data-testid="viewer"][data-study="${B.studyUid}"] [data-testid="review-status"] >> text=new`);
    await page.keyboard.press('a');
    expect(await page.isChecked('[data-testid="subtype-subarachnoid"]')).toBe(true);
    await page.keyboard.press('i');
    await page.keyboard.press('i'); // toggled off again
    expect(await page.isChecked('[data-testid="subtype-intraparenchymal"]')).toBe(false);
    await page.keyboard.press('c');
    await page.waitForSelector(`[data-testid="viewer"][data-study="${C.studyUid}"]`);
    await page.waitForFunction(() => (globalThis as unknown as { document: { title: string } }).document.title === 'ICH triage');
    await page.keyboard.press('p');
    await page.waitForSelector(`[data-testid="viewer"][data-study="${B.studyUid}"] [data-testid="review-status"] >> text=confirmed`);
    expect(await page.isChecked('[data-testid="subtype-subarachnoid"]')).toBe(true);
    await page.keyboard.press('n');
    await page.waitForSelector(`[data-testid="viewer"][data-study="${C.studyUid}"]`);
    const reviews = withDatabase(serving.core.dataDir, (db) =>
      db.prepare("SELECT actor, action, subject FROM audit_log WHERE action LIKE 'review.%' ORDER BY id").all(),
    ) as { actor: string; action: string; subject: string }[];
    expect(reviews.at(-1)).toEqual({ actor: 'Dr Ada Test', action: 'review.confirmed', subject: B.studyUid });
  });

  it('proposes flag thresholds from the reviewed studies, and says when there are too few', async () => {
    await page.click('[data-testid="tab-settings"]');
    // Whose each setting is, beside it: the import folder this PC's, the thresholds the site's.
    expect(await page.textContent('[data-testid="scope-importFolder"]')).toBe('this PC');
    expect(await page.textContent('[data-testid="scope-thresholds"]')).toBe('whole site');
    await page.click('[data-testid="thresholds-propose"]');
    const any = (await page.textContent('[data-testid="proposal-any"]')) ?? '';
    // Two confirmed studies, none dismissed: no proposal yet, and the row says why.
    expect(any).toMatch(/needs at least 5 reviewed studies with and 5 without \(has 2 and 0\)/);
    expect(await page.textContent('[data-testid="thresholds-proposal"]')).toMatch(/From 2 reviewed studies scored by/);
    expect(await page.isDisabled('[data-testid="thresholds-use-proposal"]')).toBe(true);
  });

  /**
   * Another reading room's reviewer: a second API on the same core and store. Its decisions make no
   * change event on this page's stream, so the page keeps showing what it loaded, as it does in the
   * moment between another workstation's decision and that change reaching this screen.
   */
  const elsewhere = async () => {
    const other = new TriageApiImpl(serving.core, { externalPollMs: 0 });
    await other.signIn({ name: 'Dr Bo Other', create: true });
    return other;
  };
  const reviewAudit = (studyUid: string) =>
    withDatabase(serving.core.dataDir, (db) =>
      db.prepare("SELECT actor, action, detail FROM audit_log WHERE action LIKE 'review.%' AND subject = @studyUid ORDER BY id").all({ studyUid }),
    ) as { actor: string; action: string; detail: string }[];

  it('shows a decision recorded elsewhere since the study was opened, and keeps theirs when asked: nothing written', async () => {
    await page.click('button.tab >> text=Worklist');
    await page.dblclick(`tr.row[data-study="${C.studyUid}"]`);
    await page.waitForSelector(`[data-testid="viewer"][data-study="${C.studyUid}"] [data-testid="review-status"] >> text=new`);
    const other = await elsewhere();
    try {
      const theirs = await other.review({ studyUid: C.studyUid, decision: 'confirmed', subtypes: ['subarachnoid'], comment: 'small SAH, left sylvian', after: null });
      await page.fill('[data-testid="comment"]', 'no bleed');
      await page.click('[data-testid="dismiss"]');
      const conflict = await page.waitForSelector('[data-testid="review-conflict"]');
      const text = (await conflict.textContent()) ?? '';
      expect(await page.textContent('[data-testid="conflict-theirs"]')).toMatch(/^confirmed · SAH by Dr Bo Other at \d\d:\d\d:\d\d“small SAH, left sylvian”$/);
      expect(await page.textContent('[data-testid="conflict-mine"]')).toBe('Yours: dismissed · “no bleed”');
      expect(text).toMatch(/Not recorded: another decision came first/);
      await shot('review-conflict.png');
      // The time shown is the one recorded, on this screen's clock.
      const hms = /at (\d\d:\d\d:\d\d)/.exec(text)![1]!;
      expect(hms).toBe(await page.evaluate((iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }), theirs.review.createdAt));
      // Nothing of ours was written, and no key sends another decision on the refused view.
      await page.keyboard.press('d');
      expect((await serving.api.study({ studyUid: C.studyUid })).reviews.map((r) => `${r.decision}:${r.reviewer}`)).toEqual(['confirmed:Dr Bo Other']);

      await page.click('[data-testid="conflict-keep-theirs"]');
      await page.waitForSelector('[data-testid="review-conflict"]', { state: 'detached' });
      await page.waitForSelector(`[data-testid="viewer"][data-study="${C.studyUid}"] [data-testid="review-status"] >> text=confirmed`);
      expect(await page.textContent('[data-testid="review-history"]')).toContain('Dr Bo Other');
      expect(await page.inputValue('[data-testid="comment"]')).toBe('');
      expect((await serving.api.study({ studyUid: C.studyUid })).reviews.map((r) => `${r.decision}:${r.reviewer}`)).toEqual(['confirmed:Dr Bo Other']);
      expect(reviewAudit(C.studyUid).map((a) => `${a.action}:${a.actor}`)).toEqual(['review.confirmed:Dr Bo Other']);
    } finally {
      other.close();
    }
  });

  it('records mine anyway over the decision shown, and refuses it again when a third came meanwhile', async () => {
    await page.keyboard.press('Escape');
    await page.dblclick(`tr.row[data-study="${D.studyUid}"]`);
    await page.waitForSelector(`[data-testid="viewer"][data-study="${D.studyUid}"] [data-testid="review-status"] >> text=new`);
    const other = await elsewhere();
    try {
      const theirs = await other.review({ studyUid: D.studyUid, decision: 'confirmed', subtypes: ['subdural'], comment: '', after: null });
      await page.check('[data-testid="subtype-intraventricular"]');
      await page.fill('[data-testid="comment"]', 'IVH only');
      await page.click('[data-testid="confirm"]');
      await page.waitForSelector('[data-testid="conflict-theirs"]:has-text("confirmed · SDH by Dr Bo Other")');
      // A third decision, made while the reader looks at the second.
      const third = await other.review({ studyUid: D.studyUid, decision: 'reopened', subtypes: [], comment: 'second look', after: theirs.review.id });
      await page.click('[data-testid="conflict-record-mine"]');
      await page.waitForSelector('[data-testid="conflict-theirs"]:has-text("re-opened by Dr Bo Other")');
      expect(await page.textContent('[data-testid="conflict-theirs"]')).toContain('“second look”');
      expect((await serving.api.study({ studyUid: D.studyUid })).reviews.map((r) => r.id)).toEqual([theirs.review.id, third.review.id]);

      await page.click('[data-testid="conflict-record-mine"]');
      // Recorded: a confirm moves on to the next unreviewed study.
      await page.waitForSelector(`[data-testid="viewer"]:not([data-study="${D.studyUid}"])`);
      const reviews = (await serving.api.study({ studyUid: D.studyUid })).reviews;
      expect(reviews.map((r) => `${r.decision}:${r.reviewer}`)).toEqual(['confirmed:Dr Bo Other', 'reopened:Dr Bo Other', 'confirmed:Dr Ada Test']);
      expect(reviews[2]).toMatchObject({ subtypes: ['intraventricular'], comment: 'IVH only' });
      // Audited as every decision is, naming the decision it was recorded over.
      const audit = reviewAudit(D.studyUid);
      expect(audit.map((a) => `${a.action}:${a.actor}`)).toEqual(['review.confirmed:Dr Bo Other', 'review.reopened:Dr Bo Other', 'review.confirmed:Dr Ada Test']);
      expect(JSON.parse(audit[2]!.detail)).toMatchObject({ reviewId: reviews[2]!.id, from: 'in_review', to: 'confirmed', after: third.review.id });
      expect(serving.core.store.audit.verify().ok).toBe(true);
    } finally {
      other.close();
    }
  });

  it('says when the shared database cannot be reached and dims the worklist as of its last read; a failed read says so', async () => {
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="worklist-page"][data-stale="0"] tr.row');
    expect(await page.$('[data-testid="database-banner"]')).toBeNull();
    // The status as a workstation on an unreachable PostgreSQL answers it (test/main/workstation/shared-database.test.ts).
    const since = new Date(Date.now() - 4 * 60_000).toISOString();
    await page.route('**/api/status', async (route) => {
      const reply = await route.fetch();
      const status = (await reply.json()) as Record<string, unknown>;
      const databaseUnreachable = { since, reason: 'PostgreSQL at postgresql://triage:***@dbhost/triage is unreachable: connect ECONNREFUSED' };
      await route.fulfill({ response: reply, json: { ...status, databaseUnreachable, providers: [] } });
    });
    try {
      const banner = await page.waitForSelector('[data-testid="database-banner"]', { timeout: 20_000 });
      const asOf = (await page.textContent('[data-testid="worklist-stale"]'))!;
      expect(asOf).toMatch(/^as of \d\d:\d\d:\d\d — not live$/);
      const sinceShown = await page.evaluate((iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false }), since);
      expect(await banner.textContent()).toBe(
        `Shared database unreachable since ${sinceShown} — the worklist below is as of ${asOf.slice('as of '.length, -' — not live'.length)}, not live; received slices are kept and read again.`,
      );
      expect(await page.$('[data-testid="worklist-page"][data-stale="1"] tr.row')).not.toBeNull();
      // Not "no model loaded": while the database is gone, which models run is unknown.
      expect(await page.$('[data-testid="no-model-banner"]')).toBeNull();
      // The footer says so too, never "live" under that banner.
      expect(await page.textContent('[data-testid="live"]')).toBe('● database unreachable');
      await shot('database-unreachable.png');

      // The list's own read fails: said, with the rows kept and marked as of their last read.
      await page.route('**/api/worklist', (route) =>
        route.fulfill({ status: 500, json: { error: 'PostgreSQL at postgresql://triage:***@dbhost/triage is unreachable: connect ECONNREFUSED', method: 'worklist' } }),
      );
      await page.click('[data-testid="filter-all"]');
      const failed = (await (await page.waitForSelector('[data-testid="worklist-error"]')).textContent())!;
      expect(failed).toMatch(/^The worklist could not be refreshed at \d\d:\d\d:\d\d: PostgreSQL at .* is unreachable: connect ECONNREFUSED\. The rows below are as of (\d\d:\d\d:\d\d)\. Trying again\.$/);
      expect(failed).toContain(`as of ${asOf.slice('as of '.length, -' — not live'.length)}.`);
      expect((await rowOrder()).length).toBeGreaterThan(0);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
    // The database answers again: the banner goes, the list is read again and is live.
    await page.waitForSelector('[data-testid="database-banner"]', { state: 'detached', timeout: 20_000 });
    await page.waitForSelector('[data-testid="worklist-page"][data-stale="0"]', { timeout: 20_000 });
    expect(await page.$('[data-testid="worklist-error"]')).toBeNull();
    await page.waitForSelector('[data-testid="live"].on');
  });
});
