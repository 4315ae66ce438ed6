/**
 * The request edge: the API implementation validates every request itself, first thing, because
 * in-process callers (CLI, demo) and every transport (HTTP, IPC, the workstation thread) reach it
 * and none of those validates on its way. Each method refuses an unknown field with its own
 * message and changes nothing; a valid request with omitted fields gets the schema's defaults.
 * Real core, real SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS, dispatch } from '../../../src/shared/api.js';
import { TriageApiImpl } from '../../../src/main/api/index.js';
import { compose, type TriageCore } from '../../../src/main/core.js';
import { tempDir } from '../../helpers.js';

describe('the API implementation validates its requests', () => {
  const dir = tempDir('triage-requests-');
  let core: TriageCore;
  let api: TriageApiImpl;

  beforeAll(() => {
    core = compose({ dataDir: dir.path });
    api = new TriageApiImpl(core, { externalPollMs: 0 });
  });

  afterAll(async () => {
    api.close();
    await core.stop();
    dir.cleanup();
  });

  it.each(API_METHODS)('%s refuses an unknown field, through dispatch as through a direct call', async (method) => {
    const before = core.store.audit.head();
    await expect(dispatch(api, method, { bogus: 1 })).rejects.toThrow(new RegExp(`invalid ${method} request`));
    const direct = api[method] as (req: unknown) => Promise<unknown>;
    await expect(direct.call(api, { bogus: 1 })).rejects.toThrow(new RegExp(`invalid ${method} request`));
    expect(core.store.audit.head()).toEqual(before);
  });

  it('fills the defaults of omitted fields', async () => {
    const csv = await api.exportCsv({});
    expect(csv.rowCount).toBe(0);
    expect(await dispatch(api, 'worklist', undefined)).toMatchObject({ rows: [] });
  });
});
