/**
 * Regenerates the README's "with real models" screenshots: synthetic head-CT phantoms
 * (models/phantom) imported into a fresh data folder and scored by the models in
 * models/manifest.json (real inference, CPU unless CUDA is available), then the worklist and the
 * top study's viewer captured in Debian's chromium.
 *
 *   npx tsx test/e2e/docs-screenshots.ts [--studies 4] [--seed 11] [--out assets/docs/screenshots]
 *
 * Not part of `npm test` (inference on CPU takes minutes). The screen tests write the other
 * screenshots (worklist.png, viewer.png, quarantine.png) from fixed test fixtures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { serve } from '../../src/main/server/serve.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const studies = arg('studies', '4');
const seed = arg('seed', '11');
const out = resolve(arg('out', 'assets/docs/screenshots'));
const root = mkdtempSync(join(tmpdir(), 'triage-docs-'));
try {
  execFileSync('/usr/bin/python3', ['-m', 'models.phantom', 'generate', '--studies', studies, '--seed', seed, '--slices-min', '16', '--slices-max', '20', '--out', join(root, 'phantoms')], { stdio: 'inherit' });
  const s = await serve({ dataDir: join(root, 'data'), port: 0, log: (m) => process.stderr.write(`${m}\n`) });
  try {
    const t0 = Date.now();
    await s.core.importFolder(join(root, 'phantoms'));
    await s.core.idle();
    process.stderr.write(`imported and scored in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
      await page.goto(s.url);
      await page.click('[data-testid="signin-skip"]');
      await page.waitForSelector('tr.row');
      await page.screenshot({ path: join(out, 'models-worklist.png') });
      await page.keyboard.press('Home');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => {
        const c = (globalThis as unknown as { document: { querySelector(s: string): { dataset: Record<string, string | undefined> } | null } }).document.querySelector('[data-testid="slice-canvas"]');
        return Boolean(c?.dataset.drawn);
      });
      await page.keyboard.press('2');
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(out, 'models-viewer.png') });
      // The lesion network's map over the key slice and on the key slices' thumbnails (key l).
      await page.keyboard.press('l');
      await page.waitForSelector('[data-testid="lesion-map"]');
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(out, 'models-viewer-lesion-map.png') });
      await page.keyboard.press('l');
      // The smallest reading-room screen the layout is made for: the slice still at full resolution.
      await page.setViewportSize({ width: 1280, height: 720 });
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(out, 'models-viewer-1280x720.png') });
      process.stdout.write(`wrote models-worklist.png, models-viewer.png, models-viewer-lesion-map.png and models-viewer-1280x720.png in ${out}\n`);
    } finally {
      await browser.close();
    }
  } finally {
    await s.stop();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
