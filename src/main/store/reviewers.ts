/**
 * The named local reviewers a workstation signs in as (table `reviewers`, migration 0002). Names
 * are unique, never renamed or deleted (the audit log refers to them), and each addition is in
 * the audit log.
 */
import type { Db } from './db.js';
import { nowIso } from './db.js';
import type { AuditingStore } from './audit.js';

export function listReviewers(db: Db): string[] {
  return db.prepare('SELECT name FROM reviewers ORDER BY name COLLATE NOCASE').pluck().all() as string[];
}

export function reviewerExists(db: Db, name: string): boolean {
  return db.prepare('SELECT 1 FROM reviewers WHERE name = ?').get(name) !== undefined;
}

/** Adds a reviewer (no-op if the name exists); `by` is who added them (null: the first one). */
export function addReviewer(store: AuditingStore, name: string, by: string | null): void {
  store.db.transaction(() => {
    if (reviewerExists(store.db, name)) return;
    store.db.prepare('INSERT INTO reviewers (name, created_at, created_by) VALUES (?, ?, ?)').run(name, nowIso(), by);
    store.appendAudit(by ?? name, 'reviewer.added', name, {});
  })();
}
