/**
 * The study viewer: full-resolution slices, the ten systematic window presets on keys 1–0 (1 =
 * the slice's own window), free window/level by drag, the per-slice probability strip, the key
 * slices, the models side by side, and the review panel.
 *
 * Keys: ↑/↓ (or wheel, PgUp/PgDn ±10, Home/End) move through slices; 1–0 presets; r resets the
 * window; + and − zoom, f fits, u shows 1:1 (one stored pixel per screen pixel), shift-drag pans;
 * m switches between the window tool and the ruler; l shows the lesion map (when a localisation
 * network has drawn one); n/p next/previous study; Esc returns to the
 * worklist. Edge letters (R/L, A/P, H/F) come from the slice's ImageOrientationPatient; the
 * overlay reports the HU under the cursor and the ruler's length in mm.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { isTyping } from './keys.js';
import { getClient, type TriageClient } from './api.js';
import { SliceCache, type HuSlice } from './slices.js';
import { ImageBox, useImageTools } from './ImageBox.js';
import { ModelCompare, modelColumns } from './ModelCompare.js';
import { ReviewPanel } from './ReviewPanel.js';
import { contrastCaution, huCorrectionNote } from './format.js';
import { KeySlicesPanel, PresetButtons, PRESET_KEYS, StripPanel, StudyBar } from './ViewerParts.js';
import { SYSTEMATIC_WINDOWS, type Window } from '../shared/windows.js';
import type { LabelProbabilities } from '../shared/labels.js';
import { RANKING_SCORE_ID, type SeriesDetail, type StudyDetail } from '../shared/api.js';

type SliceInfo = SeriesDetail['slices'][number];

/** The study's detail, loaded now and again whenever the server says the study changed. */
function useStudyDetail(client: TriageClient, studyUid: string) {
  const [detail, setDetail] = useState<StudyDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    client.api
      .study({ studyUid })
      .then((d) => {
        setDetail(d);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [client, studyUid]);
  useEffect(load, [load]);
  useEffect(
    () =>
      client.onEvent((e) => {
        if (e.type === 'changed' && (e.studyUid === null || e.studyUid === studyUid)) load();
      }),
    [client, load, studyUid],
  );
  return { detail, error, setError, load };
}

/** The viewer's keys (see the module comment); each action is the viewer's. */
function useViewerKeys(actions: {
  preset(i: number): void;
  step(d: number): void;
  jump(to: 'first' | 'last'): void;
  close(): void;
  zoom(factor: number): void;
  fit(): void;
  oneToOne(): void;
  toggleRuler(): void;
  toggleMap(): void;
  study?: ((direction: 1 | -1) => void) | undefined;
}) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      const p = PRESET_KEYS.indexOf(e.key);
      if (p >= 0) actions.preset(p);
      else if (e.key === 'ArrowDown' || e.key === 'ArrowRight' || e.key === 'j') actions.step(1);
      else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft' || e.key === 'k') actions.step(-1);
      else if (e.key === 'PageDown') actions.step(10);
      else if (e.key === 'PageUp') actions.step(-10);
      else if (e.key === 'Home') actions.jump('first');
      else if (e.key === 'End') actions.jump('last');
      else if (e.key === 'r') actions.preset(0);
      else if (e.key === 'Escape') actions.close();
      else if (e.key === '+' || e.key === '=') actions.zoom(1.25);
      else if (e.key === '-') actions.zoom(1 / 1.25);
      else if (e.key === 'f') actions.fit();
      else if (e.key === 'u') actions.oneToOne();
      else if (e.key === 'm') actions.toggleRuler();
      else if (e.key === 'l') actions.toggleMap();
      else if (e.key === 'n' && actions.study) actions.study(1);
      else if (e.key === 'p' && actions.study) actions.study(-1);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [actions]);
}

/** The slice's HU, fetched when the slice changes; its neighbours are fetched next for smooth scrolling. */
function useSlicePixels(cache: SliceCache, slices: readonly SliceInfo[], index: number, onError: (m: string) => void): HuSlice | null {
  const [pixels, setPixels] = useState<HuSlice | null>(null);
  const slice = slices[Math.min(index, Math.max(0, slices.length - 1))];
  useEffect(() => {
    if (!slice) return;
    let alive = true;
    cache
      .get(slice.instanceId)
      .then((p) => alive && setPixels(p))
      .catch((e: Error) => alive && onError(e.message));
    for (const d of [1, -1, 2, -2]) {
      const n = slices[index + d];
      if (n) void cache.get(n.instanceId).catch(() => {});
    }
    return () => {
      alive = false;
    };
  }, [cache, slice, slices, index, onError]);
  return pixels;
}

/** The key slices' pixels (with their lesion maps) for the thumbnails, fetched through the slice cache. */
function useKeySlicePixels(cache: SliceCache, keySlices: readonly { id: number }[]): ReadonlyMap<number, HuSlice> {
  const [pixels, setPixels] = useState<ReadonlyMap<number, HuSlice>>(new Map());
  const ids = keySlices.map((k) => k.id).join(',');
  useEffect(() => {
    let alive = true;
    const wanted = ids ? ids.split(',').map(Number) : [];
    void Promise.all(wanted.map((id) => cache.get(id).catch(() => null))).then((got) => {
      if (!alive) return;
      setPixels(new Map(got.filter((s): s is HuSlice => s !== null).map((s) => [s.instanceId, s])));
    });
    return () => {
      alive = false;
    };
  }, [cache, ids]);
  return pixels;
}

/** On opening: start at the first key slice, else the middle of the series. */
function useOpenAtKeySlice(detail: StudyDetail | null, slices: readonly SliceInfo[], setIndex: (i: number) => void): void {
  const [positioned, setPositioned] = useState(false);
  useEffect(() => {
    if (!detail || positioned || !slices.length) return;
    const ranking = detail.scores.find((s) => s.modelId === RANKING_SCORE_ID) ?? detail.scores[0];
    const key = ranking?.keySlices.map((id) => slices.findIndex((s) => s.instanceId === id)).find((i) => i >= 0);
    setIndex(key ?? Math.floor(slices.length / 2));
    setPositioned(true);
  }, [detail, slices, positioned, setIndex]);
}

/**
 * The per-slice probabilities the strip and the overlay show. They open on the family that ranks
 * the worklist (what the header's score is), else the ensemble, else the first model: the reader
 * sees the numbers behind the rank first, until they pick another model.
 */
function useStrip(detail: StudyDetail | null, slices: readonly SliceInfo[]) {
  const [chosen, choose] = useState<string | null>(null);
  const predictions = useMemo(() => detail?.predictions ?? [], [detail]);
  const stripModelId =
    chosen ??
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
  return { predictions, stripModelId, stripValues, choose };
}

/**
 * The display window: one of the systematic presets (0 = the slice's own window), or a free one
 * set by dragging on the image (preset null).
 */
function useDisplayWindow(slice: SliceInfo | undefined) {
  const [preset, setPreset] = useState<number | null>(0);
  const [custom, setCustom] = useState<Window>({ center: 40, width: 80 });
  const currentWindow: Window = useMemo(() => {
    if (preset === null) return custom;
    const w = SYSTEMATIC_WINDOWS[preset];
    if (!w || w.center === null) return slice ? { center: slice.window.center, width: slice.window.width } : { center: 40, width: 80 };
    return { center: w.center, width: w.width };
  }, [preset, custom, slice]);
  const windowName = preset === null ? 'free' : (SYSTEMATIC_WINDOWS[preset]?.name ?? '');
  const drag = useCallback((w: Window) => {
    setCustom(w);
    setPreset(null);
  }, []);
  return { preset, setPreset, drag, currentWindow, windowName };
}

/** A study of several series: which one is shown, and why a series is not read by the networks. */
function SeriesChooser({ series, chosen, onChoose }: { series: StudyDetail['series']; chosen: number; onChoose(i: number): void }) {
  const shown = series[chosen];
  const caution = shown ? contrastCaution(shown) : null;
  return (
    <>
      {series.length > 1 && (
        <select value={chosen} onChange={(e) => onChoose(Number(e.target.value))}>
          {series.map((s, i) => (
            <option key={s.seriesUid} value={i}>
              Series {s.seriesNumber ?? i + 1} {s.description ?? ''} ({s.slices.length} slices){s.skippedReason ? ' — not read by the networks' : ''}
            </option>
          ))}
        </select>
      )}
      {shown?.skippedReason && (
        <div className="muted small" data-testid="series-skipped">
          Not read by the networks: {shown.skippedReason}
        </div>
      )}
      {caution && (
        <div className="notice small" role="note" data-testid="series-contrast">
          {caution}
        </div>
      )}
    </>
  );
}

/** The series shown: the one the networks read until the reader chooses another (the others say why they are not read). */
function useShownSeries(detail: StudyDetail | null) {
  /** null: the series the networks read. */
  const [seriesIdx, setSeriesIdx] = useState<number | null>(null);
  const readIdx = detail ? Math.max(0, detail.series.findIndex((s) => !s.skippedReason)) : 0;
  const chosen = seriesIdx ?? readIdx;
  const series = detail?.series[chosen] ?? detail?.series[0];
  const slices = useMemo(() => series?.slices ?? [], [series]);
  return { chosen, choose: setSeriesIdx, series, slices };
}

/** The slice shown, opened at the first key slice; stepped by keys and the wheel, jumped to by clicks. */
function useSliceIndex(detail: StudyDetail | null, slices: readonly SliceInfo[]) {
  const [index, setIndex] = useState(0);
  useOpenAtKeySlice(detail, slices, setIndex);
  const step = useCallback((d: number) => setIndex((i) => Math.max(0, Math.min(slices.length - 1, i + d))), [slices.length]);
  const jump = useCallback((to: 'first' | 'last') => setIndex(to === 'first' ? 0 : slices.length - 1), [slices.length]);
  return { index, setIndex, step, jump };
}

/** The key slices of the study score that ranks the worklist (else the first score) in this series, with their place in it. */
function keySlicesIn(detail: StudyDetail, slices: readonly SliceInfo[]): { id: number; i: number }[] {
  const ranking = detail.scores.find((s) => s.modelId === RANKING_SCORE_ID) ?? detail.scores[0];
  return (ranking?.keySlices ?? [])
    .map((id) => ({ id, i: slices.findIndex((s) => s.instanceId === id) }))
    .filter((k) => k.i >= 0);
}

/** The study's detail is not here: why (an error, with the way back), or that it is loading. */
function StudyNotLoaded({ error, onClose }: { error: string | null; onClose(): void }) {
  if (!error) return <section className="viewer"><div className="empty">Loading study…</div></section>;
  return (
    <section className="viewer">
      <div className="error" role="alert">{error}</div>
      <button onClick={onClose}>← Worklist</button>
    </section>
  );
}

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
  const { detail, error, setError, load } = useStudyDetail(client, props.studyUid);
  const shown = useShownSeries(detail);
  const slices = shown.slices;
  const { index, setIndex, step, jump } = useSliceIndex(detail, slices);
  const slice = slices[Math.min(index, Math.max(0, slices.length - 1))];
  const pixels = useSlicePixels(cache, slices, index, setError);
  const tools = useImageTools(pixels);
  const { preset, setPreset, drag, currentWindow, windowName } = useDisplayWindow(slice);
  const { predictions, stripModelId, stripValues, choose: chooseStripModel } = useStrip(detail, slices);
  const currentP: LabelProbabilities | null = stripValues[index] ?? null;
  const huNote = slice ? huCorrectionNote(slice) : null;
  const [showMap, setShowMap] = useState(false);
  const keySlices = useMemo(() => (detail ? keySlicesIn(detail, slices) : []), [detail, slices]);
  const keyPixels = useKeySlicePixels(cache, keySlices);

  const { onClose, onStep } = props;
  const keyActions = useMemo(
    () => ({ preset: setPreset, step, jump, close: onClose, ...tools.actions, toggleMap: () => setShowMap((v) => !v), study: onStep }),
    [setPreset, step, jump, onClose, onStep, tools.actions],
  );
  useViewerKeys(keyActions);

  if (!detail) return <StudyNotLoaded error={error} onClose={props.onClose} />;
  return (
    <section className="viewer" data-testid="viewer" data-study={props.studyUid} data-slice-index={index} data-window={`${currentWindow.center}/${currentWindow.width}`} data-map={showMap ? 'shown' : 'hidden'}>
      <StudyBar detail={detail} onClose={props.onClose} {...(props.onOpenStudy ? { onOpenStudy: props.onOpenStudy } : {})} />
      <div className="viewer-body">
        <div className="imagecol">
          <SeriesChooser
            series={detail.series}
            chosen={shown.chosen}
            onChoose={(i) => {
              shown.choose(i);
              setIndex(0);
            }}
          />
          <div className="imagerow">
            <PresetButtons preset={preset} onPreset={setPreset} slice={slice ?? null} />
            <ImageBox
              pixels={pixels}
              slice={slice}
              window={currentWindow}
              windowName={windowName}
              onWindowDrag={drag}
              onWheel={step}
              tools={tools}
              sliceLabel={{ index, count: slices.length, position: slice?.slicePosition ?? null, series: shown.series ?? null }}
              current={currentP ? { modelId: stripModelId ?? '', p: currentP } : null}
              showMap={showMap}
            />
          </div>
          {huNote && (
            <div className="notice small" role="note" data-testid="slice-hu-correction">
              {huNote}
            </div>
          )}
          <StripPanel
            predictions={predictions}
            modelId={stripModelId}
            onModel={chooseStripModel}
            values={stripValues}
            index={index}
            threshold={detail.thresholds.any}
            onPick={setIndex}
          />
        </div>
        <aside className="sidecol">
          <KeySlicesPanel keySlices={keySlices} values={stripValues} index={index} modelId={stripModelId} onPick={setIndex} pixels={keyPixels} showMap={showMap} />
          <ModelCompare columns={modelColumns(detail.scores, predictions)} thresholds={detail.thresholds} />
          <ReviewPanel study={detail.study} reviews={detail.reviews} onSaved={load} {...(props.onDecided ? { onDecided: props.onDecided } : {})} />
        </aside>
      </div>
    </section>
  );
}
