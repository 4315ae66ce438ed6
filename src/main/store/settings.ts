/**
 * The site's settings (table `settings`): one JSON value per key. Which keys exist is the
 * business of the stages that read and write them (the API's screen settings, the model states
 * of the last model load, the ranking family in use).
 */
import type { SqlHandle } from './handle.js';

export class SettingsRepository {
  constructor(private readonly db: SqlHandle) {}

  get<T>(key: string): T | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = @key').get({ key }) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    this.db
      .prepare('INSERT INTO settings (key, value) VALUES (@key, @value) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run({ key, value: JSON.stringify(value) });
  }
}
