/**
 * The files repository on a real database: what became of each file (by path and content), the
 * quarantine with its reasons, refusals of unread paths recorded once, and the audit entry of
 * each refusal.
 */
import { expect, it } from 'vitest';
import { slice, eachBackend } from '../../fixtures/store.js';

eachBackend('files', 'triage-files-', (fresh) => {
  it('quarantines a read file with its reason: seen again by path and content, listed, audited', () => {
    const { store, sql } = fresh();
    const id = store.files.quarantine('/in/mr.dcm', 'abc', 1234, 'Modality is MR, not CT');
    expect(store.files.seen('/in/mr.dcm', 'abc')).toEqual({ outcome: 'quarantined' });
    expect(store.files.seen('/in/mr.dcm', 'changed')).toBeUndefined(); // new content is read again
    expect(store.files.refusalReason('/in/mr.dcm', 'abc')).toBe('Modality is MR, not CT');
    expect(store.files.quarantined()).toEqual([
      { id, path: '/in/mr.dcm', sha256: 'abc', reason: 'Modality is MR, not CT', createdAt: expect.any(String), resolvedAt: null },
    ]);
    expect(store.files.unresolvedCount()).toBe(1);
    const audit = sql((db) => db.prepare('SELECT actor, action, subject FROM audit_log').all());
    expect(audit).toEqual([{ actor: 'ingest', action: 'quarantine', subject: '/in/mr.dcm' }]);
  });

  it('records a refusal of a path never read once while it stays unresolved', () => {
    const { store } = fresh();
    const first = store.files.refuseOnce('/in/fifo', 'not a regular file: skipped without reading it');
    expect(store.files.refuseOnce('/in/fifo', 'not a regular file: skipped without reading it')).toBe(first);
    expect(store.files.refuseOnce('/in/fifo', 'another reason')).not.toBe(first);
    expect(store.files.quarantined().map((q) => [q.path, q.sha256])).toEqual([
      ['/in/fifo', null],
      ['/in/fifo', null],
    ]);
    store.files.resolveRefusals('/in/fifo', new Date().toISOString());
    expect(store.files.quarantined()).toEqual([]);
    expect(store.files.quarantined(true)).toHaveLength(2);
    expect(store.files.refuseOnce('/in/fifo', 'another reason')).not.toBe(first); // a new refusal after resolution
  });

  it('records a read file once per path and content', () => {
    const { store } = fresh();
    const { instanceId } = store.instances.record(slice(0, { sourcePath: '/in/a.dcm', fileSha256: 'f' }));
    store.files.record({ path: '/in/a.dcm', sha256: 'f', size: 10, outcome: 'duplicate', instanceId, at: new Date().toISOString() });
    expect(store.files.seen('/in/a.dcm', 'f')).toEqual({ outcome: 'stored' }); // the first outcome stays
  });
});
