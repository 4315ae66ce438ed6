/**
 * One workstation in its own process, as the app starts one (startWorkstation: core, models,
 * watcher, API), for the end-to-end tests of several workstations on one database.
 *
 * Input: argv[2], JSON (WorkstationChildInput). Then one command a line on stdin, JSON:
 * `{ "worklist": true }` answers the worklist the workstation shows; `{ "review": NewReview }`
 * records a decision as this workstation's reader makes it. Output: one JSON object a line on
 * stdout: `{ "started": … }`, each core event that says where a series is
 * (`{ "event": { type, seriesUid } }`), and one answer per command (`{ "answer": … }` or
 * `{ "error": { name, message } }`). SIGTERM stops it the way the app stops.
 */
import { createInterface } from 'node:readline';
import type { NewReview } from '../../src/main/store/index.js';
import { startWorkstation } from '../../src/main/workstation.js';

export interface WorkstationChildInput {
  dataDir: string;
  database: string;
  sharedDir: string;
  modelsDir: string;
  importDir: string;
  settleMs: number;
  stableMs: number;
}

const input = JSON.parse(process.argv[2]!) as WorkstationChildInput;
const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

const ws = await startWorkstation({
  dataDir: input.dataDir,
  database: input.database,
  sharedDir: input.sharedDir,
  modelsDir: input.modelsDir,
  cuda: false,
  onModelError: 'throw',
  watch: input.importDir,
  core: { settleMs: input.settleMs, stableMs: input.stableMs },
  log: (m) => process.stderr.write(`${m}\n`),
});
ws.core.on((e) => {
  if (e.type === 'series-scored' || e.type === 'series-ready' || e.type === 'series-provisional') say({ event: { type: e.type, seriesUid: e.seriesUid } });
  if (e.type === 'file') say({ event: { type: 'file', outcome: e.outcome.outcome } });
  if (e.type === 'series-scoring') say({ event: { type: e.type, seriesUid: e.seriesUid, progress: e.progress } });
});
say({ started: { workstation: ws.core.workstation, modelsLoaded: ws.modelsLoaded } });

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const command = JSON.parse(line) as { worklist?: true; review?: NewReview };
  try {
    if (command.worklist) say({ answer: ws.core.worklist() });
    else if (command.review) say({ answer: ws.core.store.reviews.record(command.review) });
    else throw new Error(`unknown command ${line}`);
  } catch (err) {
    say({ error: { name: (err as Error).name, message: (err as Error).message } });
  }
});
process.once('SIGTERM', () => {
  lines.close();
  void ws.stop().then(() => process.exit(0));
});
