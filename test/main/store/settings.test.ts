/** The settings repository on a real database: one JSON value per key, replaced when set again. */
import { expect, it } from 'vitest';
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
    reopened.close();
  });
});
