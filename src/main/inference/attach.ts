/**
 * Loads the manifest's models into a core — the one way every entry point does it (the CLI's
 * import/watch/evaluate, `triage serve`, the Electron app, the demo). Records each model's state
 * (provider and why, or why it was refused) in the `modelStates` setting, which `triage status`
 * and the API's `providers` field read.
 */
import type { TriageCore } from '../core.js';
import { OnnxSeriesScorer } from './scorer.js';

import { MODEL_STATES_SETTING } from './index.js';

export { MODEL_STATES_SETTING };

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
