/**
 * Review: start, confirm, dismiss, re-open; the subtypes seen and a comment; stored under the
 * signed-in reviewer with the time (and in the audit log) by the main process.
 *
 * Keyboard-first: c confirms, d dismisses, o re-opens, e/i/v/a/s toggle EDH/IPH/IVH/SAH/SDH.
 * After a confirm or dismiss the screen moves to the next unreviewed study by rank (onDecided).
 *
 * Several workstations share one worklist, so each decision is sent with the latest decision this
 * panel showed (`after`). When another was recorded since (another reading room, another tab), the
 * store refuses ours and nothing is written; the panel then shows the other decision (who, what,
 * when, their note) beside ours, and the reader chooses: keep theirs (the study is shown again as it
 * now is), or record ours anyway, over the decision now shown (so a third one made meanwhile is
 * refused in turn).
 */
import { useEffect, useMemo, useRef, useState, type Dispatch, type SetStateAction } from 'react';
import { isTyping } from './keys.js';
import { getClient } from './api.js';
import { ApiError, type ReviewDecision, type ReviewEntry, type Subtype, type WorklistItem } from '../shared/api.js';
import { SUBTYPES } from '../shared/labels.js';
import { clockTime, LABEL_SHORT, localTime, STATUS_TEXT } from './format.js';
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
  const { busy, submit, conflict } = review;
  // While a conflict waits for the reader's choice, no other decision is sent on the view it refused.
  const disabled = busy || !reviewer.trim() || conflict !== null;

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
      {conflict && <ConflictChoice conflict={conflict} busy={busy} onKeepTheirs={review.keepTheirs} onRecordMine={() => void review.recordMine()} />}
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

/** A decision the store refused because another came since: ours as it was made, and theirs. */
export interface PendingConflict {
  decision: ReviewDecision;
  subtypes: Subtype[];
  comment: string;
  /** The study's latest decision now (null: none), which ours would be recorded over. */
  latest: ReviewEntry | null;
}

/**
 * The decision being made: the subtypes seen (from the last review until changed), the comment, and
 * the submit that stores a decision with them on the latest decision shown; and a refused one's
 * conflict with the reader's two ways out.
 */
function useReview(props: { study: WorklistItem; reviews: ReviewEntry[]; onSaved(): void; onDecided?(decision: ReviewDecision): void }) {
  const client = getClient();
  const last = props.reviews.at(-1);
  // The store's latest is by id (the order decisions were recorded in), whatever the clocks said.
  const latestShown = useMemo(() => props.reviews.reduce<ReviewEntry | null>((a, r) => (!a || r.id > a.id ? r : a), null), [props.reviews]);
  const [subtypes, setSubtypes] = useState<Subtype[]>(last?.subtypes ?? []);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [conflict, setConflict] = useState<PendingConflict | null>(null);

  useEffect(() => setSubtypes(last?.subtypes ?? []), [last?.id, last?.subtypes]);

  const record = async (made: Omit<PendingConflict, 'latest'>, after: number | null) => {
    setBusy(true);
    setError(null);
    try {
      await client.api.review({ studyUid: props.study.studyUid, ...made, after });
      setConflict(null);
      setComment('');
      props.onSaved();
      if (made.decision === 'confirmed' || made.decision === 'dismissed') props.onDecided?.(made.decision);
    } catch (e) {
      if (e instanceof ApiError && e.conflict) setConflict({ ...made, latest: e.conflict.latest });
      else setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const submit = (decision: ReviewDecision) =>
    record({ decision, subtypes: decision === 'dismissed' ? [] : subtypes, comment }, latestShown?.id ?? null);

  /** Theirs stands: nothing is written, and the study is shown as it now is. */
  const keepTheirs = () => {
    setConflict(null);
    setComment('');
    props.onSaved();
  };

  /** Ours, as made, over the decision the conflict showed: refused again if yet another came since. */
  const recordMine = async () => {
    if (conflict) await record({ decision: conflict.decision, subtypes: conflict.subtypes, comment: conflict.comment }, conflict.latest?.id ?? null);
  };

  return { subtypes, setSubtypes, comment, setComment, error, busy, submit, conflict, keepTheirs, recordMine };
}

const DECISION_TEXT: Record<ReviewDecision, string> = { in_review: 'in review', confirmed: 'confirmed', dismissed: 'dismissed', reopened: 're-opened' };

/** A decision in one line: what, with which subtypes. */
function DecisionLine({ decision, subtypes }: { decision: ReviewDecision; subtypes: readonly Subtype[] }) {
  return (
    <>
      <span className="strong">{DECISION_TEXT[decision]}</span>
      {subtypes.length > 0 && <> · {subtypes.map((s) => LABEL_SHORT[s]).join(', ')}</>}
    </>
  );
}

/** The other decision beside ours, and the reader's choice between them. */
function ConflictChoice(props: { conflict: PendingConflict; busy: boolean; onKeepTheirs(): void; onRecordMine(): void }) {
  const { conflict, busy } = props;
  const theirs = conflict.latest;
  return (
    <div className="conflict" role="alert" data-testid="review-conflict">
      <div className="conflict-title">Not recorded: another decision came first</div>
      {theirs ? (
        <div data-testid="conflict-theirs">
          <DecisionLine decision={theirs.decision} subtypes={theirs.subtypes} /> by <span className="strong">{theirs.reviewer}</span> at{' '}
          {clockTime(theirs.createdAt)}
          {theirs.comment && <div className="comment">“{theirs.comment}”</div>}
        </div>
      ) : (
        <div data-testid="conflict-theirs">The decision you saw is no longer the study&rsquo;s latest; it has none now.</div>
      )}
      <div className="muted" data-testid="conflict-mine">
        Yours: <DecisionLine decision={conflict.decision} subtypes={conflict.subtypes} />
        {conflict.comment && <> · “{conflict.comment}”</>}
      </div>
      <div className="actions">
        <button disabled={busy} onClick={props.onKeepTheirs} data-testid="conflict-keep-theirs" title="record nothing; show the study as it now is">
          Keep theirs
        </button>
        <button disabled={busy} onClick={props.onRecordMine} data-testid="conflict-record-mine" title="record yours after theirs">
          Record mine anyway
        </button>
      </div>
    </div>
  );
}

/** The review keys (module comment), for whoever is signed in, while no decision is being stored. */
function useReviewKeys(review: ReturnType<typeof useReview>, closed: boolean, reviewer: string): void {
  const { submit, busy, setSubtypes, conflict } = review;
  // The latest submit and state for the key handler, without re-binding it on every render.
  const keys = useRef({ submit, closed, busy, reviewer, conflict });
  keys.current = { submit, closed, busy, reviewer, conflict };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey || e.shiftKey) return;
      const k = keys.current;
      // A conflict is settled by its two buttons, not by a key pressed on the view it refused.
      if (k.busy || !k.reviewer.trim() || k.conflict) return;
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
