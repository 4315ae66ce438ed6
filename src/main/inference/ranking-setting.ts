/** The site's ranking-family setting, read from the store; the manifest's measured choice when unset. */
import type { Store } from '../store/index.js';
import { defaultRankingFamily, RANKING_FAMILIES, type PolicySource, type RankingFamily } from '../triage/index.js';

export const RANKING_SETTING = 'rankingModel';

/** The family a site chose, if it chose one. */
export function siteRankingFamily(store: Store): RankingFamily | undefined {
  const v = store.settings.get<string>(RANKING_SETTING);
  return RANKING_FAMILIES.includes(v as RankingFamily) ? (v as RankingFamily) : undefined;
}

export function rankingFamily(store: Store, manifest: PolicySource): RankingFamily {
  return siteRankingFamily(store) ?? defaultRankingFamily(manifest);
}
