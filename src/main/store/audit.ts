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
import type { Db } from './db.js';

/** The link of the first row. */
export const GENESIS = '0'.repeat(64);

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  detail: string;
  prev_hash: string | null;
  hash: string | null;
}

/** The hash of one row: its link and every field, unambiguously separated (JSON array). */
export function auditHash(prevHash: string, r: Pick<AuditRow, 'id' | 'at' | 'actor' | 'action' | 'subject' | 'detail'>): string {
  return createHash('sha256').update(JSON.stringify([prevHash, r.id, r.at, r.actor, r.action, r.subject, r.detail])).digest('hex');
}

export function auditHead(db: Db): { id: number; at: string; hash: string } | undefined {
  return db.prepare('SELECT id, at, hash FROM audit_log ORDER BY id DESC LIMIT 1').get() as { id: number; at: string; hash: string } | undefined;
}

/** What writes a row and its audit entry: the store (named by shape, so its parts need not import it). */
export interface AuditingStore {
  readonly db: Db;
  appendAudit(actor: string, action: string, subject: string | null, detail?: object): void;
}

/** Appends one row at the head of the chain (callers run it inside their own transaction). */
export function appendAuditRow(db: Db, actor: string, action: string, subject: string | null, detail: object): void {
  const head = auditHead(db);
  const prev = head?.hash ?? GENESIS;
  const id = (head?.id ?? 0) + 1;
  // Never before the head, so the log reads in time order even if the clock stepped back.
  const now = new Date().toISOString();
  const at = head && head.at > now ? head.at : now;
  const text = JSON.stringify(detail);
  const hash = auditHash(prev, { id, at, actor, action, subject, detail: text });
  db.prepare('INSERT INTO audit_log (id, at, actor, action, subject, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    id,
    at,
    actor,
    action,
    subject,
    text,
    prev,
    hash,
  );
}

/** Fills `prev_hash`/`hash` of rows written before the chain existed (migration 0002), in id order. */
export function chainExistingRows(db: Db): void {
  let prev = GENESIS;
  const rows = db.prepare('SELECT * FROM audit_log ORDER BY id').all() as AuditRow[];
  const set = db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?');
  for (const r of rows) {
    const hash = auditHash(prev, r);
    set.run(prev, hash, r.id);
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

/**
 * Walks the log from the first row: every link, every hash, time order; then every review row
 * against the audit entry written with it, and every study's review status against its reviews.
 */
export function verifyAudit(db: Db): AuditVerdict {
  const rows = db.prepare('SELECT * FROM audit_log ORDER BY id').all() as AuditRow[];
  let prev = GENESIS;
  let lastAt = '';
  let expectedId = rows[0]?.id ?? 1;
  const fail = (id: number, problem: string): AuditVerdict => ({ ok: false, rows: rows.length, head: prev, firstBreak: { id, problem }, reviews: 0 });
  for (const r of rows) {
    if (r.id !== expectedId) return fail(r.id, `row ${expectedId} is missing (deleted)`);
    if (r.prev_hash !== prev) return fail(r.id, 'its link does not match the row before it (a row was removed, inserted or changed before it)');
    if (auditHash(prev, r) !== r.hash) return fail(r.id, 'its content does not match its hash (changed after it was written)');
    if (r.at < lastAt) return fail(r.id, `dated ${r.at}, before the row before it (${lastAt}): back-dated`);
    prev = r.hash!;
    lastAt = r.at;
    expectedId = r.id + 1;
  }
  const reviewEntries = new Map<number, AuditRow>();
  for (const r of rows) {
    if (!r.action.startsWith('review.')) continue;
    const reviewId = (JSON.parse(r.detail) as { reviewId?: number }).reviewId;
    if (typeof reviewId === 'number') reviewEntries.set(reviewId, r);
  }
  const reviews = db.prepare('SELECT * FROM reviews ORDER BY id').all() as {
    id: number;
    study_uid: string;
    reviewer: string;
    decision: string;
    subtypes: string;
    comment: string;
  }[];
  for (const v of reviews) {
    const entry = reviewEntries.get(v.id);
    const detail = entry ? (JSON.parse(entry.detail) as { subtypes?: unknown; comment?: unknown }) : undefined;
    if (
      !entry ||
      entry.actor !== v.reviewer ||
      entry.action !== `review.${v.decision}` ||
      entry.subject !== v.study_uid ||
      JSON.stringify(detail?.subtypes ?? []) !== v.subtypes ||
      detail?.comment !== v.comment
    ) {
      return { ok: false, rows: rows.length, head: prev, firstBreak: { id: entry?.id ?? 0, problem: `review ${v.id} does not match the audit entry written with it` }, reviews: reviews.length };
    }
  }
  const stale = db
    .prepare(
      `SELECT s.study_uid, s.review_status FROM studies s
       WHERE s.review_status IS NOT COALESCE((SELECT CASE r.decision WHEN 'reopened' THEN 'in_review' ELSE r.decision END
                                              FROM reviews r WHERE r.study_uid = s.study_uid ORDER BY r.id DESC LIMIT 1), 'new')
       LIMIT 1`,
    )
    .get() as { study_uid: string; review_status: string } | undefined;
  if (stale) {
    return { ok: false, rows: rows.length, head: prev, firstBreak: { id: 0, problem: `study ${stale.study_uid} shows "${stale.review_status}", which its reviews do not say` }, reviews: reviews.length };
  }
  return { ok: true, rows: rows.length, head: prev, reviews: reviews.length };
}
