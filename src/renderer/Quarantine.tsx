/** Files the core refused, each with its path and reason (`triage quarantine` in the CLI). */
import { useEffect, useState } from 'react';
import { getClient } from './api.js';
import { localTime } from './format.js';
import type { QuarantineEntry } from '../shared/api.js';

export function Quarantine() {
  const client = getClient();
  const [entries, setEntries] = useState<QuarantineEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const load = () =>
      void client.api
        .quarantine({})
        .then((r) => setEntries(r.entries))
        .catch((e: Error) => setError(e.message));
    load();
    return client.onEvent(load);
  }, [client]);
  return (
    <section className="page">
      <h2>Quarantine</h2>
      <p className="muted">Files that were not stored, and why. Fix or replace the file in the import folder; a good copy of the same path resolves its entry.</p>
      {error && <div className="error" role="alert">{error}</div>}
      {entries && !entries.length && <div className="empty">No refused files.</div>}
      {entries && entries.length > 0 && (
        <table className="rows" data-testid="quarantine">
          <thead>
            <tr><th>When</th><th>File</th><th>Reason</th></tr>
          </thead>
          <tbody>
            {entries.map((q) => (
              <tr key={q.id}>
                <td className="nowrap">{localTime(q.createdAt)}</td>
                <td className="path">{q.path}</td>
                <td className="reason">{q.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
