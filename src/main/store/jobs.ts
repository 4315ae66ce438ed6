/**
 * The persistent job queue (table `jobs`): work that must survive a crash or a restart, run at
 * least once by idempotent handlers. A job is named by its kind and a key its caller chooses; the
 * queue knows nothing of what a kind means.
 *
 * Several workstations may share the queue (PostgreSQL): a claim records the workstation and a
 * lease, which the claimant renews while it works. A running job whose lease ran out belongs to a
 * workstation that died or lost the database: any workstation takes it again, at its next claim or
 * start. A live workstation's running jobs are never taken from it.
 */
import type { SqlHandle } from './handle.js';
import { nowIso } from './handle.js';
import { claimRowLock } from './dialect.js';

export interface JobRow {
  id: number;
  kind: string;
  key: string;
  /** JSON, as the caller queued it. */
  payload: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  attempts: number;
  lastError: string | null;
  /** The workstation that claimed it last (JobClaimant.workstation); null if claimed without one. */
  claimedBy: string | null;
  /** Until when that claim holds (ISO time); null if claimed without a lease. */
  leaseUntil: string | null;
}

/** Who claims a job, and for how long the claim holds unless renewed. */
export interface JobClaimant {
  /** Names the workstation, stable across its restarts (the core: host and data folder). */
  workstation: string;
  leaseMs: number;
}

function toJobRow(r: Record<string, unknown>): JobRow {
  return {
    id: r.id as number,
    kind: r.kind as string,
    key: r.key as string,
    payload: r.payload as string,
    state: r.state as JobRow['state'],
    attempts: r.attempts as number,
    lastError: (r.last_error as string | null) ?? null,
    claimedBy: (r.claimed_by as string | null) ?? null,
    leaseUntil: (r.lease_until as string | null) ?? null,
  };
}

/**
 * What `claim` may hand out at @now: a job queued and past its retry time, or one running under a
 * lease that ran out (its claimant died or lost the database). `claimable` counts the same rows.
 */
const CLAIMABLE_AT_NOW = `((state = 'queued' AND (not_before IS NULL OR not_before <= @now)) OR (state = 'running' AND lease_until < @now))`;

export class JobRepository {
  constructor(private readonly db: SqlHandle) {}

  /** Queues a job; the same kind and key queued again while it waits or runs is the same job. */
  enqueue(kind: string, key: string, payload: object): void {
    const at = nowIso();
    this.db
      .prepare(
        `INSERT INTO jobs (kind, key, payload, state, created_at, updated_at) VALUES (@kind, @key, @payload, 'queued', @at, @at)
         ON CONFLICT(kind, key) DO UPDATE SET state = 'queued', attempts = 0, last_error = NULL, updated_at = excluded.updated_at
         WHERE jobs.state IN ('done', 'failed')`,
      )
      .run({ kind, key, payload: JSON.stringify(payload), at });
  }

  /**
   * How many jobs of a kind `claim` would hand out now: queued (past their retry time), or running
   * under a lease that ran out (their claimant died or lost the database), so a workstation that
   * polls this takes over a dead one's work without waiting for a restart.
   */
  claimable(kind: string): number {
    const row = this.db
      .prepare(`SELECT COUNT(*) AS n FROM jobs WHERE kind = @kind AND ${CLAIMABLE_AT_NOW}`)
      .get({ kind, now: nowIso() }) as { n: number };
    return row.n;
  }

  /**
   * Takes the oldest job of a kind that is queued, or running under a lease that ran out (its
   * claimant died); it stays 'running' until completed or failed. On PostgreSQL, the oldest no
   * other workstation is claiming at this moment (dialect.ts). With a claimant, the claim records
   * it and its lease.
   */
  claim(kind: string, claimant?: JobClaimant): JobRow | undefined {
    const now = new Date();
    const at = now.toISOString();
    const claimedBy = claimant?.workstation ?? null;
    const leaseUntil = claimant ? new Date(now.getTime() + claimant.leaseMs).toISOString() : null;
    return this.db.transaction(() => {
      const row = this.db
        .prepare(`SELECT * FROM jobs WHERE kind = @kind AND ${CLAIMABLE_AT_NOW} ORDER BY id LIMIT 1 ${claimRowLock(this.db)}`)
        .get({ kind, now: at }) as Record<string, unknown> | undefined;
      if (!row) return undefined;
      const job = toJobRow(row);
      this.db
        .prepare(
          "UPDATE jobs SET state = 'running', attempts = attempts + 1, claimed_by = @claimedBy, lease_until = @leaseUntil, updated_at = @at WHERE id = @id",
        )
        .run({ at, id: job.id, claimedBy, leaseUntil });
      return { ...job, state: 'running' as const, attempts: job.attempts + 1, claimedBy, leaseUntil };
    })();
  }

  /**
   * Extends the lease of a job the claimant is running; false when the job is no longer its own
   * (done, or taken by another workstation after the lease ran out).
   */
  renew(id: number, claimant: JobClaimant): boolean {
    const leaseUntil = new Date(Date.now() + claimant.leaseMs).toISOString();
    return (
      this.db
        .prepare("UPDATE jobs SET lease_until = @leaseUntil WHERE id = @id AND state = 'running' AND claimed_by = @workstation")
        .run({ id, leaseUntil, workstation: claimant.workstation }).changes === 1
    );
  }

  complete(id: number): void {
    this.db.prepare("UPDATE jobs SET state = 'done', last_error = NULL, updated_at = @at WHERE id = @id").run({ at: nowIso(), id });
  }

  /** Records the error; the job is retried after `retryAfterMs`, or never when that is null. */
  fail(id: number, error: string, retryAfterMs: number | null): void {
    const at = new Date();
    const notBefore = retryAfterMs === null ? null : new Date(at.getTime() + retryAfterMs).toISOString();
    this.db
      .prepare('UPDATE jobs SET state = @state, last_error = @error, not_before = @notBefore, updated_at = @at WHERE id = @id')
      .run({ state: retryAfterMs === null ? 'failed' : 'queued', error, notBefore, at: at.toISOString(), id });
  }

  /**
   * At a workstation's start, jobs it was running when it stopped, and jobs whose lease ran out,
   * are queued again (at-least-once, idempotent handlers); another workstation's running jobs under
   * a lease that holds are left to it. Without `workstation` (one writer: SQLite's data folder
   * lock), every running job is.
   */
  requeueInterrupted(workstation?: string): number {
    const at = nowIso();
    const sql =
      workstation === undefined
        ? "UPDATE jobs SET state = 'queued', updated_at = @at WHERE state = 'running'"
        : `UPDATE jobs SET state = 'queued', updated_at = @at WHERE state = 'running'
             AND (claimed_by IS NULL OR claimed_by = @workstation OR lease_until IS NULL OR lease_until < @at)`;
    return this.db.prepare(sql).run(workstation === undefined ? { at } : { at, workstation }).changes;
  }

  /** Jobs of a kind queued or running; of every kind when `kind` is omitted. */
  pending(kind?: string): number {
    const sql =
      kind === undefined
        ? "SELECT COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running')"
        : "SELECT COUNT(*) AS n FROM jobs WHERE kind = @kind AND state IN ('queued', 'running')";
    return (this.db.prepare(sql).get(kind === undefined ? {} : { kind }) as { n: number }).n;
  }
}
