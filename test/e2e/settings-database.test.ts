/**
 * The database chosen on the Settings screen, in a real browser (Debian's chromium via
 * playwright-core) over http://127.0.0.1 against the real headless core: a value that is not a
 * database is refused with the reason, a PostgreSQL database of the run's test cluster (SQLite
 * where the cluster is missing) is saved for the next start and the screen says to restart, and
 * after the restart the screen says that Settings chose the database in use.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ensureRendererBuilt } from '../../src/main/server/renderer-build.js';
import { serve, type Serving } from '../../src/main/server/serve.js';
import { chooseStart, readStartConfig, startConfigPath } from '../../src/main/start-config.js';
import { freshPostgresDatabase } from '../fixtures/store.js';
import { chromiumMissing, openScreen } from '../fixtures/browser.js';


describe.skipIf(chromiumMissing !== null)('the database on the Settings screen', () => {
  let root: string;
  let dataDir: string;
  let share: string;
  let rendererDir: string;
  let serving: Serving;
  let browser: Browser;
  let page: Page;
  // The cluster's database with a password the cluster (trusting its socket) ignores: never shown.
  const postgres = inject('postgres').url !== null;
  let chosen = 'sqlite';

  const start = async () => {
    const s = chooseStart(dataDir, {});
    return serve({ dataDir, rendererDir, models: false, database: s.database, sharedDir: s.sharedDir, databaseSource: s.source });
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'triage-settings-db-'));
    dataDir = join(root, 'data');
    share = join(root, 'share');
    mkdirSync(share);
    if (postgres) {
      const url = new URL(freshPostgresDatabase('screen_setting'));
      url.password = 's3cret';
      chosen = url.href;
    }
    rendererDir = await ensureRendererBuilt(join(root, 'renderer'));
    serving = await start();
    ({ browser, page } = await openScreen());
  });

  afterAll(async () => {
    await browser?.close();
    await serving?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('shows the database in use and what chose it', async () => {
    await page.goto(serving.url);
    await page.waitForSelector('[data-testid="signin"]');
    await page.click('[data-testid="signin-skip"]');
    await page.click('[data-testid="signin-open"]');
    await page.fill('[data-testid="signin-name"]', 'Dr Site Admin');
    await page.click('[data-testid="signin-add"]');
    await page.waitForSelector('[data-testid="who"] >> text=Dr Site Admin');
    await page.click('[data-testid="tab-settings"]');
    expect(await page.inputValue('[data-testid="database"]')).toBe(`SQLite in ${dataDir} (the default)`);
    expect(await page.textContent('[data-testid="database-choice"]')).toMatch(/chosen at start by the default/);
  });

  it('refuses a value that is not a database, with the reason', async () => {
    await page.fill('[data-testid="database-input"]', 'mysql://triage:s3cret@db.example/triage');
    await page.click('[data-testid="database-save"]');
    const note = (await (await page.waitForSelector('[data-testid="database-note"][role="alert"]')).textContent()) ?? '';
    expect(note).toMatch(/the database is sqlite .* or a PostgreSQL URL/);
    expect(note).not.toContain('s3cret');
    expect(readStartConfig(dataDir)).toBeNull();
  });

  it('saves a database for the next start, tested first, and says to restart', async () => {
    await page.fill('[data-testid="database-input"]', chosen);
    if (postgres) {
      await page.fill('[data-testid="shared-dir-input"]', share);
      await page.click('[data-testid="database-test"]');
      await page.waitForSelector('[data-testid="database-note"][role="status"] >> text=answered');
    }
    await page.click('[data-testid="database-save"]');
    await page.waitForSelector('[data-testid="database-note"] >> text=restart the workstation to use it');
    const saved = (await page.textContent('[data-testid="database-saved"]')) ?? '';
    expect(saved).not.toContain('s3cret');
    if (postgres) {
      expect(saved).toMatch(/Saved for the next start: postgresql:\/\/triage:\*\*\*@.*with the shared folder .* restart the workstation to use it/);
      // The database in use stays as it was until the restart.
      expect(await page.inputValue('[data-testid="database"]')).toBe(`SQLite in ${dataDir} (the default)`);
    }
    expect(readStartConfig(dataDir)).toMatchObject({ database: chosen, savedBy: 'Dr Site Admin' });
    expect(statSync(startConfigPath(dataDir)).mode & 0o777).toBe(0o600);
  });

  it('uses the saved database after a restart, and says that Settings chose it', async () => {
    await serving.stop();
    serving = await start();
    await page.goto(serving.url);
    await page.waitForSelector('[data-testid="signin"]');
    await page.click('[data-testid="signin-skip"]');
    await page.click('[data-testid="tab-settings"]');
    const inUse = await page.inputValue('[data-testid="database"]');
    expect(inUse).toMatch(postgres ? /^PostgreSQL postgresql:\/\/triage:\*\*\*@.* \(from Settings, applies since start\)$/ : /^SQLite in .* \(from Settings, applies since start\)$/);
    expect(await page.textContent('[data-testid="database-saved"]')).toMatch(/ — in use\.$/);
  });
});
