/**
 * Assembly stage. Input: series in the store still 'receiving'. Output: series marked 'ready'
 * with their slices ordered and a job of the caller's kind (the core's inference job) queued.
 *
 * A series is ready when no slice has arrived for the settle period (default 10 s) — scanners
 * and PACS send a series as a burst, and scoring half a head would rank it wrongly — or sooner,
 * 2 s after the DICOM sender released the association that carried all of it (release.ts). An
 * explicit `import` settles everything at once. Slices are ordered by ImagePositionPatient
 * projected on the slice normal (PS3.3 C.7.6.2.1.1), which is right for gantry-tilted series too;
 * when a slice lacks a position the whole series falls back to InstanceNumber.
 */
import { positionAlongNormal, sliceNormal, type Orientation, type Vec3 } from '../dicom/index.js';
import type { InstanceRow, SeriesRow, SliceOrder, Store } from '../store/index.js';
import type { ReleaseMark } from './release.js';
import { chooseSeries } from './select.js';

export type { SeriesFacts, SeriesChoice } from './select.js';
export { DEFAULT_RELEASE_SETTLE_MS, ReleasedSeries, type ReleaseMark } from './release.js';

export const DEFAULT_SETTLE_MS = 10_000;

export function orderSlices(instances: readonly InstanceRow[]): SliceOrder[] {
  const first = instances.find((i) => i.orientation !== null);
  const normal: Vec3 | null = first ? sliceNormal(JSON.parse(first.orientation!) as Orientation) : null;
  const withPosition = instances.map((i) => ({
    row: i,
    position:
      normal && i.positionX !== null && i.positionY !== null && i.positionZ !== null
        ? positionAlongNormal([i.positionX, i.positionY, i.positionZ], normal)
        : null,
  }));
  const allPositioned = withPosition.every((s) => s.position !== null);
  const sorted = [...withPosition].sort((a, b) => {
    if (allPositioned && a.position !== b.position) return a.position! - b.position!;
    const na = a.row.instanceNumber ?? Number.MAX_SAFE_INTEGER;
    const nb = b.row.instanceNumber ?? Number.MAX_SAFE_INTEGER;
    return na !== nb ? na - nb : a.row.id - b.row.id;
  });
  return sorted.map((s, index) => ({ id: s.row.id, sliceIndex: index, slicePosition: s.position }));
}

/**
 * Settles every series whose last slice is older than `settleMs` (all of them when `force`), and
 * every series a sender's release completed (`released`, from release.ts: no slice arrived after
 * the release nor beyond what the released association carried): its final order, its ready
 * state and its `jobKind` job are written in one transaction.
 */
export function settleSeries(
  store: Store,
  opts: { settleMs: number; jobKind: string; force?: boolean; now?: Date; released?: ReadonlyMap<string, ReleaseMark> },
): string[] {
  const now = opts.now ?? new Date();
  const cutoff = opts.force ? null : new Date(now.getTime() - opts.settleMs).toISOString();
  const released = opts.released ?? new Map<string, ReleaseMark>();
  const complete = (s: SeriesRow): boolean => {
    const mark = released.get(s.seriesUid);
    return mark !== undefined && s.lastArrivalAt <= mark.releasedAt && s.sliceCount <= mark.slices;
  };
  const toSettle =
    cutoff === null || released.size === 0
      ? store.series.toSettle(cutoff)
      : store.series.toSettle(null).filter((s) => s.lastArrivalAt <= cutoff || complete(s));
  const settled: string[] = [];
  const studies = new Set<string>();
  for (const series of toSettle) {
    const order = orderSlices(store.instances.ofSeries(series.seriesUid));
    store.transaction(() => {
      store.instances.writeOrder(order);
      store.series.markReady(series.seriesUid, order.length);
      queueSeriesJob(store, opts.jobKind, series.seriesUid, order.length);
    });
    settled.push(series.seriesUid);
    studies.add(series.studyUid);
  }
  // Which series each study's networks read, among its settled series (assemble/select.ts).
  for (const studyUid of studies) store.series.setChoice(chooseSeries(store.series.facts(studyUid, { settledOnly: true })));
  return settled;
}

/** Series that waited for a model are ready again, each with its `jobKind` job; returns how many. */
export function requeueAwaitingSeries(store: Store, jobKind: string): number {
  const waiting = store.series.inState('awaiting_model');
  store.transaction(() => {
    for (const s of waiting) {
      store.series.setState(s.seriesUid, 'ready', null);
      queueSeriesJob(store, jobKind, s.seriesUid, s.sliceCount);
    }
  });
  return waiting.length;
}

/** Keyed by the slice count, so a series that grows after it was scored gets a new job. */
function queueSeriesJob(store: Store, kind: string, seriesUid: string, sliceCount: number): void {
  store.jobs.enqueue(kind, `${seriesUid}@${sliceCount}`, { seriesUid });
}

/**
 * Whether a series still arriving would be the one its study reads, were it settled now: only
 * such a series is scored provisionally.
 */
export function wouldBeRead(store: Store, studyUid: string, seriesUid: string): boolean {
  return chooseSeries(store.series.facts(studyUid, { settledOnly: false })).read === seriesUid;
}
