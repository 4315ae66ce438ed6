/**
 * The benchmark's PostgreSQL half: a throwaway cluster of its own (test/postgres-server.ts, the
 * one the store's tests run on), one database in it filled as the SQLite worklist database is
 * (bench/worklist.ts), the worklist query timed on it, then a review made on one workstation timed
 * until another sees it (bench/review-propagation.ts). The cluster is removed afterwards.
 *
 * Where PostgreSQL's server binaries are absent both figures are skipped, with the reason.
 */
import { PostgresHandle } from '../src/main/store/postgres.js';
import { startThrowawayCluster } from '../test/postgres-server.js';
import { benchReviewPropagation, type ReviewPropagationBench } from './review-propagation.js';
import { benchWorklist, type WorklistBench } from './worklist.js';

export interface SkippedStage {
  skipped: string;
}

export interface PostgresBench {
  /** The server's bin folder (its major version is in the path on Debian), or null if skipped. */
  server: string | null;
  worklist: WorklistBench | SkippedStage;
  reviewPropagation: ReviewPropagationBench | SkippedStage;
}

export async function benchPostgres(
  rows: number,
  reps: { limited: number; full: number },
  reviews: number,
  appPollMs: number,
  log: (m: string) => void,
): Promise<PostgresBench> {
  const cluster = startThrowawayCluster();
  if ('missing' in cluster) {
    const skipped = { skipped: `${cluster.missing} not found` };
    log(`PostgreSQL: SKIPPED (${skipped.skipped})`);
    return { server: null, worklist: skipped, reviewPropagation: skipped };
  }
  try {
    const admin = new PostgresHandle(cluster.url);
    try {
      admin.exec('CREATE DATABASE worklist');
    } finally {
      admin.close();
    }
    const url = new URL(cluster.url);
    url.pathname = '/worklist';
    log(`worklist query on ${rows.toLocaleString('en')} studies, PostgreSQL (${cluster.bin})…`);
    const worklist = benchWorklist({ backend: 'postgres', url: url.href }, rows, reps);
    log(`a review on one workstation seen on another: ${reviews} reviews each way, the app polling every ${appPollMs} ms…`);
    const reviewPropagation = await benchReviewPropagation(url.href, reviews, appPollMs);
    return { server: cluster.bin, worklist, reviewPropagation };
  } finally {
    cluster.stop();
  }
}
