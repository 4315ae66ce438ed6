/**
 * The job queue on a real database: a job is its kind and key, queued once, claimed oldest first
 * by its own kind, requeued after a crash, retried after a failure or given up; the queue gives a
 * job back with the payload its caller queued and knows nothing of what a kind means. On
 * PostgreSQL, workstations sharing the queue each claim a different job and never wait on another.
 */
import { describe, expect, it } from 'vitest';
import { backendMissing, eachBackend, storeFactory } from '../../fixtures/store.js';

eachBackend('jobs', 'triage-jobs-', (fresh) => {
  it('requeues jobs that were running when the process died, and retries failed ones later', () => {
    const { store } = fresh();
    store.jobs.enqueue('infer-series', 's1@3', { seriesUid: 's1' });
    store.jobs.enqueue('infer-series', 's1@3', { seriesUid: 's1' }); // same work: queued once
    const job = store.jobs.claim('infer-series')!;
    expect(job).toEqual({ id: job.id, kind: 'infer-series', key: 's1@3', payload: '{"seriesUid":"s1"}', state: 'running', attempts: 1, lastError: null, claimedBy: null, leaseUntil: null });
    expect(store.jobs.claim('infer-series')).toBeUndefined();
    expect(store.jobs.requeueInterrupted()).toBe(1);
    const again = store.jobs.claim('infer-series')!;
    expect(again.id).toBe(job.id);
    store.jobs.fail(again.id, 'model crashed', 60_000);
    expect(store.jobs.claim('infer-series')).toBeUndefined(); // not before its retry time
    expect(store.jobs.claimable('infer-series')).toBe(0);
    expect(store.jobs.pending('infer-series')).toBe(1);
  });

  it('hands each kind only its own jobs, oldest first', () => {
    const { store } = fresh();
    store.jobs.enqueue('b-kind', 'x', { n: 1 });
    store.jobs.enqueue('a-kind', 'x', { n: 2 });
    store.jobs.enqueue('a-kind', 'y', { n: 3 });
    expect(store.jobs.claimable('a-kind')).toBe(2);
    expect(store.jobs.pending()).toBe(3);
    expect(JSON.parse(store.jobs.claim('a-kind')!.payload)).toEqual({ n: 2 });
    expect(JSON.parse(store.jobs.claim('a-kind')!.payload)).toEqual({ n: 3 });
    expect(store.jobs.claim('a-kind')).toBeUndefined();
    expect(store.jobs.claim('b-kind')!.key).toBe('x');
    expect(store.jobs.claim('c-kind')).toBeUndefined();
  });

  it('queues a done or given-up job again under its key, afresh; never one that waits or runs', () => {
    const { store, sql } = fresh();
    store.jobs.enqueue('k', 'done', {});
    store.jobs.complete(store.jobs.claim('k')!.id);
    expect(store.jobs.pending('k')).toBe(0);
    store.jobs.enqueue('k', 'done', {});
    expect(store.jobs.claim('k')).toMatchObject({ key: 'done', attempts: 1 });

    store.jobs.enqueue('k', 'broken', {});
    const broken = store.jobs.claim('k')!;
    store.jobs.fail(broken.id, 'contract broken', null);
    const row = () => sql((db) => db.prepare("SELECT state, attempts, last_error FROM jobs WHERE key = 'broken'").get());
    expect(row()).toEqual({ state: 'failed', attempts: 1, last_error: 'contract broken' });
    store.jobs.enqueue('k', 'broken', {});
    expect(row()).toEqual({ state: 'queued', attempts: 0, last_error: null });

    const running = store.jobs.claim('k')!;
    store.jobs.enqueue('k', 'broken', {});
    expect(store.jobs.claim('k')).toBeUndefined(); // still the one running
    expect(running.attempts).toBe(1);
  });

  it("records who claimed a job and its lease; a start requeues only its own or lapsed claims, never a live workstation's", () => {
    const { store, reopen, sql } = fresh();
    const a = { workstation: 'host-a:/data', leaseMs: 60_000 };
    const b = { workstation: 'host-b:/data', leaseMs: 60_000 };
    for (const key of ['1', '2', '3']) store.jobs.enqueue('infer-series', key, {});
    const before = Date.now();
    const ofA = store.jobs.claim('infer-series', a)!;
    expect(ofA).toMatchObject({ key: '1', claimedBy: 'host-a:/data' });
    expect(Date.parse(ofA.leaseUntil!) - before).toBeGreaterThanOrEqual(60_000);
    const second = reopen();
    const ofB = second.jobs.claim('infer-series', b)!;
    expect(ofB).toMatchObject({ key: '2', claimedBy: 'host-b:/data' });

    // Workstation a restarts: its own job is queued again, b's (lease holding) stays b's.
    expect(store.jobs.requeueInterrupted(a.workstation)).toBe(1);
    const state = (key: string) => sql((db) => db.prepare('SELECT state, claimed_by FROM jobs WHERE key = @key').get({ key }));
    expect(state('1')).toEqual({ state: 'queued', claimed_by: 'host-a:/data' });
    expect(state('2')).toEqual({ state: 'running', claimed_by: 'host-b:/data' });
    expect(store.jobs.claim('infer-series', a)).toMatchObject({ key: '1' });
    expect(store.jobs.claim('infer-series', a)).toMatchObject({ key: '3' });
    expect(store.jobs.claim('infer-series', a)).toBeUndefined(); // b's job is not taken while its lease holds
    expect(store.jobs.claimable('infer-series')).toBe(0);

    // b renews while it works; once b stops renewing and the lease runs out, its job is anyone's.
    expect(second.jobs.renew(ofB.id, b)).toBe(true);
    expect(store.jobs.renew(ofB.id, a)).toBe(false); // not a's to renew
    sql((db) => db.prepare("UPDATE jobs SET lease_until = '2000-01-01T00:00:00.000Z' WHERE key = '2'").run());
    expect(store.jobs.claimable('infer-series')).toBe(1); // a lapsed lease is work waiting, as a queued job is
    expect(store.jobs.claim('infer-series', a)).toMatchObject({ key: '2', claimedBy: 'host-a:/data', attempts: 2 });
    expect(second.jobs.renew(ofB.id, b)).toBe(false); // b hears it is no longer its own

    // A lapsed lease is requeued by whichever workstation starts.
    sql((db) => db.prepare("UPDATE jobs SET lease_until = '2000-01-01T00:00:00.000Z' WHERE key = '3'").run());
    expect(second.jobs.requeueInterrupted(b.workstation)).toBe(1);
    expect(state('3')).toEqual({ state: 'queued', claimed_by: 'host-a:/data' });
  });
});

const pgMissing = backendMissing('postgres');

describe.skipIf(pgMissing !== null)(`jobs on postgres, several workstations${pgMissing ? ` (missing: ${pgMissing})` : ''}`, () => {
  const fresh = pgMissing === null ? storeFactory('triage-jobs-pg-', 'postgres') : undefined;

  it('passes over a job another workstation is claiming, without waiting for it', () => {
    const { store, reopen, connection } = fresh!();
    store.jobs.enqueue('infer-series', 'a', {});
    store.jobs.enqueue('infer-series', 'b', {});
    // Another workstation in the middle of claiming job a: its row is locked until it commits.
    const claiming = connection();
    claiming.exec('BEGIN');
    claiming.prepare("SELECT id FROM jobs WHERE key = 'a' FOR UPDATE").get();
    const second = reopen();
    const started = Date.now();
    expect(second.jobs.claim('infer-series')).toMatchObject({ key: 'b', state: 'running' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(second.jobs.claim('infer-series')).toBeUndefined();
    claiming.exec('ROLLBACK');
    expect(store.jobs.claim('infer-series')).toMatchObject({ key: 'a', state: 'running' });
  });
});
