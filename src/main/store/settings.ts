/**
 * The settings: one JSON value per key, each key either the site's (table `settings`, one value
 * every workstation on the database reads) or a workstation's own (table `workstation_settings`,
 * one value per workstation name, migration 0010). Which keys exist is the business of the stages
 * that read and write them (the API's screen settings, the model states of the last model load,
 * the ranking family in use); whose each key is, is written once, here, in SETTING_SCOPES.
 *
 * A workstation-scoped key is read as this workstation's value, else the site's row of the same
 * key (a value saved before settings were kept per workstation: the default every workstation
 * starts from until it saves its own), else undefined (the reading stage's built-in default).
 * It is written only as this workstation's value; the site's row is never overwritten by one PC.
 */
import type { SettingScope } from '../../shared/api.js';
import { nowIso, type SqlHandle } from './handle.js';

/**
 * Every settings key and whose it is. On one SQLite PC the difference does not show; on a
 * PostgreSQL database several reading rooms share, a 'workstation' key set on one PC must not
 * change what another does.
 */
export const SETTING_SCOPES = {
  // How the shared worklist flags studies: one policy for every reader of the one worklist, and
  // the one the audit records when a reviewer changes it.
  flagThresholds: 'site',
  // The family whose scores rank the worklist: the 'ranking' study scores are rows every
  // workstation shares, so two families chosen on two PCs would overwrite each other's scores.
  rankingModel: 'site',
  // Which family made the shared 'ranking' scores (read by the worklist query itself): a fact
  // about shared rows, written by whichever workstation scored last.
  rankingModelInUse: 'site',
  // A path on this PC's disk (or its own mount of a share) whose every file this PC reads: another
  // PC watching it would read a folder that is not there, or someone else's.
  importFolder: 'workstation',
  // Which models this PC loaded and on which execution provider (its GPU or its CPU): another PC
  // has other hardware and its own onnxruntime sessions.
  modelStates: 'workstation',
} as const satisfies Record<string, SettingScope>;

export type SettingKey = keyof typeof SETTING_SCOPES;

/** Whose a setting is: the site's or each workstation's own. */
export function settingScope(key: SettingKey): SettingScope {
  return SETTING_SCOPES[key];
}

export class SettingsRepository {
  /**
   * `workstation` names whose values the workstation-scoped keys are (TriageCore.workstation); a
   * store opened without one reads their site default and refuses to write them.
   */
  constructor(
    private readonly db: SqlHandle,
    private readonly workstation: string | null,
  ) {}

  get<T>(key: SettingKey): T | undefined {
    if (settingScope(key) === 'workstation' && this.workstation !== null) {
      const own = this.db
        .prepare('SELECT value FROM workstation_settings WHERE workstation = @workstation AND key = @key')
        .get({ workstation: this.workstation, key }) as { value: string } | undefined;
      if (own) return JSON.parse(own.value) as T;
    }
    const row = this.db.prepare('SELECT value FROM settings WHERE key = @key').get({ key }) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  set(key: SettingKey, value: unknown): void {
    if (settingScope(key) === 'site') {
      this.db
        .prepare('INSERT INTO settings (key, value) VALUES (@key, @value) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
        .run({ key, value: JSON.stringify(value) });
      return;
    }
    if (this.workstation === null) {
      throw new Error(`setting ${key} is kept per workstation, and this store was opened without a workstation name`);
    }
    this.db
      .prepare(
        `INSERT INTO workstation_settings (workstation, key, value, updated_at) VALUES (@workstation, @key, @value, @at)
         ON CONFLICT(workstation, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      )
      .run({ workstation: this.workstation, key, value: JSON.stringify(value), at: nowIso() });
  }
}
