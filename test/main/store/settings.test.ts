/**
 * The settings repository on a real database: one JSON value per key, replaced when set again;
 * the site's keys shared by every workstation on the database, a workstation's keys its own
 * (store/settings.ts SETTING_SCOPES).
 */
import { expect, it } from 'vitest';
import { SETTING_SCOPES } from '../../../src/main/store/index.js';
import { eachBackend } from '../../fixtures/store.js';

eachBackend('settings', 'triage-settings-', (fresh) => {
  it('keeps JSON values by key, replaces them when set again, and keeps them across a reopen', () => {
    const { store, reopen } = fresh();
    expect(store.settings.get('flagThresholds')).toBeUndefined();
    store.settings.set('flagThresholds', { any: 0.3, subdural: 0.25 });
    store.settings.set('importFolder', '/srv/import');
    store.settings.set('importFolder', null);
    expect(store.settings.get('flagThresholds')).toEqual({ any: 0.3, subdural: 0.25 });
    expect(store.settings.get('importFolder')).toBeNull();
    const reopened = reopen();
    expect(reopened.settings.get('flagThresholds')).toEqual({ any: 0.3, subdural: 0.25 });
    expect(reopened.settings.get('importFolder')).toBeNull();
    reopened.close();
  });

  it("gives each workstation on one database its own import folder and model states, and neither sees the other's", () => {
    const { reopen } = fresh();
    const reading1 = reopen({ workstation: 'reading-1:/data' });
    const reading2 = reopen({ workstation: 'reading-2:/data' });
    reading1.settings.set('importFolder', '/mnt/scanner-a');
    reading2.settings.set('importFolder', 'D:\\incoming');
    reading1.settings.set('modelStates', { at: '2026-01-01T00:00:00Z', models: [{ modelId: 'b3', status: 'loaded', provider: 'cuda' }] });
    expect(reading1.settings.get('importFolder')).toBe('/mnt/scanner-a');
    expect(reading2.settings.get('importFolder')).toBe('D:\\incoming');
    expect(reading2.settings.get('modelStates')).toBeUndefined();
    // A restart of the same workstation finds its own.
    expect(reopen({ workstation: 'reading-1:/data' }).settings.get('importFolder')).toBe('/mnt/scanner-a');
    // A third that never saved one has none: another PC's folder is not its default.
    expect(reopen({ workstation: 'reading-3:/data' }).settings.get('importFolder')).toBeUndefined();
  });

  it('shares the site settings: thresholds and the ranking family set on one workstation are read by another', () => {
    const { reopen } = fresh();
    const reading1 = reopen({ workstation: 'reading-1:/data' });
    const reading2 = reopen({ workstation: 'reading-2:/data' });
    reading1.settings.set('flagThresholds', { any: 0.2 });
    reading1.settings.set('rankingModel', 'convlstm');
    expect(reading2.settings.get('flagThresholds')).toEqual({ any: 0.2 });
    expect(reading2.settings.get('rankingModel')).toBe('convlstm');
    reading2.settings.set('flagThresholds', { any: 0.25 });
    expect(reading1.settings.get('flagThresholds')).toEqual({ any: 0.25 });
  });

  it("reads a workstation's key from the site's row until the workstation saves its own, and never writes that row", () => {
    const { reopen, sql } = fresh();
    // A value from before settings were kept per workstation (migration 0010 leaves it there).
    sql((db) => db.prepare("INSERT INTO settings (key, value) VALUES ('importFolder', '\"/srv/import\"')").run());
    const reading1 = reopen({ workstation: 'reading-1:/data' });
    const reading2 = reopen({ workstation: 'reading-2:/data' });
    expect(reading1.settings.get('importFolder')).toBe('/srv/import');
    reading1.settings.set('importFolder', null);
    expect(reading1.settings.get('importFolder')).toBeNull();
    expect(reading2.settings.get('importFolder')).toBe('/srv/import');
    expect(sql((db) => db.prepare("SELECT value FROM settings WHERE key = 'importFolder'").get())).toEqual({ value: '"/srv/import"' });
  });

  it("refuses to write a workstation's key through a store opened without a workstation name, and reads the site's", () => {
    const { reopen, sql } = fresh();
    sql((db) => db.prepare("INSERT INTO settings (key, value) VALUES ('importFolder', '\"/srv/import\"')").run());
    const nameless = reopen({});
    expect(nameless.settings.get('importFolder')).toBe('/srv/import');
    expect(() => nameless.settings.set('importFolder', '/elsewhere')).toThrow(/kept per workstation.*without a workstation name/);
    nameless.settings.set('flagThresholds', { any: 0.4 });
    expect(nameless.settings.get('flagThresholds')).toEqual({ any: 0.4 });
  });
});

it('says whose each settings key is', () => {
  expect(SETTING_SCOPES).toEqual({
    flagThresholds: 'site',
    rankingModel: 'site',
    rankingModelInUse: 'site',
    importFolder: 'workstation',
    modelStates: 'workstation',
  });
});
