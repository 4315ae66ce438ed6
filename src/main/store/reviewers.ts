/**
 * The named local reviewers a workstation signs in as (table `reviewers`, migration 0002). Names
 * are unique, never renamed or deleted (the audit log refers to them), and each addition is in
 * the audit log.
 */
import type { SqlHandle } from './handle.js';
import { nowIso } from './handle.js';
import type { AuditRepository } from './audit.js';

export class ReviewerRepository {
  constructor(
    private readonly db: SqlHandle,
    private readonly audit: AuditRepository,
  ) {}

  list(): string[] {
    // lower(): SQLite's NOCASE is not PostgreSQL's; both fold ASCII the same way with lower().
    return (this.db.prepare('SELECT name FROM reviewers ORDER BY lower(name), name').all() as { name: string }[]).map((r) => r.name);
  }

  exists(name: string): boolean {
    return this.db.prepare('SELECT 1 FROM reviewers WHERE name = @name').get({ name }) !== undefined;
  }

  /** Adds a reviewer (no-op if the name exists); `by` is who added them (null: the first one). */
  add(name: string, by: string | null): void {
    this.db.transaction(() => {
      if (this.exists(name)) return;
      this.db.prepare('INSERT INTO reviewers (name, created_at, created_by) VALUES (@name, @at, @by)').run({ name, at: nowIso(), by });
      this.audit.append(by ?? name, 'reviewer.added', name, {});
    })();
  }
}
