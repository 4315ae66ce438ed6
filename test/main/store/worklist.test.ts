/**
 * The worklist query on a real database: studies ranked by their ranking score (unscored ones
 * after, oldest first), the filters the screen sends, one study's row, a study's state from its
 * least advanced series that the networks read, and which ranking family made the score.
 */
import { expect, it } from 'vitest';
import { RANKING_IN_USE_SETTING, RANKING_SCORE_ID, type Store } from '../../../src/main/store/index.js';
import { recordSeries, eachBackend } from '../../fixtures/store.js';

/** Study `n` (one series of `slices` slices), scored `any` by the ranking family when given. */
function study(store: Store, n: number, any: number | null, slices = 2): string {
  const studyUid = `1.2.7.${n}`;
  recordSeries(store, slices, { studyUid, seriesUid: `${studyUid}.1`, study: { patientName: `P^${n}`, accession: `A${n}` } });
  store.series.markReady(`${studyUid}.1`, slices);
  if (any !== null) {
    store.scores.save(studyUid, RANKING_SCORE_ID, [any, 0.1, 0.1, 0.1, 0.1, 0.1], []);
    store.series.setState(`${studyUid}.1`, 'scored', null);
  }
  return studyUid;
}

eachBackend('worklist', 'triage-worklist-', (fresh) => {
  it('ranks scored studies by their ranking score, unscored ones after in arrival order', () => {
    const { store } = fresh();
    const [s1, s2, s3, s4] = [study(store, 1, null), study(store, 2, 0.3), study(store, 3, 0.9), study(store, 4, null)];
    const rows = store.worklist.query();
    expect(rows.map((r) => r.studyUid)).toEqual([s3, s2, s1, s4]);
    expect(rows[0]).toMatchObject({ patientName: 'P^3', accession: 'A3', state: 'scored', seriesCount: 1, sliceCount: 2, readSliceCount: 2, scoredBy: RANKING_SCORE_ID });
    expect(rows[2]).toMatchObject({ state: 'ready', score: null, scoredBy: null, provisionalSlices: null });
    expect(store.worklist.query({ limit: 2 }).map((r) => r.studyUid)).toEqual([s3, s2]);
    expect(store.worklist.query({ sort: 'arrival' }).map((r) => r.studyUid)).toEqual([s4, s3, s2, s1]);
  });

  it('filters by review status, score and arrival, and gives one study its own row', () => {
    const { store } = fresh();
    const [s1, s2] = [study(store, 1, 0.2), study(store, 2, 0.8)];
    store.reviews.record({ studyUid: s1, reviewer: 'Dr A', decision: 'dismissed', subtypes: [], comment: '' });
    expect(store.worklist.query({ reviewStatus: ['new', 'in_review'] }).map((r) => r.studyUid)).toEqual([s2]);
    expect(store.worklist.query({ reviewStatus: ['dismissed'] }).map((r) => [r.studyUid, r.reviewStatus])).toEqual([[s1, 'dismissed']]);
    expect(store.worklist.query({ minScore: 0.5 }).map((r) => r.studyUid)).toEqual([s2]);
    expect(store.worklist.query({ studyUid: s1 }).map((r) => r.studyUid)).toEqual([s1]);
    const arrived = store.worklist.query({ studyUid: s2 })[0]!.firstArrivalAt;
    expect(store.worklist.query({ arrivedAfter: arrived }).map((r) => r.studyUid)).toEqual([s2]);
    expect(store.worklist.query({ arrivedBefore: arrived }).map((r) => r.studyUid).sort()).toEqual([s1, s2].sort());
    expect(store.worklist.query({ arrivedBefore: '2000-01-01T00:00:00.000Z' })).toEqual([]);
  });

  it("shows a study as far along as its least advanced series the networks read, with that series' reason", () => {
    const { store } = fresh();
    const s = study(store, 1, 0.5);
    recordSeries(store, 3, { studyUid: s, seriesUid: `${s}.2` });
    store.series.setState(`${s}.2`, 'failed', 'inference failed (will retry): worker crashed');
    expect(store.worklist.query()[0]).toMatchObject({ state: 'failed', stateReason: 'inference failed (will retry): worker crashed', seriesCount: 2, sliceCount: 5 });
    store.series.setChoice({ read: `${s}.1`, skipped: new Map([[`${s}.2`, 'thin slices']]) });
    expect(store.worklist.query()[0]).toMatchObject({ state: 'scored', stateReason: null, sliceCount: 5, readSliceCount: 2 });
  });

  it('says when the series the networks read was taken with contrast, and not for a skipped one', () => {
    const { store } = fresh();
    const plain = study(store, 1, 0.4);
    const enhanced = study(store, 2, 0.6);
    recordSeries(store, 2, { studyUid: plain, seriesUid: `${plain}.2`, contrastAgent: 'OMNIPAQUE 350' });
    store.series.setChoice({ read: `${plain}.1`, skipped: new Map([[`${plain}.2`, 'contrast-enhanced (OMNIPAQUE 350)']]) });
    recordSeries(store, 2, { studyUid: enhanced, seriesUid: `${enhanced}.3`, contrastAgent: '' });
    store.series.setChoice({ read: `${enhanced}.3`, skipped: new Map([[`${enhanced}.1`, 'another series is read']]) });
    const rows = new Map(store.worklist.query().map((r) => [r.studyUid, r.readContrastAgent]));
    expect(rows.get(plain)).toBeNull();
    expect(rows.get(enhanced)).toBe(''); // enhanced, agent not named
  });

  it('names the ranking family that made the score when the scorer recorded it', () => {
    const { store } = fresh();
    study(store, 1, 0.5);
    store.settings.set(RANKING_IN_USE_SETTING, 'convlstm (ensemble unavailable)');
    expect(store.worklist.query()[0]!.scoredBy).toBe('convlstm (ensemble unavailable)');
  });
});
