/**
 * The audit trail: an append-only, hash-chained log. Owns the SQL of table `audit_log`.
 *
 * Each row stores the hash of the row before it (`prev_hash`) and its own hash over its content
 * and that link (`hash`), so changing, removing or inserting a row anywhere breaks the chain at that
 * row. The database refuses UPDATE and DELETE, an INSERT whose link is not the current head, and
 * an INSERT dated before the head (triggers, migration 0002); triggers can be dropped by whoever
 * holds the file, the chain cannot be mended without rewriting every later row, and
 * `triage audit verify` reports the first broken link. The head hash printed by verify can be
 * noted outside the machine to detect a whole rewritten chain.
 */
import { createHash } from 'node:crypto';
import { dialectOf, type SqlHandle } from './handle.js';

/** The link of the first row. */
export const GENESIS = '0'.repeat(64);

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  detail: string;
  prevHash: string | null;
  hash: string | null;
}

type HashedFields = Pick<AuditRow, 'id' | 'at' | 'actor' | 'action' | 'subject' | 'detail'>;

function toAuditRow(r: Record<string, unknown>): AuditRow {
  return {
    id: r.id as number,
    at: r.at as string,
    actor: r.actor as string,
    action: r.action as string,
    subject: (r.subject as string | null) ?? null,
    detail: r.detail as string,
    prevHash: (r.prev_hash as string | null) ?? null,
    hash: (r.hash as string | null) ?? null,
  };
}

/** The hash of one row: its link and every field, unambiguously separated (JSON array). */
export function auditHash(prevHash: string, r: HashedFields): string {
  return createHash('sha256').update(JSON.stringify([prevHash, r.id, r.at, r.actor, r.action, r.subject, r.detail])).digest('hex');
}

function auditHead(db: SqlHandle): { id: number; at: string; hash: string } | undefined {
  return db.prepare('SELECT id, at, hash FROM audit_log ORDER BY id DESC LIMIT 1').get() as { id: number; at: string; hash: string } | undefined;
}

/** Fills `prev_hash`/`hash` of rows written before the chain existed (migration 0002), in id order. */
export function chainExistingRows(db: SqlHandle): void {
  let prev = GENESIS;
  const rows = (db.prepare('SELECT * FROM audit_log ORDER BY id').all() as Record<string, unknown>[]).map(toAuditRow);
  const set = db.prepare('UPDATE audit_log SET prev_hash = @prev, hash = @hash WHERE id = @id');
  for (const r of rows) {
    const hash = auditHash(prev, r);
    set.run({ prev, hash, id: r.id });
    prev = hash;
  }
}

export interface AuditVerdict {
  ok: boolean;
  rows: number;
  head: string;
  /** The first problem found, in words a site's IT can act on. */
  firstBreak?: { id: number; problem: string };
  /** Reviews and study statuses checked against the log. */
  reviews: number;
}

/** A review as written, for checking against the audit entry written with it. */
interface WrittenReview {
  id: number;
  studyUid: string;
  reviewer: string;
  decision: string;
  subtypes: string;
  comment: string;
}

function toWrittenReview(r: Record<string, unknown>): WrittenReview {
  return {
    id: r.id as number,
    studyUid: r.study_uid as string,
    reviewer: r.reviewer as string,
    decision: r.decision as string,
    subtypes: r.subtypes as string,
    comment: r.comment as string,
  };
}

export class AuditRepository {
  constructor(private readonly db: SqlHandle) {}

  /** Appends one row at the head of the chain, atomically with the caller's transaction. */
  append(actor: string, action: string, subject: string | null, detail: object = {}): void {
    this.db.transaction(() => {
      // On PostgreSQL several workstations append to one chain: each reads the head under a lock
      // held to its commit (readers pass; other appenders wait), so two never link to one head.
      // SQLite has one writer at a time already.
      if (dialectOf(this.db) === 'postgres') this.db.exec('LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE');
      const head = auditHead(this.db);
      const prev = head?.hash ?? GENESIS;
      const id = (head?.id ?? 0) + 1;
      // Never before the head, so the log reads in time order even if the clock stepped back.
      const now = new Date().toISOString();
      const at = head && head.at > now ? head.at : now;
      const text = JSON.stringify(detail);
      const hash = auditHash(prev, { id, at, actor, action, subject, detail: text });
      this.db
        .prepare(
          `INSERT INTO audit_log (id, at, actor, action, subject, detail, prev_hash, hash)
           VALUES (@id, @at, @actor, @action, @subject, @detail, @prev, @hash)`,
        )
        .run({ id, at, actor, action, subject, detail: text, prev, hash });
    })();
  }

  /** The newest row: its id, time and hash (none while the log is empty). */
  head(): { id: number; at: string; hash: string } | undefined {
    return auditHead(this.db);
  }

  /**
   * Walks the log from the first row: every link, every hash, time order; then every review row
   * against the audit entry written with it, and every study's review status against its reviews.
   */
  verify(): AuditVerdict {
    const rows = (this.db.prepare('SELECT * FROM audit_log ORDER BY id').all() as Record<string, unknown>[]).map(toAuditRow);
    const chain = verifyChain(rows);
    if (!chain.ok) return chain;
    const reviews = (this.db.prepare('SELECT * FROM reviews ORDER BY id').all() as Record<string, unknown>[]).map(toWrittenReview);
    const verdict = (firstBreak: { id: number; problem: string }): AuditVerdict => ({
      ok: false,
      rows: rows.length,
      head: chain.head,
      firstBreak,
      reviews: reviews.length,
    });
    const unmatched = firstUnmatchedReview(rows, reviews);
    if (unmatched) return verdict({ id: unmatched.entryId, problem: `review ${unmatched.reviewId} does not match the audit entry written with it` });
    const stale = this.firstStaleStatus();
    if (stale) return verdict({ id: 0, problem: `study ${stale.studyUid} shows "${stale.reviewStatus}", which its reviews do not say` });
    return { ok: true, rows: rows.length, head: chain.head, reviews: reviews.length };
  }

  /** A study whose review status is not what its latest review says (COALESCE 'new'). */
  private firstStaleStatus(): { studyUid: string; reviewStatus: string } | undefined {
    const row = this.db
      .prepare(
        `SELECT s.study_uid, s.review_status FROM studies s
         WHERE s.review_status IS DISTINCT FROM COALESCE((SELECT CASE r.decision WHEN 'reopened' THEN 'in_review' ELSE r.decision END
                                                FROM reviews r WHERE r.study_uid = s.study_uid ORDER BY r.id DESC LIMIT 1), 'new')
         LIMIT 1`,
      )
      .get() as { study_uid: string; review_status: string } | undefined;
    return row ? { studyUid: row.study_uid, reviewStatus: row.review_status } : undefined;
  }
}

/** Every link, every hash and time order, from the first row; `head` is the last good hash. */
function verifyChain(rows: readonly AuditRow[]): AuditVerdict & { head: string } {
  let prev = GENESIS;
  let lastAt = '';
  let expectedId = rows[0]?.id ?? 1;
  const fail = (id: number, problem: string): AuditVerdict => ({ ok: false, rows: rows.length, head: prev, firstBreak: { id, problem }, reviews: 0 });
  for (const r of rows) {
    if (r.id !== expectedId) return fail(r.id, `row ${expectedId} is missing (deleted)`);
    if (r.prevHash !== prev) return fail(r.id, 'its link does not match the row before it (a row was removed, inserted or changed before it)');
    if (auditHash(prev, r) !== r.hash) return fail(r.id, 'its content does not match its hash (changed after it was written)');
    if (r.at < lastAt) return fail(r.id, `dated ${r.at}, before the row before it (${lastAt}): back-dated`);
    prev = r.hash!;
    lastAt = r.at;
    expectedId = r.id + 1;
  }
  return { ok: true, rows: rows.length, head: prev, reviews: 0 };
}

/** The first review whose audit entry is missing or says something else (id 0: no entry). */
function firstUnmatchedReview(rows: readonly AuditRow[], reviews: readonly WrittenReview[]): { reviewId: number; entryId: number } | undefined {
  const entries = new Map<number, AuditRow>();
  for (const r of rows) {
    if (!r.action.startsWith('review.')) continue;
    const reviewId = (JSON.parse(r.detail) as { reviewId?: number }).reviewId;
    if (typeof reviewId === 'number') entries.set(reviewId, r);
  }
  for (const v of reviews) {
    const entry = entries.get(v.id);
    const detail = entry ? (JSON.parse(entry.detail) as { subtypes?: unknown; comment?: unknown }) : undefined;
    if (
      !entry ||
      entry.actor !== v.reviewer ||
      entry.action !== `review.${v.decision}` ||
      entry.subject !== v.studyUid ||
      JSON.stringify(detail?.subtypes ?? []) !== v.subtypes ||
      detail?.comment !== v.comment
    ) {
      return { reviewId: v.id, entryId: entry?.id ?? 0 };
    }
  }
  return undefined;
}
