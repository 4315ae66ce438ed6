/**
 * Reviews: the radiologist's decisions on a study. Owns the SQL of table `reviews` and
 * of `studies.review_status`; every decision is also written to the append-only audit log in the
 * same transaction, so the two can never disagree.
 *
 * Decision → study status: in_review → in_review, confirmed → confirmed, dismissed → dismissed,
 * reopened → in_review (a re-opened study is back in someone's hands, and unreviewed).
 */
import type { SqlHandle } from './handle.js';
import { nowIso } from './handle.js';
import type { AuditRepository } from './audit.js';
import { decideRowLock, jsonListValues } from './dialect.js';
import type { ReviewDecision, ReviewEntry, Subtype } from '../../shared/api.js';

export type ReviewStatus = 'new' | 'in_review' | 'confirmed' | 'dismissed';

const STATUS_AFTER: Record<ReviewDecision, ReviewStatus> = {
  in_review: 'in_review',
  confirmed: 'confirmed',
  dismissed: 'dismissed',
  reopened: 'in_review',
};

export interface NewReview {
  studyUid: string;
  reviewer: string;
  decision: ReviewDecision;
  subtypes: Subtype[];
  comment: string;
  /**
   * The id of the study's latest decision the reader saw (null: none), when the decision was made
   * on what they saw: recorded only if no other decision came since. Absent: recorded regardless.
   */
  after?: number | null;
}

function toReviewEntry(r: Record<string, unknown>): ReviewEntry {
  let subtypes: Subtype[] = [];
  try {
    subtypes = JSON.parse(String(r.subtypes)) as Subtype[];
  } catch {
    subtypes = [];
  }
  return {
    id: r.id as number,
    studyUid: r.study_uid as string,
    reviewer: r.reviewer as string,
    decision: r.decision as ReviewDecision,
    subtypes,
    comment: r.comment as string,
    createdAt: r.created_at as string,
  };
}

/** Something asked for by id does not exist (the server answers 404). */
export class NotFound extends Error {}

export class StudyNotFound extends NotFound {
  constructor(studyUid: string) {
    super(`no study ${studyUid}`);
    this.name = 'StudyNotFound';
  }
}

/**
 * Another decision on the study was recorded since the one the reader saw (on this workstation or
 * another): nothing is written, so neither decision silently replaces the other.
 */
export class ReviewConflict extends Error {
  constructor(
    readonly studyUid: string,
    readonly latest: ReviewEntry | null,
  ) {
    super(
      latest
        ? `study ${studyUid} was decided meanwhile: ${latest.decision} by ${latest.reviewer} at ${latest.createdAt}`
        : `study ${studyUid} has no decision yet, not the one the reader saw`,
    );
    this.name = 'ReviewConflict';
  }
}

export class ReviewRepository {
  constructor(
    private readonly db: SqlHandle,
    private readonly audit: AuditRepository,
  ) {}

  /**
   * Records a decision, updates the study's status and appends the audit entry, atomically; with
   * `after`, only if the study's latest decision is still the one the reader saw (ReviewConflict).
   */
  record(r: NewReview): { reviewStatus: ReviewStatus; review: ReviewEntry } {
    return this.db.transaction(() => {
      const study = this.db
        .prepare(`SELECT review_status FROM studies WHERE study_uid = @studyUid ${decideRowLock(this.db)}`)
        .get({ studyUid: r.studyUid }) as { review_status: ReviewStatus } | undefined;
      if (!study) throw new StudyNotFound(r.studyUid);
      if (r.after !== undefined) {
        const latest = this.latestOf(r.studyUid);
        if ((latest?.id ?? null) !== r.after) throw new ReviewConflict(r.studyUid, latest ?? null);
      }
      const at = nowIso();
      const subtypes = [...new Set(r.subtypes)];
      const { id } = this.db
        .prepare(
          `INSERT INTO reviews (study_uid, reviewer, decision, subtypes, comment, created_at)
           VALUES (@studyUid, @reviewer, @decision, @subtypes, @comment, @at) RETURNING id`,
        )
        .get({ studyUid: r.studyUid, reviewer: r.reviewer, decision: r.decision, subtypes: JSON.stringify(subtypes), comment: r.comment, at }) as {
        id: number;
      };
      // studies.review_status follows from the new row (trigger reviews_set_status, migration 0002).
      const status = STATUS_AFTER[r.decision];
      this.audit.append(r.reviewer, `review.${r.decision}`, r.studyUid, {
        reviewId: id,
        from: study.review_status,
        to: status,
        subtypes,
        comment: r.comment,
        // The decision the reader had seen (null: none): after a conflict, the other decision this
        // one was knowingly recorded over.
        ...(r.after !== undefined ? { after: r.after } : {}),
      });
      return {
        reviewStatus: status,
        review: { id, studyUid: r.studyUid, reviewer: r.reviewer, decision: r.decision, subtypes, comment: r.comment, createdAt: at },
      };
    })();
  }

  /** The study's latest decision (by id: the order they were recorded in). */
  private latestOf(studyUid: string): ReviewEntry | undefined {
    const row = this.db.prepare('SELECT * FROM reviews WHERE study_uid = @studyUid ORDER BY id DESC LIMIT 1').get({ studyUid }) as
      | Record<string, unknown>
      | undefined;
    return row ? toReviewEntry(row) : undefined;
  }

  /** A study's decisions, oldest first. */
  ofStudy(studyUid: string): ReviewEntry[] {
    return (
      this.db.prepare('SELECT * FROM reviews WHERE study_uid = @studyUid ORDER BY created_at, id').all({ studyUid }) as Record<string, unknown>[]
    ).map(toReviewEntry);
  }

  /** The latest decision per study, for the worklist and the CSV export. */
  latest(studyUids: readonly string[]): Map<string, ReviewEntry> {
    const out = new Map<string, ReviewEntry>();
    if (!studyUids.length) return out;
    const rows = this.db
      .prepare(
        `SELECT r.* FROM reviews r
         WHERE r.study_uid IN ${jsonListValues(this.db, 'uids', 'text')}
           AND r.id = (SELECT r2.id FROM reviews r2 WHERE r2.study_uid = r.study_uid ORDER BY r2.created_at DESC, r2.id DESC LIMIT 1)`,
      )
      .all({ uids: JSON.stringify(studyUids) }) as Record<string, unknown>[];
    for (const r of rows) {
      const entry = toReviewEntry(r);
      out.set(entry.studyUid, entry);
    }
    return out;
  }
}
