/**
 * The schema's history, in order. Each entry is a numbered file that is never edited once it has
 * shipped (STYLE.md habit 7); PRAGMA user_version records how many have been applied.
 */
import * as m0001 from './0001-initial.js';

export interface Migration {
  version: number;
  name: string;
  up: string;
}

export const MIGRATIONS: readonly Migration[] = [{ version: 1, name: '0001-initial', up: m0001.up }];
