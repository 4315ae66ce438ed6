/**
 * Review: start, confirm, dismiss, re-open; the subtypes seen and a comment; stored under the
 * signed-in reviewer with the time (and in the audit log) by the main process.
 *
 * Keyboard-first: c confirms, d dismisses, o re-opens, e/i/v/a/s toggle EDH/IPH/IVH/SAH/SDH.
 * After a confirm or dismiss the screen moves to the next unreviewed study by rank (onDecided).
 */
import { useEffect, useRef, useState, type Dispatch, type SetStateAction } from 'react';
import { isTyping } from './keys.js';
import { getClient } from './api.js';
import type { ReviewDecision, ReviewEntry, Subtype, WorklistItem } from '../shared/api.js';
import { SUBTYPES } from '../shared/labels.js';
import { LABEL_SHORT, localTime, STATUS_TEXT } from './format.js';
import { useSession } from './SignIn.js';

/** Review keys; digits and j/k/r belong to the viewer's windows and slices. */
export const SUBTYPE_KEYS: Readonly<Record<string, Subtype>> = {
  e: 'epidural',
  i: 'intraparenchymal',
  v: 'intraventricular',
  a: 'subarachnoid',
  s: 'subdural',
};

export function ReviewPanel(props: { study: WorklistItem; reviews: ReviewEntry[]; onSaved(): void; onDecided?(decision: ReviewDecision): void }) {
  const reviewer = useSession().session?.reviewer ?? '';
  const status = props.study.reviewStatus;
  const closed = status === 'confirmed' || status === 'dismissed';
  const review = useReview(props);
  useReviewKeys(review, closed, reviewer);
  const { busy, submit } = review;
  const disabled = busy || !reviewer.trim();

  return (
    <div className="panel review" data-testid="review">
      <h3>
        Review <span className={`pill st-${status}`} data-testid="review-status">{STATUS_TEXT[status]}</span>
      </h3>
      <div className="field" data-testid="reviewer">
        Reviewer: {reviewer ? <b>{reviewer}</b> : <span className="muted">nobody signed in</span>}
      </div>
      <SubtypeChecks subtypes={review.subtypes} setSubtypes={review.setSubtypes} disabled={closed} />
      <label className="field">
        Comment
        <textarea value={review.comment} onChange={(e) => review.setComment(e.target.value)} rows={2} data-testid="comment" />
      </label>
      {review.error && <div className="error" role="alert">{review.error}</div>}
      {!reviewer.trim() && <div className="muted small">Sign in (top right) to record a decision.</div>}
      <div className="actions">
        {!closed && status === 'new' && (
          <button disabled={disabled} onClick={() => void submit('in_review')}>
            Start review
          </button>
        )}
        {!closed && (
          <>
            <button className="confirm" disabled={disabled} onClick={() => void submit('confirmed')} data-testid="confirm">
              Confirm bleed <kbd>c</kbd>
            </button>
            <button className="dismiss" disabled={disabled} onClick={() => void submit('dismissed')} data-testid="dismiss">
              Dismiss <kbd>d</kbd>
            </button>
          </>
        )}
        {closed && (
          <button disabled={disabled} onClick={() => void submit('reopened')} data-testid="reopen">
            Re-open <kbd>o</kbd>
          </button>
        )}
      </div>
      {props.reviews.length > 0 && <ReviewHistory reviews={props.reviews} />}
    </div>
  );
}

/**
 * The decision being made: the subtypes seen (from the last review until changed), the comment, and
 * the submit that stores a decision with them.
 */
function useReview(props: { study: WorklistItem; reviews: ReviewEntry[]; onSaved(): void; onDecided?(decision: ReviewDecision): void }) {
  const client = getClient();
  const last = props.reviews.at(-1);
  const [subtypes, setSubtypes] = useState<Subtype[]>(last?.subtypes ?? []);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => setSubtypes(last?.subtypes ?? []), [last?.id, last?.subtypes]);

  const submit = async (decision: ReviewDecision) => {
    setBusy(true);
    setError(null);
    try {
      await client.api.review({
        studyUid: props.study.studyUid,
        decision,
        subtypes: decision === 'dismissed' ? [] : subtypes,
        comment,
      });
      setComment('');
      props.onSaved();
      if (decision === 'confirmed' || decision === 'dismissed') props.onDecided?.(decision);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return { subtypes, setSubtypes, comment, setComment, error, busy, submit };
}

/** The review keys (module comment), for whoever is signed in, while no decision is being stored. */
function useReviewKeys(review: ReturnType<typeof useReview>, closed: boolean, reviewer: string): void {
  const { submit, busy, setSubtypes } = review;
  // The latest submit and state for the key handler, without re-binding it on every render.
  const keys = useRef({ submit, closed, busy, reviewer });
  keys.current = { submit, closed, busy, reviewer };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey || e.shiftKey) return;
      const k = keys.current;
      if (k.busy || !k.reviewer.trim()) return;
      const subtype = SUBTYPE_KEYS[e.key];
      if (subtype && !k.closed) setSubtypes((cur) => (cur.includes(subtype) ? cur.filter((x) => x !== subtype) : [...cur, subtype]));
      else if (e.key === 'c' && !k.closed) void k.submit('confirmed');
      else if (e.key === 'd' && !k.closed) void k.submit('dismissed');
      else if (e.key === 'o' && k.closed) void k.submit('reopened');
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [setSubtypes]);
}

/** One checkbox per subtype, with its key. */
function SubtypeChecks({ subtypes, setSubtypes, disabled }: { subtypes: Subtype[]; setSubtypes: Dispatch<SetStateAction<Subtype[]>>; disabled: boolean }) {
  return (
    <fieldset className="subtypes" disabled={disabled}>
      <legend>Subtypes seen</legend>
      {SUBTYPES.map((s) => (
        <label key={s} className="check" title={s}>
          <input
            type="checkbox"
            checked={subtypes.includes(s)}
            onChange={(e) => setSubtypes((cur) => (e.target.checked ? [...cur, s] : cur.filter((x) => x !== s)))}
            data-testid={`subtype-${s}`}
          />
          {LABEL_SHORT[s]} <span className="muted">{s}</span>{' '}
          <kbd className="muted">{Object.keys(SUBTYPE_KEYS).find((k) => SUBTYPE_KEYS[k] === s)}</kbd>
        </label>
      ))}
    </fieldset>
  );
}

/** The study's reviews, newest first. */
function ReviewHistory({ reviews }: { reviews: ReviewEntry[] }) {
  return (
    <ol className="history" data-testid="review-history">
      {[...reviews].reverse().map((r) => (
        <li key={r.id}>
          <span className="strong">{r.decision.replace('_', ' ')}</span> by {r.reviewer}, {localTime(r.createdAt)}
          {r.subtypes.length > 0 && <> · {r.subtypes.map((s) => LABEL_SHORT[s]).join(', ')}</>}
          {r.comment && <div className="comment">“{r.comment}”</div>}
        </li>
      ))}
    </ol>
  );
}
