/**
 * The study viewer's panels, each drawn from what the viewer holds: the study bar (patient,
 * priors, study score), the window presets, the overlays on the image, the per-slice probability
 * strip and the key slices. The viewer (Viewer.tsx) owns the state and the keys.
 */
import { ProbabilityStrip } from './ProbabilityStrip.js';
import type { Probe, Tool, View } from './SliceCanvas.js';
import type { edgeMarkers } from './geometry.js';
import { ageText, LABEL_SHORT, mlText, modelShort, pct, providerShort, studyWhen, subtypeTitle, topSubtypes, VOLUME_TITLE, volumeText } from './format.js';
import { KeySliceThumb, LesionLegend } from './LesionMap.js';
import type { HuSlice, LesionMapPixels } from './slices.js';
import { SYSTEMATIC_WINDOWS, type Window } from '../shared/windows.js';
import { LABELS, type LabelProbabilities } from '../shared/labels.js';
import type { ModelPredictions, SeriesDetail, StudyDetail } from '../shared/api.js';

export const PRESET_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];

type SliceInfo = SeriesDetail['slices'][number];

/** Patient line, the patient's priors and the study score with its top subtypes. */
export function StudyBar({ detail, onClose, onOpenStudy }: { detail: StudyDetail; onClose(): void; onOpenStudy?(studyUid: string): void }) {
  const study = detail.study;
  return (
    <div className="studybar">
      <button onClick={onClose} title="Esc">← Worklist</button>
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
                disabled={!onOpenStudy}
                onClick={() => onOpenStudy?.(p.studyUid)}
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
              title="Study score: per label, the highest slice, so a bleed seen on one slice only counts in full"
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
            {detail.volume && <VolumeLine volume={detail.volume} />}
          </>
        ) : (
          <span className="noscore">awaiting model</span>
        )}
      </div>
    </div>
  );
}

/** The study's bleed-volume estimate, per subtype, labelled as the estimate it is. */
function VolumeLine({ volume }: { volume: NonNullable<StudyDetail['volume']> }) {
  const parts = Object.entries(volume.subtypes)
    .filter(([, ml]) => ml >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([label, ml]) => `${LABEL_SHORT[label as keyof typeof LABEL_SHORT] ?? label} ${mlText(ml)}`);
  return (
    <div className="volume small" data-testid="study-volume" title={VOLUME_TITLE}>
      Bleed volume {volumeText(volume.totalMl)} <span className="muted">(estimate{volume.provisional ? ', provisional' : ''}, {modelShort(volume.modelId)})</span>
      {parts.length > 0 && <span className="muted"> · {parts.join(' · ')}</span>}
    </div>
  );
}

/** The ten systematic windows on keys 1–0 (1: the slice's own window from its tags). */
export function PresetButtons({ preset, onPreset, slice }: { preset: number | null; onPreset(i: number): void; slice: SliceInfo | null }) {
  return (
    <div className="presets" role="group" aria-label="window presets">
      <div className="muted small">Window (keys 1–0, drag for free W/L, r resets)</div>
      {SYSTEMATIC_WINDOWS.map((w, i) => (
        <button key={w.name} className={preset === i ? 'on' : ''} onClick={() => onPreset(i)} title={w.center === null ? 'the slice’s own window (DICOM tags)' : `C ${w.center} W ${w.width}`} data-testid={`preset-${PRESET_KEYS[i]}`}>
          <kbd>{PRESET_KEYS[i]}</kbd> {w.name}
          <span className="muted small"> {w.center === null ? (slice ? `${slice.window.center}/${slice.window.width}` : '') : `${w.center}/${w.width}`}</span>
        </button>
      ))}
    </div>
  );
}

/** Orientation letters, HU under the cursor, ruler, zoom, slice and series, window, this slice's probabilities. */
export function ImageOverlays(props: {
  markers: ReturnType<typeof edgeMarkers>;
  probe: Probe | null;
  /** The ruler drawn, with its length (null: no pixel spacing). */
  ruler: { mm: number | null } | null;
  view: View;
  tool: Tool;
  sliceLabel: { index: number; count: number; position: number | null; series: SeriesDetail | null };
  window: Window;
  windowName: string;
  current: { modelId: string; p: LabelProbabilities } | null;
  lesionMap: LesionMapPixels | null;
  showMap: boolean;
}) {
  const { markers, probe, ruler, view, tool, sliceLabel: sl, current } = props;
  return (
    <>
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
        {ruler ? `\n${ruler.mm === null ? 'no pixel spacing: no ruler' : `${ruler.mm.toFixed(1)} mm`}` : ''}
        {`\n${view.scale === 1 ? 'fit' : `zoom ${Math.round(view.scale * 100)} %`}${tool === 'ruler' ? ' · ruler (m)' : ''}`}
      </div>
      <div className="overlay tl" data-testid="slice-label">
        Slice {sl.count ? sl.index + 1 : 0} / {sl.count}
        {sl.position !== null ? ` · ${sl.position.toFixed(1)} mm` : ''}
        {sl.series ? `\nSeries ${sl.series.seriesNumber ?? '?'}${sl.series.description ? ` ${sl.series.description}` : ''}` : ''}
      </div>
      <div className="overlay tr">
        W {Math.round(props.window.width)} L {Math.round(props.window.center)} · {props.windowName}
      </div>
      <LesionLegend map={props.lesionMap} shown={props.showMap} />
      <div className="overlay bl">
        {current ? `this slice, ${modelShort(current.modelId)}: ` + LABELS.map((l) => `${LABEL_SHORT[l]} ${pct(current.p[l])}`).join('  ') : ''}
      </div>
    </>
  );
}

/** The per-slice probabilities of one model (chosen in the panel) along the series; a click jumps. */
export function StripPanel(props: {
  predictions: ModelPredictions[];
  modelId: string | null;
  onModel(modelId: string): void;
  values: (LabelProbabilities | null)[];
  index: number;
  threshold: number;
  onPick(i: number): void;
}) {
  const { predictions, modelId } = props;
  return (
    <div className="panel stripwrap">
      <div className="stripbar">
        <h3>Per-slice probabilities</h3>
        {predictions.length > 1 && (
          <select value={modelId ?? ''} onChange={(e) => props.onModel(e.target.value)} data-testid="strip-model">
            {predictions.map((p) => (
              <option key={p.modelId} value={p.modelId}>{modelShort(p.modelId)} ({providerShort(p.provider)})</option>
            ))}
          </select>
        )}
        {predictions.length === 1 && <span className="muted small">{modelId}</span>}
        <span className="muted small">click to jump to a slice</span>
      </div>
      {props.values.length ? (
        <ProbabilityStrip values={props.values} index={props.index} threshold={props.threshold} onPick={props.onPick} />
      ) : (
        <div className="empty small" data-testid="strip-empty">No per-slice predictions for this series yet (awaiting model).</div>
      )}
    </div>
  );
}

/** The slices that drove the study score, each with this slice's ICH by the strip's model. */
export function KeySlicesPanel(props: {
  keySlices: { id: number; i: number }[];
  values: (LabelProbabilities | null)[];
  index: number;
  modelId: string | null;
  onPick(i: number): void;
  /** Each key slice's pixels (and lesion map) once fetched, for its thumbnail. */
  pixels: ReadonlyMap<number, HuSlice>;
  showMap: boolean;
}) {
  return (
    <div className="panel" data-testid="key-slices">
      <h3>Key slices</h3>
      {props.keySlices.length ? (
        <div className="keys">
          {props.keySlices.map((k) => {
            const p = props.values[k.i];
            return (
              <button key={k.id} className={k.i === props.index ? 'on keyslice' : 'keyslice'} onClick={() => props.onPick(k.i)} title={p ? `this slice's ICH by ${props.modelId}: ${pct(p.any)}` : ''}>
                <KeySliceThumb slice={props.pixels.get(k.id) ?? null} showMap={props.showMap} />
                <span>
                  slice {k.i + 1}
                  {p ? <span className="muted small"> · ICH {pct(p.any)}</span> : null}
                </span>
              </button>
            );
          })}
        </div>
      ) : (
        <div className="empty small">None yet: key slices come with a model’s study score.</div>
      )}
    </div>
  );
}
