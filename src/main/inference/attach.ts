/**
 * Loads the manifest's models into a core — the one way every entry point does it (the CLI's
 * import/watch/evaluate, `triage serve`, the Electron app, the demo). Records each model's state
 * (provider and why, or why it was refused) in the `modelStates` setting, this workstation's own on a
 * shared database, which `triage status` and the API's `providers` field read. Returns how many models loaded: 0 means nothing will be
 * scored (no manifest, or every model refused), which the callers say out loud.
 */
import { OnnxSeriesScorer } from './scorer.js';
import { MODEL_STATES_SETTING, type ScorerHost } from './index.js';

export { MODEL_STATES_SETTING };

export async function attachModels(
  core: ScorerHost,
  opts: { modelsDir?: string | undefined; cuda?: boolean; log?: (m: string) => void } = {},
): Promise<number> {
  const scorer = await OnnxSeriesScorer.create({
    store: core.store,
    dataDir: core.huDir,
    ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}),
    providers: opts.cuda === false ? ['cpu'] : ['cuda', 'cpu'],
    ...(opts.log ? { log: opts.log } : {}),
  });
  if (!scorer) {
    // Recorded too, so that no screen shows the providers of an earlier run as if they were loaded.
    core.store.settings.set(MODEL_STATES_SETTING, { at: new Date().toISOString(), models: [] });
    opts.log?.('models: none installed (models/manifest.json lists no model)');
    return 0;
  }
  core.store.settings.set(MODEL_STATES_SETTING, { at: new Date().toISOString(), models: scorer.modelStates() });
  opts.log?.(`models: ${scorer.describe()}`);
  core.attachScorer(scorer);
  return scorer.modelStates().filter((s) => s.status === 'loaded').length;
}
