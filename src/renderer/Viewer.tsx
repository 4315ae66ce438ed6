/**
 * The study viewer: full-resolution slices, the ten systematic window presets on keys 1–0 (1 =
 * the slice's own window), free window/level by drag, the per-slice probability strip, the key
 * slices, the models side by side, and the review panel.
 *
 * Keys: ↑/↓ (or wheel, PgUp/PgDn ±10, Home/End) move through slices; 1–0 presets; r resets the
 * window; + and − zoom, f fits, u shows 1:1 (one stored pixel per screen pixel), shift-drag pans;
 * m switches between the window tool and the ruler; n/p next/previous study; Esc returns to the
 * worklist. Edge letters (R/L, A/P, H/F) come from the slice's ImageOrientationPatient; the
 * overlay reports the HU under the cursor and the ruler's length in mm.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { isTyping } from './keys.js';
import { getClient } from './api.js';
import { SliceCache, type HuSlice } from './slices.js';
import { SliceCanvas, type Point, type Probe, type Tool, type View } from './SliceCanvas.js';
import { distanceMm, edgeMarkers, gridSpacing } from './geometry.js';
import { ProbabilityStrip } from './ProbabilityStrip.js';
import { ModelCompare, modelColumns } from './ModelCompare.js';
import { ReviewPanel } from './ReviewPanel.js';
import { ageText, LABEL_SHORT, modelShort, pct, providerShort, studyWhen, subtypeTitle, topSubtypes } from './format.js';
import { SYSTEMATIC_WINDOWS, type Window } from '../shared/windows.js';
import { LABELS, type LabelProbabilities } from '../shared/labels.js';
import { RANKING_SCORE_ID, type StudyDetail } from '../shared/api.js';

const PRESET_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];

export function Viewer(props: {
  studyUid: string;
  onClose(): void;
  /** Next (+1) or previous (−1) study in the worklist's order (keys n and p). */
  onStep?(direction: 1 | -1): void;
  /** A confirm or dismiss was stored: the app moves on to the next unreviewed study. */
  onDecided?(): void;
  /** Opens another study (a prior of the same patient). */
  onOpenStudy?(studyUid: string): void;
}) {
  const client = getClient();
  const cache = useMemo(() => new SliceCache(client.api), [client]);
  const [detail, setDetail] = useState<StudyDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** null: the series the networks read. */
  const [seriesIdx, setSeriesIdx] = useState<number | null>(null);
  const [index, setIndex] = useState(0);
  const [preset, setPreset] = useState<number | null>(0); // null = free window from a drag
  const [custom, setCustom] = useState<Window>({ center: 40, width: 80 });
  const [pixels, setPixels] = useState<HuSlice | null>(null);
  const [stripModel, setStripModel] = useState<string | null>(null);
  const [view, setView] = useState<View>({ scale: 1, x: 0, y: 0 });
  const [tool, setTool] = useState<Tool>('window');
  const [ruler, setRuler] = useState<{ a: Point; b: Point } | null>(null);
  const [probe, setProbe] = useState<Probe | null>(null);
  const [fitPx, setFitPx] = useState(512);

  const load = useCallback(() => {
    client.api
      .study({ studyUid: props.studyUid })
      .then((d) => {
        setDetail(d);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [client, props.studyUid]);

  useEffect(load, [load]);
  useEffect(
    () =>
      client.onEvent((e) => {
        if (e.type === 'changed' && (e.studyUid === null || e.studyUid === props.studyUid)) load();
      }),
    [client, load, props.studyUid],
  );

  // Open on the series the networks read (the others say why they are not read).
  const readIdx = detail ? Math.max(0, detail.series.findIndex((s) => !s.skippedReason)) : 0;
  const series = detail?.series[seriesIdx ?? readIdx] ?? detail?.series[0];
  const slices = useMemo(() => series?.slices ?? [], [series]);
  const slice = slices[Math.min(index, Math.max(0, slices.length - 1))];

  // On opening: start at the first key slice, else the middle of the series.
  const [positioned, setPositioned] = useState(false);
  useEffect(() => {
    if (!detail || positioned || !slices.length) return;
    const ranking = detail.scores.find((s) => s.modelId === RANKING_SCORE_ID) ?? detail.scores[0];
    const key = ranking?.keySlices.map((id) => slices.findIndex((s) => s.instanceId === id)).find((i) => i >= 0);
    setIndex(key ?? Math.floor(slices.length / 2));
    setPositioned(true);
  }, [detail, slices, positioned]);

  useEffect(() => {
    if (!slice) return;
    let alive = true;
    cache
      .get(slice.instanceId)
      .then((p) => alive && setPixels(p))
      .catch((e: Error) => alive && setError(e.message));
    // Neighbours next, so scrolling is smooth.
    for (const d of [1, -1, 2, -2]) {
      const n = slices[index + d];
      if (n) void cache.get(n.instanceId).catch(() => {});
    }
    return () => {
      alive = false;
    };
  }, [cache, slice, slices, index]);

  const currentWindow: Window = useMemo(() => {
    if (preset === null) return custom;
    const w = SYSTEMATIC_WINDOWS[preset];
    if (!w || w.center === null) return slice ? { center: slice.window.center, width: slice.window.width } : { center: 40, width: 80 };
    return { center: w.center, width: w.width };
  }, [preset, custom, slice]);
  const windowName = preset === null ? 'free' : (SYSTEMATIC_WINDOWS[preset]?.name ?? '');

  const step = useCallback((d: number) => setIndex((i) => Math.max(0, Math.min(slices.length - 1, i + d))), [slices.length]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      const p = PRESET_KEYS.indexOf(e.key);
      if (p >= 0) setPreset(p);
      else if (e.key === 'ArrowDown' || e.key === 'ArrowRight' || e.key === 'j') step(1);
      else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft' || e.key === 'k') step(-1);
      else if (e.key === 'PageDown') step(10);
      else if (e.key === 'PageUp') step(-10);
      else if (e.key === 'Home') setIndex(0);
      else if (e.key === 'End') setIndex(slices.length - 1);
      else if (e.key === 'r') setPreset(0);
      else if (e.key === 'Escape') props.onClose();
      else if (e.key === '+' || e.key === '=') setView((v) => ({ ...v, scale: Math.min(8, v.scale * 1.25) }));
      else if (e.key === '-') setView((v) => ({ ...v, scale: Math.max(0.5, v.scale / 1.25) }));
      else if (e.key === 'f') setView({ scale: 1, x: 0, y: 0 });
      else if (e.key === 'u') setView({ scale: (pixels?.columns ?? 512) / (fitPx * (window.devicePixelRatio || 1)), x: 0, y: 0 });
      else if (e.key === 'm') {
        setTool((t) => (t === 'window' ? 'ruler' : 'window'));
        setRuler(null);
      } else if (e.key === 'n' && props.onStep) props.onStep(1);
      else if (e.key === 'p' && props.onStep) props.onStep(-1);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [step, slices.length, props, pixels, fitPx]);

  const predictions = detail?.predictions ?? [];
  // The strip and overlay open on the family that ranks the worklist (what the header's score is),
  // else the ensemble, else the first model: the reader sees the numbers behind the rank first.
  const stripModelId =
    stripModel ??
    predictions.find((p) => p.modelId === detail?.rankingModel)?.modelId ??
    predictions.find((p) => p.modelId === 'ensemble')?.modelId ??
    predictions[0]?.modelId ??
    null;
  const stripValues = useMemo(() => {
    const m = predictions.find((p) => p.modelId === stripModelId);
    if (!m) return [];
    const byId = new Map(m.slices.map((s) => [s.instanceId, s.p]));
    return slices.map((s) => byId.get(s.instanceId) ?? null);
  }, [predictions, stripModelId, slices]);
  const currentP: LabelProbabilities | null = stripValues[index] ?? null;

  if (error && !detail) {
    return (
      <section className="viewer">
        <div className="error" role="alert">{error}</div>
        <button onClick={props.onClose}>← Worklist</button>
      </section>
    );
  }
  if (!detail) return <section className="viewer"><div className="empty">Loading study…</div></section>;

  const study = detail.study;
  const ranking = detail.scores.find((s) => s.modelId === RANKING_SCORE_ID) ?? detail.scores[0];
  const keySlices = (ranking?.keySlices ?? [])
    .map((id) => ({ id, i: slices.findIndex((s) => s.instanceId === id) }))
    .filter((k) => k.i >= 0);
  const columns = modelColumns(detail.scores, predictions);
  const markers = edgeMarkers(slice?.orientation ?? null);
  const spacing = slice && pixels ? gridSpacing(slice.pixelSpacing, { rows: slice.originalRows, columns: slice.originalColumns }, pixels) : null;
  const rulerMm = ruler && spacing ? distanceMm(ruler.a, ruler.b, spacing) : null;

  return (
    <section className="viewer" data-testid="viewer" data-study={props.studyUid} data-slice-index={index} data-window={`${currentWindow.center}/${currentWindow.width}`}>
      <div className="studybar">
        <button onClick={props.onClose} title="Esc">← Worklist</button>
        <div className="who">
          <span className="strong">{study.patientName?.replace(/\^/g, ' ') || '(no name)'}</span>
          <span className="muted" data-testid="patient-line">
            {' '}
            {[
              study.patientSex?.trim() || 'sex not given',
              ageText(study.patientAge) ?? 'age not given',
              study.patientId ?? '',
              study.accession ? `Acc ${study.accession}` : 'no accession',
              studyWhen(study.studyDate, study.studyTime) ?? 'no study date',
              study.description ?? '',
            ]
              .filter(Boolean)
              .join(' · ')}
          </span>
          {detail.priors.length > 0 && (
            <div className="priors small" data-testid="priors">
              <span className="muted">Priors (same patient ID): </span>
              {detail.priors.map((p) => (
                <button
                  key={p.studyUid}
                  className="link"
                  data-testid="prior"
                  disabled={!props.onOpenStudy}
                  onClick={() => props.onOpenStudy?.(p.studyUid)}
                  title={`${p.description ?? 'study'} · ${p.reviewStatus}`}
                >
                  {studyWhen(p.studyDate, p.studyTime) ?? `arrived ${p.firstArrivalAt.slice(0, 10)}`}
                  {p.scoreAny !== null ? ` · ICH ${pct(p.scoreAny)}` : ' · not scored'}
                </button>
              ))}
            </div>
          )}
        </div>
        <div className="studyscore">
          {study.score ? (
            <>
              <span
                className={study.flagged ? 'score big flagged' : 'score big'}
                data-testid="study-score"
                title="Study score: per label, the highest over the slices after smoothing each with its neighbours ([¼, ½, ¼]), so a lone spike counts less than a run of slices"
              >
                ICH {pct(study.score.any)}
              </span>
              {topSubtypes(study.score).map((s) => (
                <span key={s.label} className={`badge l-${s.label}`} title={subtypeTitle(s.label, s.p, study.score!.any)}>
                  {LABEL_SHORT[s.label]} {pct(s.p)}
                  {s.p > study.score!.any ? <sup className="above">*</sup> : null}
                </span>
              ))}
              <span className="muted small" title="the model family that ranks the worklist (Settings)">
                {' '}study score{study.provisionalSlices !== null ? ` (provisional, ${study.provisionalSlices} slices)` : ''}, {detail.rankingModel}
              </span>
            </>
          ) : (
            <span className="noscore">awaiting model</span>
          )}
        </div>
      </div>
      <div className="viewer-body">
        <div className="imagecol">
          {detail.series.length > 1 && (
            <select value={seriesIdx ?? readIdx} onChange={(e) => { setSeriesIdx(Number(e.target.value)); setIndex(0); }}>
              {detail.series.map((s, i) => (
                <option key={s.seriesUid} value={i}>
                  Series {s.seriesNumber ?? i + 1} {s.description ?? ''} ({s.slices.length} slices){s.skippedReason ? ' — not read by the networks' : ''}
                </option>
              ))}
            </select>
          )}
          {series?.skippedReason && (
            <div className="muted small" data-testid="series-skipped">
              Not read by the networks: {series.skippedReason}
            </div>
          )}
          <div className="imagerow">
          <div className="presets" role="group" aria-label="window presets">
            <div className="muted small">Window (keys 1–0, drag for free W/L, r resets)</div>
            {SYSTEMATIC_WINDOWS.map((w, i) => (
              <button key={w.name} className={preset === i ? 'on' : ''} onClick={() => setPreset(i)} title={w.center === null ? 'the slice’s own window (DICOM tags)' : `C ${w.center} W ${w.width}`} data-testid={`preset-${PRESET_KEYS[i]}`}>
                <kbd>{PRESET_KEYS[i]}</kbd> {w.name}
                <span className="muted small"> {w.center === null ? (slice ? `${slice.window.center}/${slice.window.width}` : '') : `${w.center}/${w.width}`}</span>
              </button>
            ))}
          </div>
          <div className="imagebox">
            <SliceCanvas
              slice={pixels}
              window={currentWindow}
              onWindowDrag={(w) => {
                setCustom(w);
                setPreset(null);
              }}
              onWheel={step}
              view={view}
              tool={tool}
              ruler={ruler}
              onView={setView}
              onRuler={setRuler}
              onProbe={setProbe}
              onFitSize={setFitPx}
            />
            {markers && (
              <>
                <div className="overlay mk mk-left" data-testid="marker-left">{markers.left}</div>
                <div className="overlay mk mk-right" data-testid="marker-right">{markers.right}</div>
                <div className="overlay mk mk-top" data-testid="marker-top">{markers.top}</div>
                <div className="overlay mk mk-bottom" data-testid="marker-bottom">{markers.bottom}</div>
              </>
            )}
            <div className="overlay br" data-testid="probe">
              {probe ? `HU ${probe.hu} at ${probe.x},${probe.y}` : ''}
              {ruler ? `\n${rulerMm === null ? 'no pixel spacing: no ruler' : `${rulerMm.toFixed(1)} mm`}` : ''}
              {`\n${view.scale === 1 ? 'fit' : `zoom ${Math.round(view.scale * 100)} %`}${tool === 'ruler' ? ' · ruler (m)' : ''}`}
            </div>
            <div className="overlay tl" data-testid="slice-label">
              Slice {slices.length ? index + 1 : 0} / {slices.length}
              {slice?.slicePosition !== null && slice?.slicePosition !== undefined ? ` · ${slice.slicePosition.toFixed(1)} mm` : ''}
              {series ? `\nSeries ${series.seriesNumber ?? '?'}${series.description ? ` ${series.description}` : ''}` : ''}
            </div>
            <div className="overlay tr">
              W {Math.round(currentWindow.width)} L {Math.round(currentWindow.center)} · {windowName}
            </div>
            <div className="overlay bl">
              {currentP ? `this slice, ${modelShort(stripModelId ?? '')}: ` + LABELS.map((l) => `${LABEL_SHORT[l]} ${pct(currentP[l])}`).join('  ') : ''}
            </div>
          </div>
          </div>
          <div className="panel stripwrap">
            <div className="stripbar">
              <h3>Per-slice probabilities</h3>
              {predictions.length > 1 && (
                <select value={stripModelId ?? ''} onChange={(e) => setStripModel(e.target.value)} data-testid="strip-model">
                  {predictions.map((p) => (
                    <option key={p.modelId} value={p.modelId}>{modelShort(p.modelId)} ({providerShort(p.provider)})</option>
                  ))}
                </select>
              )}
              {predictions.length === 1 && <span className="muted small">{stripModelId}</span>}
              <span className="muted small">click to jump to a slice</span>
            </div>
            {stripValues.length ? (
              <ProbabilityStrip values={stripValues} index={index} threshold={detail.thresholds.any} onPick={setIndex} />
            ) : (
              <div className="empty small" data-testid="strip-empty">No per-slice predictions for this series yet (awaiting model).</div>
            )}
          </div>
        </div>
        <aside className="sidecol">
          <div className="panel" data-testid="key-slices">
            <h3>Key slices</h3>
            {keySlices.length ? (
              <div className="keys">
                {keySlices.map((k) => {
                  const p = stripValues[k.i];
                  return (
                    <button key={k.id} className={k.i === index ? 'on' : ''} onClick={() => setIndex(k.i)} title={p ? `this slice's ICH by ${stripModelId}: ${pct(p.any)}` : ''}>
                      slice {k.i + 1}
                      {p ? <span className="muted small"> · ICH {pct(p.any)}</span> : null}
                    </button>
                  );
                })}
              </div>
            ) : (
              <div className="empty small">None yet: key slices come with a model’s study score.</div>
            )}
          </div>
          <ModelCompare columns={columns} thresholds={detail.thresholds} />
          <ReviewPanel study={study} reviews={detail.reviews} onSaved={load} {...(props.onDecided ? { onDecided: props.onDecided } : {})} />
        </aside>
      </div>
    </section>
  );
}
