/**
 * A workstation that claims a job and dies holding it, for the job lease tests
 * (job-leases.test.ts): in its own process, it imports a folder with a scorer that never finishes,
 * says `{ "scoring": seriesUid }` on stdout when the job's run begins, and stays there, renewing
 * its lease, until it is killed (SIGKILL: no goodbye to the database, as a power cut).
 *
 * Input: argv[2], JSON (JobHolderInput).
 */
import { compose } from '../../../src/main/core.js';
import type { SeriesScorer } from '../../../src/main/inference/index.js';

export interface JobHolderInput {
  dataDir: string;
  database: string;
  sharedDir: string;
  inbox: string;
  jobLeaseMs: number;
}

const input = JSON.parse(process.argv[2]!) as JobHolderInput;

const neverFinishes: SeriesScorer = {
  describe: () => 'a scorer that never finishes',
  scoreSeries: (seriesUid) => {
    process.stdout.write(`${JSON.stringify({ scoring: seriesUid })}\n`);
    return new Promise<void>(() => {});
  },
  close: () => Promise.resolve(),
};

const core = compose({
  dataDir: input.dataDir,
  database: input.database,
  sharedDir: input.sharedDir,
  scorer: neverFinishes,
  jobLeaseMs: input.jobLeaseMs,
  settleMs: 0,
  log: (m) => process.stderr.write(`${m}\n`),
});
// Kept alive by the lease renewal while the job "runs"; this holds it should that ever change.
setInterval(() => {}, 1 << 30);
void core.importFolder(input.inbox);
