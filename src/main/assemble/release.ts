/**
 * A sender's A-RELEASE as the end of a series. Input: the receiver's stored slices, each with the
 * association it came in, and the end of each association. Output: the series a released
 * association completed, which settle `graceMs` after the release instead of the whole settle wait
 * after their last slice (assemble/index.ts settleSeries).
 *
 * Why: a scanner or PACS pushing a study opens an association, stores the series and releases it
 * (PS3.7 D.3.3.3): the release says the sender has sent what it meant to. Waiting the full settle
 * period after that only delays the final score. The release counts only when it can speak for
 * the whole series: the association carried every slice the store holds of it, and more than one
 * (senders configured for one association a slice, or splitting a series over several
 * associations, keep the settle wait). A slice arriving later still sends the series back to
 * 'receiving' and it is scored again (store/series.ts recordArrival), as with the settle wait.
 */

/** Default wait after a release before its series settle: a sender's next association for the same series has begun by then. */
export const DEFAULT_RELEASE_SETTLE_MS = 2_000;

/** An association that carried fewer slices of a series says nothing about the series' end. */
export const MIN_SLICES_FOR_RELEASE = 2;

/** A released association's claim on one series: it carried `slices` of it, released at `releasedAt` (ISO). */
export interface ReleaseMark {
  releasedAt: string;
  slices: number;
}

export class ReleasedSeries {
  /** Slices of each series stored from each association still open, by association number. */
  private readonly carried = new Map<number, Map<string, number>>();
  private readonly marks = new Map<string, ReleaseMark & { atMs: number }>();

  constructor(readonly graceMs: number = DEFAULT_RELEASE_SETTLE_MS) {}

  /** A slice of `seriesUid` came in `association` and is in the store (stored now, or already). */
  carriedSlice(association: number, seriesUid: string): void {
    let series = this.carried.get(association);
    if (!series) this.carried.set(association, (series = new Map()));
    series.set(seriesUid, (series.get(seriesUid) ?? 0) + 1);
  }

  /** The association ended; a release marks the series it carried enough of. */
  ended(association: number, released: boolean, now: Date = new Date()): void {
    const series = this.carried.get(association);
    this.carried.delete(association);
    if (!released || !series) return;
    for (const [seriesUid, slices] of series) {
      if (slices >= MIN_SLICES_FOR_RELEASE) this.marks.set(seriesUid, { releasedAt: now.toISOString(), slices, atMs: now.getTime() });
    }
  }

  /**
   * Marks whose grace has passed, taken out: settleSeries settles each series that still has no
   * slice beyond what its association carried; the others wait for the settle period as usual.
   */
  takeDue(now: Date = new Date()): Map<string, ReleaseMark> {
    const due = new Map<string, ReleaseMark>();
    for (const [seriesUid, mark] of this.marks) {
      if (now.getTime() - mark.atMs < this.graceMs) continue;
      due.set(seriesUid, { releasedAt: mark.releasedAt, slices: mark.slices });
      this.marks.delete(seriesUid);
    }
    return due;
  }

  /** Milliseconds until the next mark is due; undefined when none waits. */
  nextDueInMs(now: Date = new Date()): number | undefined {
    let next: number | undefined;
    for (const mark of this.marks.values()) {
      const left = Math.max(0, mark.atMs + this.graceMs - now.getTime());
      next = next === undefined ? left : Math.min(next, left);
    }
    return next;
  }
}
