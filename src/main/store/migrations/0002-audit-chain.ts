/**
 * 0002: a hash-chained audit log, append-only reviews whose current decision the database derives,
 * and the named local reviewers a workstation signs in as.
 *
 * - audit_log gains prev_hash and hash (store/audit.ts); rows written before are chained in id
 *   order by `fill`. New triggers refuse an INSERT that does not link to the head or is dated
 *   before it, besides UPDATE and DELETE.
 * - reviews refuse UPDATE and DELETE: a change of mind is a new row. studies.review_status is set
 *   by a trigger from each new review, and refuses any other value than the one its latest review
 *   says (COALESCE 'new'), so the worklist cannot show a decision nobody recorded.
 * - reviewers: who may sign in to record decisions; names are unique and never deleted.
 */
import type { Db } from '../handle.js';
import { chainExistingRows } from '../audit.js';

export const up = `
DROP TRIGGER audit_log_no_update;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

CREATE INDEX reviews_by_study_id ON reviews(study_uid, id);

CREATE TABLE reviewers (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  created_by TEXT
);
CREATE TRIGGER reviewers_no_delete BEFORE DELETE ON reviewers
  BEGIN SELECT RAISE(ABORT, 'reviewers are kept: the audit log names them'); END;
CREATE TRIGGER reviewers_no_rename BEFORE UPDATE OF name ON reviewers
  BEGIN SELECT RAISE(ABORT, 'a reviewer is never renamed: the audit log names them'); END;
`;

export function fill(db: Db): void {
  chainExistingRows(db);
}

export const finish = `
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_linked BEFORE INSERT ON audit_log
  WHEN NEW.prev_hash IS NOT COALESCE((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), '${'0'.repeat(64)}')
    OR NEW.hash IS NULL
    OR NEW.at < COALESCE((SELECT at FROM audit_log ORDER BY id DESC LIMIT 1), '')
  BEGIN SELECT RAISE(ABORT, 'audit_log: a row must link to the head and not be dated before it'); END;

CREATE TRIGGER reviews_no_update BEFORE UPDATE ON reviews
  BEGIN SELECT RAISE(ABORT, 'reviews are append-only: record a new decision'); END;
CREATE TRIGGER reviews_no_delete BEFORE DELETE ON reviews
  BEGIN SELECT RAISE(ABORT, 'reviews are append-only'); END;
CREATE TRIGGER reviews_set_status AFTER INSERT ON reviews
  BEGIN
    UPDATE studies SET review_status = CASE NEW.decision WHEN 'reopened' THEN 'in_review' ELSE NEW.decision END
    WHERE study_uid = NEW.study_uid;
  END;
CREATE TRIGGER studies_review_status_derived BEFORE UPDATE OF review_status ON studies
  WHEN NEW.review_status IS NOT COALESCE(
    (SELECT CASE decision WHEN 'reopened' THEN 'in_review' ELSE decision END
     FROM reviews WHERE study_uid = NEW.study_uid ORDER BY id DESC LIMIT 1), 'new')
  BEGIN SELECT RAISE(ABORT, 'review_status is derived from the reviews: record a review instead'); END;
`;
