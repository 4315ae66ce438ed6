/**
 * Loads the manifest's models into a core, as `triage import/watch` do (src/main/cli), for the
 * two long-running screens (`triage serve`, the Electron app). Records each model's state in
 * the `modelStates` setting, which is where the API's `providers` field reads it from.
 * (The lead may fold this into the CLI's openScoringCore; the logic is the same.)
 */
import type { TriageCore } from '../core.js';
import { OnnxSeriesScorer } from '../inference/scorer.js';

export const MODEL_STATES_SETTING = 'modelStates';

export async function attachModels(
  core: TriageCore,
  opts: { modelsDir?: string | undefined; cuda?: boolean; log?: (m: string) => void } = {},
): Promise<boolean> {
  const scorer = await OnnxSeriesScorer.create({
    store: core.store,
    dataDir: core.dataDir,
    ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}),
    providers: opts.cuda === false ? ['cpu'] : ['cuda', 'cpu'],
    ...(opts.log ? { log: opts.log } : {}),
  });
  if (!scorer) return false;
  core.store.setSetting(MODEL_STATES_SETTING, { at: new Date().toISOString(), models: scorer.modelStates() });
  opts.log?.(`models: ${scorer.describe()}`);
  core.attachScorer(scorer);
  return true;
}
