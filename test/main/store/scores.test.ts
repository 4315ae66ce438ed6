/**
 * The study scores repository on a real database: per study and model, the six probabilities and
 * the key slices, replaced when scored again, cleared all at once, and read back in camelCase.
 */
import { expect, it } from 'vitest';
import { RANKING_SCORE_ID } from '../../../src/main/store/index.js';
import { recordSeries, eachBackend } from '../../fixtures/store.js';

eachBackend('scores', 'triage-scores-', (fresh) => {
  it('saves, replaces, reads back by model and clears a study score', () => {
    const { store } = fresh();
    const ids = recordSeries(store, 2);
    store.scores.save('1.2.3.1', 'convlstm', [0.5, 0.1, 0.1, 0.1, 0.1, 0.1], [ids[1]!]);
    store.scores.save('1.2.3.1', RANKING_SCORE_ID, [0.9, 0.2, 0.3, 0.1, 0.1, 0.8], [ids[0]!, ids[1]!]);
    store.scores.save('1.2.3.1', 'convlstm', [0.6, 0.1, 0.1, 0.1, 0.1, 0.1], [ids[0]!]);
    expect(store.scores.get('1.2.3.1', 'convlstm')).toEqual({
      modelId: 'convlstm',
      score: { any: 0.6, epidural: 0.1, intraparenchymal: 0.1, intraventricular: 0.1, subarachnoid: 0.1, subdural: 0.1 },
      keySlices: [ids[0]],
      computedAt: expect.any(String),
    });
    expect(store.scores.get('1.2.3.1', 'ensemble')).toBeUndefined();
    expect(store.scores.ofStudy('1.2.3.1').map((s) => [s.modelId, s.score.any, s.keySlices])).toEqual([
      ['convlstm', 0.6, [ids[0]]],
      [RANKING_SCORE_ID, 0.9, ids],
    ]);
    store.scores.clear('1.2.3.1');
    expect(store.scores.ofStudy('1.2.3.1')).toEqual([]);
  });

  it('marks a score made while a series was still arriving, with the slices it read, as the worklist shows it', () => {
    const { store } = fresh();
    recordSeries(store, 3);
    store.scores.save('1.2.3.1', RANKING_SCORE_ID, [0.7, 0, 0, 0, 0, 0], [], { slicesScored: 2 });
    expect(store.worklist.query()[0]).toMatchObject({ provisionalSlices: 2, score: { any: 0.7 } });
    store.scores.save('1.2.3.1', RANKING_SCORE_ID, [0.8, 0, 0, 0, 0, 0], []);
    expect(store.worklist.query()[0]).toMatchObject({ provisionalSlices: null, score: { any: 0.8 } });
  });
});
