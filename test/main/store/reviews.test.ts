/**
 * The reviews and reviewers repositories on a real database: a decision moves the study's status
 * and is written to the audit log with it; a study's history and the latest decision per study;
 * a decision made on a stale view is refused, not recorded over another; reviewers are added once,
 * listed by name, and each addition audited.
 */
import { describe, expect, it } from 'vitest';
import { NotFound, ReviewConflict } from '../../../src/main/store/index.js';
import { eachBackend, recordSeries, type FreshStore } from '../../fixtures/store.js';

const status = (sql: FreshStore['sql'], studyUid: string) =>
  sql((db) => (db.prepare('SELECT review_status FROM studies WHERE study_uid = @studyUid').get({ studyUid }) as { review_status: string }).review_status);

eachBackend('reviews and reviewers', 'triage-reviews-', (fresh) => {
  describe('reviews', () => {
    it("records decisions, moves the study's status with each, and audits every one in the same breath", () => {
      const { store, sql } = fresh();
      recordSeries(store, 1);
      const first = store.reviews.record({ studyUid: '1.2.3.1', reviewer: 'Dr A', decision: 'in_review', subtypes: [], comment: '' });
      expect(first.reviewStatus).toBe('in_review');
      const confirmed = store.reviews.record({ studyUid: '1.2.3.1', reviewer: 'Dr A', decision: 'confirmed', subtypes: ['subdural', 'subdural'], comment: 'left SDH' });
      expect(confirmed.review).toEqual({
        id: confirmed.review.id,
        studyUid: '1.2.3.1',
        reviewer: 'Dr A',
        decision: 'confirmed',
        subtypes: ['subdural'],
        comment: 'left SDH',
        createdAt: expect.any(String),
      });
      expect(status(sql, '1.2.3.1')).toBe('confirmed');
      const reopened = store.reviews.record({ studyUid: '1.2.3.1', reviewer: 'Dr B', decision: 'reopened', subtypes: [], comment: 'second look' });
      expect(reopened.reviewStatus).toBe('in_review');
      expect(status(sql, '1.2.3.1')).toBe('in_review');
      expect(store.reviews.ofStudy('1.2.3.1').map((r) => `${r.decision}:${r.reviewer}`)).toEqual(['in_review:Dr A', 'confirmed:Dr A', 'reopened:Dr B']);
      expect(store.audit.verify()).toMatchObject({ ok: true, rows: 3, reviews: 3 });
    });

    it('refuses a decision on a study it does not hold, and writes nothing', () => {
      const { store } = fresh();
      expect(() => store.reviews.record({ studyUid: '9.9', reviewer: 'Dr A', decision: 'confirmed', subtypes: [], comment: '' })).toThrow(NotFound);
      expect(store.audit.head()).toBeUndefined();
    });

    it('records a decision made on what the reader saw only if no other came since, and writes nothing when one did', () => {
      const { store, sql } = fresh();
      recordSeries(store, 1);
      const first = store.reviews.record({ studyUid: '1.2.3.1', reviewer: 'Dr A', decision: 'in_review', subtypes: [], comment: '', after: null });
      // Dr B and Dr C both saw Dr A's decision; Dr B records first.
      store.reviews.record({ studyUid: '1.2.3.1', reviewer: 'Dr B', decision: 'confirmed', subtypes: ['subdural'], comment: '', after: first.review.id });
      const head = store.audit.head();
      let conflict: unknown;
      try {
        store.reviews.record({ studyUid: '1.2.3.1', reviewer: 'Dr C', decision: 'dismissed', subtypes: [], comment: '', after: first.review.id });
      } catch (err) {
        conflict = err;
      }
      expect(conflict).toBeInstanceOf(ReviewConflict);
      expect((conflict as ReviewConflict).latest).toMatchObject({ reviewer: 'Dr B', decision: 'confirmed' });
      expect(String(conflict)).toMatch(/decided meanwhile: confirmed by Dr B/);
      expect(store.reviews.ofStudy('1.2.3.1').map((v) => v.reviewer)).toEqual(['Dr A', 'Dr B']);
      expect(store.audit.head()).toEqual(head);
      expect(() => store.reviews.record({ studyUid: '1.2.3.1', reviewer: 'Dr C', decision: 'dismissed', subtypes: [], comment: '', after: null })).toThrow(ReviewConflict);
      expect(store.worklist.query()[0]!.reviewStatus).toBe('confirmed');

      // Having been shown Dr B's decision, Dr C records theirs over it: audited as every decision
      // is, naming the decision it was recorded over.
      const latest = (conflict as ReviewConflict).latest!;
      const over = store.reviews.record({ studyUid: '1.2.3.1', reviewer: 'Dr C', decision: 'dismissed', subtypes: [], comment: 'no bleed', after: latest.id });
      expect(over.reviewStatus).toBe('dismissed');
      const entry = sql((db) => db.prepare("SELECT actor, action, detail FROM audit_log WHERE action LIKE 'review.%' ORDER BY id DESC LIMIT 1").get()) as {
        actor: string;
        action: string;
        detail: string;
      };
      expect(entry).toMatchObject({ actor: 'Dr C', action: 'review.dismissed' });
      expect(JSON.parse(entry.detail)).toMatchObject({ reviewId: over.review.id, from: 'confirmed', to: 'dismissed', comment: 'no bleed', after: latest.id });
      expect(store.audit.verify()).toMatchObject({ ok: true, reviews: 3 });
    });

    it('gives the latest decision of each study asked for', () => {
      const { store } = fresh();
      recordSeries(store, 1);
      recordSeries(store, 1, { studyUid: '1.2.4.1', seriesUid: '1.2.4.2' });
      store.reviews.record({ studyUid: '1.2.3.1', reviewer: 'Dr A', decision: 'in_review', subtypes: [], comment: '' });
      store.reviews.record({ studyUid: '1.2.3.1', reviewer: 'Dr A', decision: 'dismissed', subtypes: [], comment: 'no bleed' });
      const latest = store.reviews.latest(['1.2.3.1', '1.2.4.1']);
      expect([...latest.keys()]).toEqual(['1.2.3.1']);
      expect(latest.get('1.2.3.1')).toMatchObject({ decision: 'dismissed', comment: 'no bleed' });
      expect(store.reviews.latest([]).size).toBe(0);
    });
  });

  describe('reviewers', () => {
    it('adds a reviewer once, lists them by name whatever the case, and audits who added whom', () => {
      const { store, sql } = fresh();
      expect(store.reviewers.list()).toEqual([]);
      store.reviewers.add('dr Zed', null);
      store.reviewers.add('Dr Ada', 'dr Zed');
      store.reviewers.add('Dr Ada', 'dr Zed'); // already there: nothing
      expect(store.reviewers.list()).toEqual(['Dr Ada', 'dr Zed']);
      expect(store.reviewers.exists('Dr Ada')).toBe(true);
      expect(store.reviewers.exists('dr ada')).toBe(false);
      const audit = sql((db) => db.prepare("SELECT actor, subject FROM audit_log WHERE action = 'reviewer.added' ORDER BY id").all());
      expect(audit).toEqual([
        { actor: 'dr Zed', subject: 'dr Zed' },
        { actor: 'dr Zed', subject: 'Dr Ada' },
      ]);
    });
  });
});
