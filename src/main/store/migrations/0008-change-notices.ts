/**
 * 0008: other workstations' writes made known. SQLite needs nothing: its data_version pragma
 * changes when another connection commits. PostgreSQL has no such counter, so every table sends a
 * notice at commit of any statement that changes it (channel `CHANGE_CHANNEL`, the table's name
 * as payload); each store's connection listens and counts the notices of other connections
 * (postgres.ts), which is what the API polls to show another workstation's score or review.
 */
export const CHANGE_CHANNEL = 'triage_change';

export const up = `-- SQLite: nothing to add (PRAGMA data_version).`;

const TABLES = [
  'studies', 'series', 'instances', 'files', 'quarantine', 'conflicts', 'predictions', 'study_scores', 'reviews',
  'audit_log', 'jobs', 'settings', 'reviewers', 'lesion_maps', 'study_volumes',
];

export const upPostgres = `
CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${CHANGE_CHANNEL}', TG_TABLE_NAME);
  RETURN NULL;
END
$$;
${TABLES.map(
  (t) => `CREATE TRIGGER ${t}_notify_change AFTER INSERT OR UPDATE OR DELETE ON ${t}
  FOR EACH STATEMENT EXECUTE FUNCTION notify_change();`,
).join('\n')}
`;
