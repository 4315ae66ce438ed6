/** The settings repository on a real database: one JSON value per key, replaced when set again. */
import { describe, expect, it } from 'vitest';
import { Store } from '../../../src/main/store/index.js';
import { storeFactory } from '../../fixtures/store.js';

const fresh = storeFactory('triage-settings-');

describe('settings', () => {
  it('keeps JSON values by key, replaces them when set again, and keeps them across a reopen', () => {
    const { store, dataDir } = fresh();
    expect(store.settings.get('flagThresholds')).toBeUndefined();
    store.settings.set('flagThresholds', { any: 0.3, subdural: 0.25 });
    store.settings.set('importFolder', '/srv/import');
    store.settings.set('importFolder', null);
    expect(store.settings.get('flagThresholds')).toEqual({ any: 0.3, subdural: 0.25 });
    expect(store.settings.get('importFolder')).toBeNull();
    const reopened = Store.open(dataDir);
    expect(reopened.settings.get('flagThresholds')).toEqual({ any: 0.3, subdural: 0.25 });
    reopened.close();
  });
});
