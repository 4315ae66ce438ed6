/**
 * The schema's history, in order. Each entry is a numbered file that is never edited once it has
 * shipped (STYLE.md habit 7); PRAGMA user_version records how many have been applied.
 */
import type { Db } from '../handle.js';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-audit-chain.js';
import * as m0003 from './0003-patient-sex-age.js';
import * as m0004 from './0004-prediction-model-file.js';
import * as m0005 from './0005-provisional-scores.js';
import * as m0006 from './0006-series-choice.js';
import * as m0007 from './0007-lesion-maps.js';

export interface Migration {
  version: number;
  name: string;
  /** SQL run first. */
  up: string;
  /** Data the SQL cannot compute (e.g. hashes), run after `up` in the same transaction. */
  fill?: (db: Db) => void;
  /** SQL run last (e.g. triggers that would have refused `fill`). */
  finish?: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: '0001-initial', up: m0001.up },
  { version: 2, name: '0002-audit-chain', up: m0002.up, fill: m0002.fill, finish: m0002.finish },
  { version: 3, name: '0003-patient-sex-age', up: m0003.up },
  { version: 4, name: '0004-prediction-model-file', up: m0004.up },
  { version: 5, name: '0005-provisional-scores', up: m0005.up },
  { version: 6, name: '0006-series-choice', up: m0006.up },
  { version: 7, name: '0007-lesion-maps', up: m0007.up },
];
