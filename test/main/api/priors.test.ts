/**
 * A study's priors: the same patient's other studies (same PatientID), newest first, with their
 * ranking score; none for a study without a PatientID. Through real ingest and the API the screen
 * calls.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TriageApiImpl } from '../../../src/main/api/index.js';
import { compose } from '../../../src/main/core.js';
import { corpus, CT1_UNC, fixture, HAVE_CORPUS, tempDir } from '../../helpers.js';

const dir = tempDir('triage-priors-');
afterAll(() => dir.cleanup());

function study(folder: string, n: number, patientId: string, date: string): void {
  const set = (k: string, v: string) => ['--set-text', `${k}=${v}`];
  fixture(
    'variant',
    '--base',
    corpus(CT1_UNC),
    '--out',
    join(folder, `s${n}.dcm`),
    ...set('PatientID', patientId),
    ...set('StudyDate', date),
    ...set('StudyInstanceUID', `1.2.826.0.1.3680043.8.498.70${n}`),
    ...set('SeriesInstanceUID', `1.2.826.0.1.3680043.8.498.71${n}`),
    ...set('SOPInstanceUID', `1.2.826.0.1.3680043.8.498.72${n}`),
  );
}

describe.skipIf(!HAVE_CORPUS)('priors', () => {
  it('lists the same patient’s other studies, newest first, and nothing across patients', async () => {
    const inbox = join(dir.path, 'inbox');
    mkdirSync(inbox);
    study(inbox, 1, 'P-1', '20240101');
    study(inbox, 2, 'P-1', '20250601');
    study(inbox, 3, 'P-1', '20260315');
    study(inbox, 4, 'P-2', '20260315');
    study(inbox, 5, ' ', '20260315'); // a blank PatientID matches nobody
    study(inbox, 6, ' ', '20250101');
    const core = compose({ dataDir: join(dir.path, 'data'), settleMs: 0 });
    await core.importFolder(inbox);
    const api = new TriageApiImpl(core, { externalPollMs: 0 });
    const priors = async (n: number) =>
      (await api.study({ studyUid: `1.2.826.0.1.3680043.8.498.70${n}` })).priors.map((p) => [p.studyUid.slice(-3), p.studyDate]);
    expect(await priors(3)).toEqual([
      ['702', '20250601'],
      ['701', '20240101'],
    ]);
    expect(await priors(1)).toEqual([
      ['703', '20260315'],
      ['702', '20250601'],
    ]);
    expect(await priors(4)).toEqual([]);
    expect(await priors(5)).toEqual([]);
    const [first] = (await api.study({ studyUid: '1.2.826.0.1.3680043.8.498.702' })).priors;
    expect(first).toMatchObject({ reviewStatus: 'new', scoreAny: null }); // not scored: no model here
    api.close();
    await core.stop();
  });
});
