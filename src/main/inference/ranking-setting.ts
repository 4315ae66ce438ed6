/** The site's ranking-family setting, read from the store. */
import type { Store } from '../store/index.js';
import { DEFAULT_RANKING_FAMILY, RANKING_FAMILIES, type RankingFamily } from '../triage/index.js';

export const RANKING_SETTING = 'rankingModel';

export function rankingFamily(store: Store): RankingFamily {
  const v = store.getSetting<string>(RANKING_SETTING);
  return RANKING_FAMILIES.includes(v as RankingFamily) ? (v as RankingFamily) : DEFAULT_RANKING_FAMILY;
}
