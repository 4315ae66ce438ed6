/**
 * Two workstations, one worklist: two workstation processes (test/e2e/workstation-child.ts, each
 * as the app starts one) on one PostgreSQL database of the run's test cluster, sharing a folder for
 * the HU copies. A phantom study lands in both import folders and one more in each; across the two,
 * each series is scored once and its predictions stored once per slice and model; both worklists
 * agree within a second; two readers deciding on what they both saw get one decision recorded and
 * the other a ReviewConflict naming who decided what and when. The network is EfficientNet-B3 alone
 * (the fastest shipped one), so this runs in well under a minute on two shared cores.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { Store, type NewReview } from '../../src/main/store/index.js';
import type { WorklistRow } from '../../src/shared/api.js';
import { backendMissing, freshPostgresDatabase } from '../fixtures/store.js';
import { modelsFolderWith, phantomSlices, REPO_ROOT, tempDir } from '../helpers.js';
import type { WorkstationChildInput } from './workstation-child.js';

const missing = backendMissing('postgres');
const dir = tempDir('triage-two-ws-');

type Message =
  | { started: { workstation: string; modelsLoaded: number } }
  | { event: { type: string; seriesUid?: string; outcome?: string; progress?: { done: number; total: number } } }
  | { answer: unknown }
  | { error: { name: string; message: string } };

/** A workstation process and what it has said so far. */
class Workstation {
  readonly said: Message[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  stderr = '';

  constructor(input: WorkstationChildInput) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'e2e', 'workstation-child.ts'), JSON.stringify(input)], {
      cwd: REPO_ROOT,
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.said.push(JSON.parse(line) as Message);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.on('exit', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Resolves once `test` holds of what the process said; fails after `ms` with its stderr. */
  async until(test: (said: Message[]) => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!test(this.said)) {
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`${what}: not seen within ${ms} ms; stderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  async ask(command: { worklist: true } | { review: NewReview }): Promise<Message> {
    const before = this.said.length;
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
    await this.until((s) => s.slice(before).some((m) => 'answer' in m || 'error' in m), 10_000, `answer to ${JSON.stringify(command)}`);
    return this.said.slice(before).find((m) => 'answer' in m || 'error' in m)!;
  }

  /** Slice runs of the networks this workstation did: each scoring run's last progress says how many. */
  sliceRuns(): number {
    let runs = 0;
    let last: { done: number; total: number } | undefined;
    for (const m of this.said) {
      if (!('event' in m) || m.event.type !== 'series-scoring') continue;
      const p = m.event.progress!;
      if (last && p.done <= last.done) runs += last.done; // a new run began
      last = p;
    }
    return runs + (last?.done ?? 0);
  }

  scored(): string[] {
    return this.said.flatMap((m) => ('event' in m && m.event.type === 'series-scored' ? [m.event.seriesUid!] : []));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** What both screens must agree on: the order and each row's score, state and review. */
const shown = (rows: WorklistRow[]) => rows.map((r) => ({ studyUid: r.studyUid, score: r.score, state: r.state, reviewStatus: r.reviewStatus }));

describe.skipIf(missing !== null)(`two workstations on one PostgreSQL database${missing ? ` (missing: ${missing})` : ''}`, () => {
  const running: Workstation[] = [];
  afterAll(async () => {
    await Promise.all(running.map((w) => w.stop()));
    dir.cleanup();
  });

  it('score each series once between them, agree on the worklist within a second, and surface a review conflict', async () => {
    const database = freshPostgresDatabase('two_workstations');

    // The shipped EfficientNet-B3 alone, its file linked, not copied.
    const modelsDir = modelsFolderWith(join(dir.path, 'models'), 'efficientnet_b3');

    const sharedDir = join(dir.path, 'share');
    mkdirSync(sharedDir);
    const stations = ['a', 'b'].map((n) => {
      const importDir = join(dir.path, `import-${n}`);
      mkdirSync(importDir);
      const input = { dataDir: join(dir.path, `data-${n}`), database, sharedDir, modelsDir, importDir, settleMs: 1500, stableMs: 300 };
      const w = new Workstation(input);
      running.push(w);
      return { w, importDir };
    });
    const [a, b] = stations as [(typeof stations)[0], (typeof stations)[0]];
    const both = phantomSlices(join(dir.path, 'both'), 41, 4);
    const onlyA = phantomSlices(join(dir.path, 'only-a'), 42, 4);
    const onlyB = phantomSlices(join(dir.path, 'only-b'), 43, 4);
    await Promise.all(stations.map(({ w }) => w.until((s) => s.some((m) => 'started' in m), 60_000, 'start')));
    for (const { w } of stations) expect(w.said.find((m) => 'started' in m)).toMatchObject({ started: { modelsLoaded: 1 } });

    const drop = (files: string[], into: string, tag: string) => files.forEach((f) => copyFileSync(f, join(into, `${tag}-${basename(f)}`)));
    drop(both, a.importDir, 'both');
    drop(both, b.importDir, 'both');
    drop(onlyA, a.importDir, 'a');
    drop(onlyB, b.importDir, 'b');

    const reader = Store.connect(database);
    try {
      const seriesCount = () => (reader.worklist.query().length === 3 ? 3 : 0);
      const allScored = () => new Set([...a.w.scored(), ...b.w.scored()]).size === 3 && seriesCount() === 3;
      await a.w.until(allScored, 60_000, 'three series scored between the two workstations');
      // Time for a second scoring of any series to show up, were there one.
      await new Promise((r) => setTimeout(r, 2_000));
      const scored = [...a.w.scored(), ...b.w.scored()];
      expect(scored.sort()).toEqual([...new Set(scored)].sort()); // each series once, across both
      // And each slice run once across both, provisional runs included: 12 slices, one network.
      expect(a.w.sliceRuns() + b.w.sliceRuns()).toBe(12);
      expect(a.w.stderr + b.w.stderr).not.toMatch(/inference failed/);

      // Predictions once per slice and model: 12 slices, one network.
      const stored = reader.predictions.all();
      expect([...stored.keys()]).toEqual(['efficientnet_b3']);
      expect(stored.get('efficientnet_b3')!.map((p) => p.sopUid).sort()).toEqual([...new Set(stored.get('efficientnet_b3')!.map((p) => p.sopUid))].sort());
      expect(stored.get('efficientnet_b3')).toHaveLength(12);

      // Both screens show the same worklist within a second of the last score.
      const deadline = Date.now() + 1_000;
      let listA: WorklistRow[] = [];
      let listB: WorklistRow[] = [];
      do {
        listA = (await a.w.ask({ worklist: true }) as { answer: WorklistRow[] }).answer;
        listB = (await b.w.ask({ worklist: true }) as { answer: WorklistRow[] }).answer;
      } while (JSON.stringify(shown(listA)) !== JSON.stringify(shown(listB)) && Date.now() < deadline);
      expect(shown(listB)).toEqual(shown(listA));
      expect(listA.map((r) => r.state)).toEqual(['scored', 'scored', 'scored']);

      // Two readers decide on the same study, each on what they saw (no decision yet).
      const studyUid = listA[0]!.studyUid;
      const first = await a.w.ask({ review: { studyUid, reviewer: 'dr-a', decision: 'confirmed', subtypes: ['subdural'], comment: '', after: null } });
      expect(first).toMatchObject({ answer: { reviewStatus: 'confirmed', review: { reviewer: 'dr-a' } } });
      const second = await b.w.ask({ review: { studyUid, reviewer: 'dr-b', decision: 'dismissed', subtypes: [], comment: '', after: null } });
      const at = (first as { answer: { review: { createdAt: string } } }).answer.review.createdAt;
      expect(second).toEqual({ error: { name: 'ReviewConflict', message: `study ${studyUid} was decided meanwhile: confirmed by dr-a at ${at}` } });
      expect(reader.reviews.ofStudy(studyUid).map((r) => `${r.reviewer}:${r.decision}`)).toEqual(['dr-a:confirmed']);
      const seenByB = (await b.w.ask({ worklist: true }) as { answer: WorklistRow[] }).answer.find((r) => r.studyUid === studyUid);
      expect(seenByB?.reviewStatus).toBe('confirmed');
    } finally {
      reader.close();
    }
  });
});
