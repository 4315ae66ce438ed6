/**
 * The ranked worklist: most likely bleed first, live, filterable, keyboard-driven
 * (j/k or ↓/↑ move, Enter opens). A study without a score says "awaiting model", never a number.
 * When it is not live — the shared database cannot be reached, or the last read of the list failed —
 * the rows are dimmed and say what time they are as of, and a failed read says so.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type RefObject } from 'react';
import { isTyping } from './keys.js';
import { getClient, type TriageClient } from './api.js';
import { clockTime, contrastCaution, LABEL_SHORT, localTime, modelShort, pct, providerShort, STATUS_TEXT, subtypeTitle, topSubtypes, VOLUME_TITLE, volumeText, waiting } from './format.js';
import type { ApiRequest, ApiResponse, WorklistItem } from '../shared/api.js';

type Filter = { status: 'all' | 'unreviewed' | 'reviewed'; flaggedOnly: boolean; from: string; to: string; sort: 'score' | 'arrival' };

const FILTER_KEY = 'triage.worklistFilter';

/** The radiologist's worklist filter and order: what next/previous study follow in the viewer too. */
export function loadFilter(): Filter {
  const fallback: Filter = { status: 'all', flaggedOnly: false, from: '', to: '', sort: 'score' };
  try {
    return { ...fallback, ...(JSON.parse(sessionStorage.getItem(FILTER_KEY) ?? '{}') as Partial<Filter>) };
  } catch {
    return fallback;
  }
}

export function toRequest(f: Filter): ApiRequest<'worklist'> {
  return {
    status: f.status,
    flaggedOnly: f.flaggedOnly,
    from: f.from || null,
    to: f.to || null,
    sort: f.sort,
    tzOffsetMinutes: -new Date().getTimezoneOffset(),
  };
}

export function Worklist(props: {
  selected: string | null;
  onSelect(uid: string): void;
  onOpen(uid: string): void;
  /** The status says the shared database cannot be reached: the rows are as of their last read. */
  databaseUnreachable?: boolean;
  /** Told the time of each successful read of the list. */
  onLoaded?(at: number): void;
}) {
  const client = getClient();
  const [filter, setFilter] = useState<Filter>(loadFilter);
  const { data, error, setError, loadedAt, failure } = useLiveWorklist(client, filter, props.databaseUnreachable ?? false, props.onLoaded);
  const stale = Boolean(props.databaseUnreachable) || failure !== null;
  const now = useNow(30_000);
  const tableRef = useRef<HTMLTableSectionElement>(null);

  const rows = useMemo(() => data?.rows ?? [], [data]);
  const index = rows.findIndex((r) => r.studyUid === props.selected);

  useEffect(() => {
    if (rows.length && index < 0) props.onSelect(rows[0]!.studyUid);
  }, [rows, index, props]);

  useListKeys(rows, index, props);

  useEffect(() => {
    tableRef.current?.querySelector('tr.selected')?.scrollIntoView({ block: 'nearest' });
  }, [props.selected]);

  const exportCsv = async () => {
    try {
      const r = await client.api.exportCsv({ filter: toRequest(filter), reviewedOnly: true });
      const url = URL.createObjectURL(new Blob([r.csv], { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = r.filename;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const flaggedCount = rows.filter((r) => r.flagged && r.reviewStatus !== 'confirmed' && r.reviewStatus !== 'dismissed').length;
  const set = (patch: Partial<Filter>) => setFilter((f) => ({ ...f, ...patch }));
  const filtered = filter.status !== 'all' || filter.flaggedOnly || filter.from || filter.to;

  return (
    <section className={stale ? 'worklist stale' : 'worklist'} data-testid="worklist-page" data-stale={stale ? '1' : '0'}>
      <div className="toolbar">
        <FilterControls filter={filter} set={set} />
        <span className="spacer" />
        {stale && (
          <span className="stale-note" data-testid="worklist-stale">
            {loadedAt === null ? 'not read yet' : `as of ${clockTime(loadedAt)}`} — not live
          </span>
        )}
        {data && (
          <span className="muted small" data-testid="ranking-family" title={data.rankingReason}>
            ranked by {data.rankingModel}
          </span>
        )}
        {flaggedCount > 0 && (
          <span className="flag-summary" data-testid="flag-summary">
            {flaggedCount} flagged, unreviewed
          </span>
        )}
        <button onClick={() => void exportCsv()} title="the reviewed studies under this filter, as CSV">
          Export reviewed CSV
        </button>
      </div>
      {failure && (
        <div className="error" role="alert" data-testid="worklist-error">
          The worklist could not be refreshed at {clockTime(failure.at)}: {failure.message}.{' '}
          {loadedAt === null ? 'No list has been read yet.' : `The rows below are as of ${clockTime(loadedAt)}.`} Trying again.
        </div>
      )}
      {error && <div className="error" role="alert">{error}</div>}
      <div className="tablewrap">
        <WorklistTable bodyRef={tableRef} rows={rows} now={now} selected={props.selected} onSelect={props.onSelect} onOpen={props.onOpen} rankingModel={data?.rankingModel ?? ''} />
        {data && !rows.length && (
          <div className="empty">
            No studies{filtered ? ' match this filter' : ' yet: import a folder or send studies to this workstation'}.
          </div>
        )}
      </div>
      <div className="hint">j / k or ↓ / ↑ move · Enter opens · threshold: a study is flagged when any label reaches its threshold (Settings) · <sup>*</sup> a subtype above ICH: each label is a separate output (hover for why)</div>
    </section>
  );
}

/** The time now, again every `everyMs`: what "waiting" is measured to. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const i = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(i);
  }, [everyMs]);
  return now;
}

/** The studies, one row each; a click selects, a double click opens. */
function WorklistTable(props: {
  bodyRef: RefObject<HTMLTableSectionElement | null>;
  rows: WorklistItem[];
  now: number;
  selected: string | null;
  rankingModel: string;
  onSelect(uid: string): void;
  onOpen(uid: string): void;
}) {
  return (
    <table className="rows" data-testid="worklist">
      <thead>
        <tr>
          <th className="c-score">ICH score</th>
          <th>Subtypes</th>
          <th>Patient</th>
          <th>Study</th>
          <th>Arrived</th>
          <th>Waiting</th>
          <th>Status</th>
          <th>Model · provider</th>
        </tr>
      </thead>
      <tbody ref={props.bodyRef}>
        {props.rows.map((r) => (
          <Row key={r.studyUid} r={r} now={props.now} selected={r.studyUid === props.selected} onClick={() => props.onSelect(r.studyUid)} onOpen={() => props.onOpen(r.studyUid)} rankingModel={props.rankingModel} />
        ))}
      </tbody>
    </table>
  );
}

function byProvider(producers: WorklistItem['producedBy']): [string, string[]][] {
  const m = new Map<string, string[]>();
  for (const p of producers) m.set(p.provider, [...(m.get(p.provider) ?? []), p.modelId]);
  return [...m.entries()];
}

function ScoreCell({ r }: { r: WorklistItem }) {
  if (r.score) {
    return (
      <td className="c-score">
        <span className="score" data-testid="score">{pct(r.score.any)}</span>
        <span className="bar"><span style={{ width: pct(r.score.any) }} /></span>
        {r.readContrastAgent !== null && (
          <div className="muted small" data-testid="contrast" title={contrastCaution({ contrastAgent: r.readContrastAgent, skippedReason: null }) ?? ''}>
            contrast-enhanced series
          </div>
        )}
        {r.provisionalSlices !== null && (
          <div
            className="muted small"
            data-testid="provisional"
            title="Scored while the series is still arriving; final when it settles"
          >
            provisional · {r.provisionalSlices} of {r.readSliceCount} slices
          </div>
        )}
        {r.scoring && (
          <div
            className="muted small"
            data-testid="still-scoring"
            title="A network is still running on this study; the score shown is the ranking family's so far"
          >
            ranked by {r.scoredBy} · {modelShort(r.scoring.modelId)} running
          </div>
        )}
      </td>
    );
  }
  const text = r.scoring
    ? `scoring ${Math.round((100 * r.scoring.done) / Math.max(1, r.scoring.total))} % (${modelShort(r.scoring.modelId)})`
    : r.state === 'receiving'
      ? 'receiving slices'
      : r.state === 'failed'
        ? 'inference failed'
        : r.state === 'ready'
          ? 'queued for scoring'
          : 'awaiting model';
  return (
    <td className="c-score">
      <span className="noscore" title={r.stateReason ?? ''} data-testid="score">{text}</span>
    </td>
  );
}

function Row(props: { r: WorklistItem; now: number; selected: boolean; rankingModel: string; onClick(): void; onOpen(): void }) {
  const { r } = props;
  const cls = ['row', props.selected ? 'selected' : '', r.flagged ? 'flagged' : '', `st-${r.reviewStatus}`].join(' ');
  return (
    <tr className={cls} onClick={props.onClick} onDoubleClick={props.onOpen} data-study={r.studyUid} data-flagged={r.flagged ? '1' : '0'} aria-selected={props.selected}>
      <ScoreCell r={r} />
      <td className="c-badges">
        {r.flagged && <span className="flagtag">FLAG</span>}
        {r.score && topSubtypes(r.score).map((s) => (
          <span key={s.label} className={`badge l-${s.label}`} title={subtypeTitle(s.label, s.p, r.score!.any)} data-above-any={s.p > r.score!.any ? '1' : undefined}>
            {LABEL_SHORT[s.label]} {pct(s.p)}
            {s.p > r.score!.any ? <sup className="above">*</sup> : null}
          </span>
        ))}
        {r.volumeMl !== null && r.volumeMl >= 0.05 && (
          <div className="volume small" data-testid="volume" title={VOLUME_TITLE}>
            {volumeText(r.volumeMl)} <span className="muted">estimate</span>
          </div>
        )}
      </td>
      <td>
        <div className="strong">{r.patientName?.replace(/\^/g, ' ') || '(no name)'}</div>
        <div className="muted">{r.patientId ?? ''}</div>
      </td>
      <td>
        <div>{r.description ?? '(no description)'}</div>
        <div className="muted">
          {r.accession ? `Acc ${r.accession}` : 'no accession'} · {r.seriesCount} series, {r.sliceCount} slices
        </div>
      </td>
      <td className="nowrap">{localTime(r.firstArrivalAt)}</td>
      <td className="nowrap">{waiting(r.firstArrivalAt, props.now)}</td>
      <td>
        <span className={`pill st-${r.reviewStatus}`} data-testid="status">{STATUS_TEXT[r.reviewStatus]}</span>
        {r.lastReview && <div className="muted small">{r.lastReview.reviewer}</div>}
      </td>
      <td className="small">
        {r.producedBy.length ? (
          byProvider(r.producedBy).map(([provider, ids]) => (
            <div key={provider} title={ids.join(', ')}>
              {ids.map(modelShort).join(', ')} · <span className="strong">{providerShort(provider)}</span>
            </div>
          ))
        ) : r.score ? (
          <div>{r.scoredBy ?? props.rankingModel}</div>
        ) : (
          <div className="muted">—</div>
        )}
      </td>
    </tr>
  );
}

/** How often a worklist read that failed is tried again, with no change event to prompt it. */
const RETRY_MS = 10_000;

/**
 * The worklist under `filter`, fetched again on any change event (debounced), on reconnect, when the
 * database answers again, and every RETRY_MS after a read failed; with the time of the last
 * successful read and the last failure (null once a read succeeds again).
 */
function useLiveWorklist(client: TriageClient, filter: Filter, databaseUnreachable: boolean, onLoaded?: (at: number) => void) {
  const [data, setData] = useState<ApiResponse<'worklist'> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loadedAt, setLoadedAt] = useState<number | null>(null);
  const [failure, setFailure] = useState<{ at: number; message: string } | null>(null);
  const told = useRef(onLoaded);
  told.current = onLoaded;
  const load = useCallback(() => {
    client.api
      .worklist(toRequest(filter))
      .then((d) => {
        const at = Date.now();
        setData(d);
        setLoadedAt(at);
        setFailure(null);
        told.current?.(at);
      })
      .catch((e: Error) => setFailure({ at: Date.now(), message: e.message }));
  }, [client, filter]);

  useEffect(() => {
    sessionStorage.setItem(FILTER_KEY, JSON.stringify(filter));
    load();
  }, [filter, load]);

  useEffect(() => {
    if (!failure) return;
    const t = setTimeout(load, RETRY_MS);
    return () => clearTimeout(t);
  }, [failure, load]);

  // Back from unreachable: what others recorded meanwhile is read now, not at the next change.
  const wasUnreachable = useRef(databaseUnreachable);
  useEffect(() => {
    if (wasUnreachable.current && !databaseUnreachable) load();
    wasUnreachable.current = databaseUnreachable;
  }, [databaseUnreachable, load]);

  useEffect(() => {
    let t: ReturnType<typeof setTimeout> | undefined;
    const kick = () => {
      clearTimeout(t);
      t = setTimeout(load, 150);
    };
    const off1 = client.onEvent(kick);
    const off2 = client.onConnection((c) => c && kick());
    return () => {
      clearTimeout(t);
      off1();
      off2();
    };
  }, [client, load]);
  return { data, error, setError, loadedAt, failure };
}

/** j/k or ↓/↑ move the selection, Home/End jump, Enter opens (not while typing in a field). */
function useListKeys(rows: readonly WorklistItem[], index: number, props: { selected: string | null; onSelect(uid: string): void; onOpen(uid: string): void }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey || !rows.length) return;
      const i = Math.max(0, index);
      if (e.key === 'j' || e.key === 'ArrowDown') props.onSelect(rows[Math.min(rows.length - 1, i + 1)]!.studyUid);
      else if (e.key === 'k' || e.key === 'ArrowUp') props.onSelect(rows[Math.max(0, i - 1)]!.studyUid);
      else if (e.key === 'Home') props.onSelect(rows[0]!.studyUid);
      else if (e.key === 'End') props.onSelect(rows[rows.length - 1]!.studyUid);
      else if (e.key === 'Enter' && props.selected) props.onOpen(props.selected);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [rows, index, props]);
}

/** Review status, flagged only, arrival dates and the sort order. */
function FilterControls({ filter, set }: { filter: Filter; set(patch: Partial<Filter>): void }) {
  return (
    <>
      <div className="seg" role="group" aria-label="review status">
        {(['all', 'unreviewed', 'reviewed'] as const).map((s) => (
          <button key={s} className={filter.status === s ? 'on' : ''} onClick={() => set({ status: s })} data-testid={`filter-${s}`}>
            {s}
          </button>
        ))}
      </div>
      <label className="check">
        <input type="checkbox" checked={filter.flaggedOnly} onChange={(e) => set({ flaggedOnly: e.target.checked })} data-testid="filter-flagged" />
        flagged only
      </label>
      <label>
        from <input type="date" value={filter.from} onChange={(e) => set({ from: e.target.value })} />
      </label>
      <label>
        to <input type="date" value={filter.to} onChange={(e) => set({ to: e.target.value })} />
      </label>
      <label>
        sort{' '}
        <select value={filter.sort} onChange={(e) => set({ sort: e.target.value as Filter['sort'] })} data-testid="sort">
          <option value="score">by score (likely bleed first)</option>
          <option value="arrival">by arrival (newest first)</option>
        </select>
      </label>
    </>
  );
}
