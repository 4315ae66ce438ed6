/**
 * 0010: settings of one workstation, kept under its name, beside the site's (`settings`). On a
 * database several workstations share, a PC's import folder or its models' load states are its
 * own; which keys are whose is the settings repository's table (store/settings.ts).
 *
 * Nothing is moved: a migration cannot know which workstation an existing value was saved by, so
 * every row of `settings` stays where it is, and for a workstation-scoped key it is the default
 * each workstation reads until it saves its own value (which then goes here, never there).
 */
export const up = `
CREATE TABLE workstation_settings (
  workstation TEXT NOT NULL,
  key         TEXT NOT NULL,
  value       TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (workstation, key)
);
`;

/** As on SQLite, and the table sends its change notice like every other (0008). */
export const upPostgres = `${up}
CREATE TRIGGER workstation_settings_notify_change AFTER INSERT OR UPDATE OR DELETE ON workstation_settings
  FOR EACH STATEMENT EXECUTE FUNCTION notify_change();
`;
