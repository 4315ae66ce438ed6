/**
 * Every file the core has looked at and what became of it. Owns the SQL of tables `files` (by
 * path and content: what makes a restart idempotent), `quarantine` (refused files and why) and
 * `conflicts` (a SOPInstanceUID sent again with other pixels). A refusal and a conflict are also
 * written to the audit log, in the same transaction.
 */
import type { SqlHandle } from './handle.js';
import { nowIso } from './handle.js';
import type { AuditRepository } from './audit.js';

export type FileOutcome = 'stored' | 'duplicate' | 'quarantined' | 'conflict';

export interface QuarantineRow {
  id: number;
  path: string;
  sha256: string | null;
  reason: string;
  createdAt: string;
  resolvedAt: string | null;
}

/** A file whose slice reused a stored SOPInstanceUID with other pixels. */
export interface ConflictingFile {
  sopUid: string;
  path: string;
  fileSha256: string;
  pixelSha256: string;
  size: number;
}

function toQuarantineRow(r: Record<string, unknown>): QuarantineRow {
  return {
    id: r.id as number,
    path: r.path as string,
    sha256: (r.sha256 as string | null) ?? null,
    reason: r.reason as string,
    createdAt: r.created_at as string,
    resolvedAt: (r.resolved_at as string | null) ?? null,
  };
}

export class FileRepository {
  constructor(
    private readonly db: SqlHandle,
    private readonly audit: AuditRepository,
  ) {}

  /** What became of this exact file (path and content) when it was read before, if it was. */
  seen(path: string, sha256: string): { outcome: FileOutcome } | undefined {
    return this.db.prepare('SELECT outcome FROM files WHERE path = @path AND sha256 = @sha256').get({ path, sha256 }) as
      | { outcome: FileOutcome }
      | undefined;
  }

  /** Why this exact file (path and content) was last refused, if it was. */
  refusalReason(path: string, sha256: string): string | undefined {
    const row = this.db
      .prepare('SELECT reason FROM quarantine WHERE path = @path AND sha256 = @sha256 ORDER BY id DESC LIMIT 1')
      .get({ path, sha256 }) as { reason: string } | undefined;
    if (row) return row.reason;
    const conflict = this.db
      .prepare('SELECT sop_uid FROM conflicts WHERE path = @path AND file_sha256 = @sha256 LIMIT 1')
      .get({ path, sha256 }) as { sop_uid: string } | undefined;
    return conflict ? `conflict: SOPInstanceUID ${conflict.sop_uid} is stored with other pixel data` : undefined;
  }

  /** Refuses a file with its reason; a file that was read (with a content hash) is not read again. */
  quarantine(path: string, sha256: string | null, size: number, reason: string): number {
    const at = nowIso();
    return this.db.transaction(() => {
      const { id } = this.db
        .prepare('INSERT INTO quarantine (path, sha256, reason, created_at) VALUES (@path, @sha256, @reason, @at) RETURNING id')
        .get({ path, sha256, reason, at }) as { id: number };
      if (sha256 !== null) {
        this.db
          .prepare(
            `INSERT INTO files (path, sha256, size, outcome, quarantine_id, seen_at)
             VALUES (@path, @sha256, @size, 'quarantined', @id, @at) ON CONFLICT DO NOTHING`,
          )
          .run({ path, sha256, size, id, at });
      }
      this.audit.append('ingest', 'quarantine', path, { reason, sha256 });
      return id;
    })();
  }

  /**
   * A refusal of a path that was never read (no content hash): recorded once while unresolved,
   * so a FIFO or a bad link seen on every scan is one quarantine entry, not one per scan.
   */
  refuseOnce(path: string, reason: string): number {
    const existing = this.db
      .prepare('SELECT id FROM quarantine WHERE path = @path AND reason = @reason AND sha256 IS NULL AND resolved_at IS NULL')
      .get({ path, reason }) as { id: number } | undefined;
    return existing ? existing.id : this.quarantine(path, null, 0, reason);
  }

  /** The refused files, oldest first: unresolved ones only unless `includeResolved`. */
  quarantined(includeResolved = false): QuarantineRow[] {
    const where = includeResolved ? '' : 'WHERE resolved_at IS NULL';
    return (this.db.prepare(`SELECT * FROM quarantine ${where} ORDER BY created_at, id`).all() as Record<string, unknown>[]).map(
      toQuarantineRow,
    );
  }

  /** A file read into a slice (stored, or a duplicate of one): `instanceId` is that slice. */
  record(f: { path: string; sha256: string; size: number; outcome: FileOutcome; instanceId: number; at: string }): void {
    this.db
      .prepare(
        `INSERT INTO files (path, sha256, size, outcome, instance_id, seen_at)
         VALUES (@path, @sha256, @size, @outcome, @instanceId, @at) ON CONFLICT DO NOTHING`,
      )
      .run(f);
  }

  /** Same SOPInstanceUID, other pixels: the stored slice is kept, this file recorded and audited. */
  recordConflict(file: ConflictingFile, existing: { id: number; sourcePath: string }, at: string): void {
    this.db
      .prepare(
        `INSERT INTO conflicts (sop_uid, existing_instance_id, path, file_sha256, pixel_sha256, created_at)
         VALUES (@sopUid, @existingId, @path, @fileSha256, @pixelSha256, @at) ON CONFLICT DO NOTHING`,
      )
      .run({ sopUid: file.sopUid, existingId: existing.id, path: file.path, fileSha256: file.fileSha256, pixelSha256: file.pixelSha256, at });
    this.record({ path: file.path, sha256: file.fileSha256, size: file.size, outcome: 'conflict', instanceId: existing.id, at });
    this.audit.append('ingest', 'conflict', file.sopUid, {
      path: file.path,
      existingPath: existing.sourcePath,
      reason: 'same SOPInstanceUID, different pixel data: kept the first, recorded this one',
    });
  }

  /** A path that was refused earlier (a copy caught half-written) and now reads well is resolved. */
  resolveRefusals(path: string, at: string): void {
    this.db.prepare('UPDATE quarantine SET resolved_at = @at WHERE path = @path AND resolved_at IS NULL').run({ at, path });
  }

  unresolvedCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM quarantine WHERE resolved_at IS NULL').get() as { n: number }).n;
  }

  conflictCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM conflicts').get() as { n: number }).n;
  }
}
