/**
 * A review made on one workstation, seen on another: two Stores connected to one PostgreSQL
 * database (two workstations of one reading room), a decision recorded on A, and B looking for it
 * as the app's API does — the store's data version (PostgreSQL: the change notices other
 * connections' commits send, migration 0008) read every `appPollMs`, and on a change the study's
 * worklist row read again.
 *
 * Input: the database URL (already filled: bench/worklist.ts), how many reviews each way, the
 * app's polling period. Output, median and p95 ms from the call of reviews.record() on A:
 * - notice: until B's worklist row shows the decision, B reading its data version every
 *   millisecond — what the database and the notices cost, without the app's polling wait;
 * - as the app sees it: the same, B reading its data version every `appPollMs` on a timer as the
 *   API does, each decision recorded at a different moment of B's polling period (so the figure
 *   includes, on average, half a period of waiting).
 */
import { Store } from '../src/main/store/index.js';
import { quantile } from './stats.js';
import { rng } from './worklist.js';

export interface LatencyFigures {
  reps: number;
  medianMs: number;
  p95Ms: number;
}

export interface ReviewPropagationBench {
  /** The API's period for reading the data version (src/main/api DEFAULT_EXTERNAL_POLL_MS). */
  appPollMs: number;
  /** record() on A → B's row shows the decision, B looking every millisecond. */
  notice: LatencyFigures;
  /** record() on A → B's row shows the decision, B looking every appPollMs as the app does. */
  asTheAppSees: LatencyFigures;
}

const REVIEWER_A = 'bench workstation A';
/** Far past any polling period: a decision not shown by then is lost, and the bench says so rather than hang. */
const GIVE_UP_MS = 30_000;

function figures(ms: number[]): LatencyFigures {
  return { reps: ms.length, medianMs: quantile(ms, 0.5), p95Ms: quantile(ms, 0.95) };
}

const shown = (b: Store, studyUid: string): boolean => b.worklist.query({ studyUid })[0]?.reviewStatus === 'confirmed';

/** Blocks the thread for `ms` (the connections' own threads keep running meanwhile). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export async function benchReviewPropagation(url: string, reviews: number, appPollMs: number): Promise<ReviewPropagationBench> {
  const a = Store.connect(url);
  const b = Store.connect(url);
  try {
    const studies = b.worklist.query({ reviewStatus: ['new'], sort: 'arrival', limit: 2 * reviews }).map((r) => r.studyUid);
    if (studies.length < 2 * reviews) throw new Error(`the database holds ${studies.length} new studies; ${2 * reviews} are needed`);
    const record = (studyUid: string) => a.reviews.record({ studyUid, reviewer: REVIEWER_A, decision: 'confirmed', subtypes: [], comment: '' });

    const noticeMs: number[] = [];
    for (const studyUid of studies.slice(0, reviews)) {
      pause(20); // earlier commits' notices are in before the next decision
      let seen = b.dataVersion();
      const t0 = performance.now();
      record(studyUid);
      // A notice of some other commit may come first: only the row showing the decision counts.
      for (;;) {
        if (performance.now() - t0 > GIVE_UP_MS) throw new Error(`a review on A did not show on B within ${GIVE_UP_MS} ms`);
        const v = b.dataVersion();
        if (v !== seen) {
          seen = v;
          if (shown(b, studyUid)) break;
        }
        pause(1);
      }
      noticeMs.push(performance.now() - t0);
    }

    // As the API polls (src/main/api TriageApiImpl.checkExternal): a timer every appPollMs.
    const appMs: number[] = [];
    const phase = rng(5);
    let lastVersion = b.dataVersion();
    let waiting: { studyUid: string; t0: number; done: () => void } | null = null;
    const timer = setInterval(() => {
      const v = b.dataVersion();
      if (v === lastVersion) return;
      lastVersion = v;
      if (waiting && shown(b, waiting.studyUid)) {
        appMs.push(performance.now() - waiting.t0);
        waiting.done();
        waiting = null;
      }
    }, appPollMs);
    try {
      for (const studyUid of studies.slice(reviews)) {
        // Each decision at another moment of B's period, as readers click when they click.
        await new Promise((r) => setTimeout(r, phase() * appPollMs));
        await new Promise<void>((done, fail) => {
          const late = setTimeout(() => fail(new Error(`a review on A did not show on B within ${GIVE_UP_MS} ms`)), GIVE_UP_MS);
          waiting = { studyUid, t0: performance.now(), done: () => (clearTimeout(late), done()) };
          record(studyUid);
        });
      }
    } finally {
      clearInterval(timer);
    }
    return { appPollMs, notice: figures(noticeMs), asTheAppSees: figures(appMs) };
  } finally {
    a.close();
    b.close();
  }
}
