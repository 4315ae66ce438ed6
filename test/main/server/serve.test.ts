/**
 * The loopback server and the API implementation without a browser: loopback-only binding and
 * the request defences, reviews (status, history, audit log), CSV export, filters, settings,
 * slices, and server-sent events. Real core, real SQLite, real DICOM (cloned corpus slices).
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose } from '../../../src/main/core.js';
import { readHuFile } from '../../../src/main/store/index.js';
import { csvCell } from '../../../src/main/api/index.js';
import { errorFromReply } from '../../../src/shared/api.js';
import { familyThresholds } from '../../../src/main/triage/index.js';
import { ensureRendererBuilt } from '../../../src/main/server/renderer-build.js';
import { serve, type Serving } from '../../../src/main/server/serve.js';
import { makeSeries, probs, putStudyScore, type FixtureStudy } from '../../fixtures/studies.js';
import { withDatabase } from '../../helpers.js';

const S1: FixtureStudy = {
  studyUid: '1.2.826.0.1.3680043.10.2.1',
  seriesUid: '1.2.826.0.1.3680043.10.2.1.2',
  patientName: 'SMITH^ANNA, JR',
  patientId: '=cmd|calc',
  accession: 'X1',
  description: 'CT HEAD',
  slices: 3,
};
const S2: FixtureStudy = { ...S1, studyUid: '1.2.826.0.1.3680043.10.2.2', seriesUid: '1.2.826.0.1.3680043.10.2.2.2', patientName: 'LEE^BO', patientId: 'P2', accession: 'X2' };

const POLICY_MANIFEST = {
  models: [],
  ensembles: [],
  ranking: {
    family: 'ensemble',
    reason: 'ensemble measured best on the threshold set',
    thresholds: {
      ensemble: { any: 0.4, epidural: 0.3, intraparenchymal: 0.3, intraventricular: 0.3, subarachnoid: 0.3, subdural: 0.7 },
      convlstm: { any: 0.6, epidural: 0.5, intraparenchymal: 0.5, intraventricular: 0.5, subarachnoid: 0.5, subdural: 0.5 },
    },
  },
};

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end(opts.body);
  });
}

describe('the loopback server and the API', () => {
  let root: string;
  let s: Serving;
  let port: number;
  const post = (method: string, body: unknown, headers: Record<string, string> = {}) =>
    raw(port, {
      method: 'POST',
      path: `/api/${method}`,
      headers: { 'Content-Type': 'application/json', 'X-Triage-Token': s.token, ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'triage-server-'));
    const dataDir = join(root, 'data');
    makeSeries(join(root, 'in'), [S1, S2]);
    const core = compose({ dataDir, settleMs: 0 });
    await core.importFolder(join(root, 'in'));
    putStudyScore(core.store, S1.studyUid, 'ranking', probs({ any: 0.7, subdural: 0.66 }));
    putStudyScore(core.store, S2.studyUid, 'ranking', probs({ any: 0.2 }));
    await core.stop();
    // The triage policy this test flags by: a manifest with a measured ranking record and no models.
    const modelsDir = join(root, 'models');
    mkdirSync(modelsDir);
    writeFileSync(join(modelsDir, 'manifest.json'), JSON.stringify(POLICY_MANIFEST));
    const rendererDir = await ensureRendererBuilt(join(root, 'renderer'));
    s = await serve({ dataDir, rendererDir, models: false, modelsDir });
    port = s.server.port;
  });

  afterAll(async () => {
    await s?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only', () => {
    expect((s.server.server.address() as AddressInfo).address).toBe('127.0.0.1');
    expect(s.url.startsWith(`http://127.0.0.1:${port}/`)).toBe(true);
  });

  it('serves the renderer with a strict CSP and refuses paths outside it', async () => {
    const index = await raw(port, { path: '/' });
    expect(index.status).toBe(200);
    expect(index.body).toContain('<div id="root">');
    expect(String(index.headers['content-security-policy'])).toMatch(/default-src 'none'.*script-src 'self'/);
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect((await raw(port, { path: '/%2e%2e/%2e%2e/package.json' })).status).toBe(404);
    expect((await raw(port, { path: '/..%2f..%2fpackage.json' })).status).toBe(404);
  });

  it('answers the API only with the per-launch token; the page itself needs none', async () => {
    expect(s.url).toBe(`http://127.0.0.1:${port}/?token=${s.token}`);
    expect(s.token.length).toBeGreaterThanOrEqual(40);
    expect((await post('status', {}, { 'X-Triage-Token': '' })).status).toBe(401);
    expect((await post('status', {}, { 'X-Triage-Token': `${s.token.slice(0, -1)}x` })).status).toBe(401);
    expect((await raw(port, { path: '/api/events' })).status).toBe(401);
    expect((await post('status', {})).status).toBe(200);
    expect((await raw(port, { path: '/' })).status).toBe(200);
  });

  it('records decisions and setting changes only for a signed-in reviewer, under their name', async () => {
    const refused = await post('review', { studyUid: S1.studyUid, decision: 'confirmed' });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error).toMatch(/sign in as a reviewer to record a decision/);
    expect((await post('updateSettings', { rankingModel: 'convlstm' })).status).toBe(403);
    expect((await post('signIn', { name: 'Dr Nobody' })).status).toBe(404); // not a local reviewer yet
    expect((await post('signIn', { name: 'Dr\nForged' , create: true })).status).toBe(400);
    const session = await s.api.signIn({ name: 'Dr A', create: true });
    expect(session).toEqual({ reviewer: 'Dr A', reviewers: ['Dr A'] });
    await s.api.updateSettings({ importFolder: null });
    const last = withDatabase(s.core.dataDir, (db) => db.prepare('SELECT actor, action FROM audit_log ORDER BY id DESC LIMIT 1').get());
    expect(last).toEqual({ actor: 'Dr A', action: 'settings.importFolder' });
  });

  it('takes an import folder only when it is a real, non-system directory and the user confirmed it', async () => {
    await expect(s.api.updateSettings({ importFolder: '/etc', confirmImportFolder: true })).rejects.toThrow(/system folder/);
    await expect(s.api.updateSettings({ importFolder: join(root, 'in', '..', '..', '..', '..', '..', '..', 'etc'), confirmImportFolder: true })).rejects.toThrow(/system folder/);
    await expect(s.api.updateSettings({ importFolder: join(root, 'nowhere'), confirmImportFolder: true })).rejects.toThrow(/does not exist/);
    await expect(s.api.updateSettings({ importFolder: join(root, 'data'), confirmImportFolder: true })).rejects.toThrow(/inside the data folder/);
    await expect(s.api.updateSettings({ importFolder: join(root, 'in') })).rejects.toThrow(/confirm the new import folder/);
    expect((await s.api.getSettings({})).importFolder).toBeNull();
    const ok = await s.api.updateSettings({ importFolder: join(root, 'in'), confirmImportFolder: true });
    expect(ok.importFolder).toBe(join(root, 'in'));
    await s.api.updateSettings({ importFolder: null });
  });

  it('refuses other Host names (DNS rebinding), other origins, GETs, non-JSON and unknown methods', async () => {
    expect((await raw(port, { path: '/', headers: { Host: 'evil.example:80' } })).status).toBe(421);
    expect((await post('status', {}, { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await post('status', {}, { Origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    expect((await raw(port, { path: '/api/status', headers: { 'X-Triage-Token': s.token } })).status).toBe(405);
    expect((await raw(port, { method: 'POST', path: '/api/status', headers: { 'Content-Type': 'text/plain', 'X-Triage-Token': s.token }, body: '{}' })).status).toBe(415);
    expect((await post('dropTables', {})).status).toBe(404);
    expect((await raw(port, { method: 'POST', path: '/api/status', headers: { 'Content-Type': 'application/json', 'X-Triage-Token': s.token }, body: '{' })).status).toBe(400);
    const bad = await post('worklist', { sort: 'sideways' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: expect.stringMatching(/invalid worklist request/) });
    expect((await post('study', { studyUid: '9.9' })).status).toBe(404);
  });

  it('answers 413 to a body over the limit, declared or streamed, and keeps serving', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) });
    const declared = await post('status', JSON.parse(big) as unknown);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ error: expect.stringMatching(/over the \d+-byte limit/) });
    const streamed = await new Promise<number>((ok, fail) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/status',
          headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'X-Triage-Token': s.token },
        },
        (res) => {
          res.resume();
          ok(res.statusCode ?? 0);
        },
      );
      req.on('error', fail);
      for (let i = 0; i < 32; i++) req.write('x'.repeat(64 * 1024));
      req.end();
    });
    expect(streamed).toBe(413);
    expect((await post('status', {})).status).toBe(200);
  });

  it('serves slices as int16 HU, identical to the slice store', async () => {
    const detail = await s.api.study({ studyUid: S1.studyUid });
    const first = detail.series[0]!.slices[0]!;
    const r = JSON.parse((await post('slice', { instanceId: first.instanceId })).body) as { rows: number; huBase64: string };
    expect(r.rows).toBe(512);
    const bytes = Buffer.from(r.huBase64, 'base64');
    const rel = withDatabase(s.core.dataDir, (db) => db.prepare('SELECT hu_path FROM instances WHERE id = ?').get(first.instanceId)) as {
      hu_path: string;
    };
    expect(bytes.equals(Buffer.from(readHuFile(s.core.dataDir, rel.hu_path).buffer))).toBe(true);
  });

  it('records reviews with status, history and audit entries; re-opening works', async () => {
    const events: string[] = [];
    const off = s.api.onEvent((e) => events.push(e.type === 'changed' ? e.reason : e.type));
    await s.api.signIn({ name: 'Dr A' });
    await s.api.review({ studyUid: S1.studyUid, decision: 'in_review' });
    const confirmed = await s.api.review({ studyUid: S1.studyUid, decision: 'confirmed', subtypes: ['subdural', 'subdural'], comment: '=HYPERLINK("x")' });
    expect(confirmed.reviewStatus).toBe('confirmed');
    expect(confirmed.review.subtypes).toEqual(['subdural']);
    let rows = (await s.api.worklist({ status: 'reviewed' })).rows;
    expect(rows.map((r) => r.studyUid)).toEqual([S1.studyUid]);
    expect(rows[0]!.lastReview).toMatchObject({ reviewer: 'Dr A', decision: 'confirmed' });

    const csv = await s.api.exportCsv({});
    expect(csv.rowCount).toBe(1);
    const line = csv.csv.split('\r\n')[1]!;
    expect(line).toContain('"SMITH^ANNA, JR"');
    expect(line).toContain("'=cmd|calc"); // formula injection defused
    expect(line).toContain(`"'=HYPERLINK(""x"")"`);
    expect(line).toContain(',subdural,');

    await s.api.signIn({ name: 'Dr B', create: true });
    const reopened = await s.api.review({ studyUid: S1.studyUid, decision: 'reopened', comment: 'second look' });
    expect(reopened.reviewStatus).toBe('in_review');
    rows = (await s.api.worklist({ status: 'unreviewed' })).rows;
    expect(rows.map((r) => r.studyUid)).toEqual([S1.studyUid, S2.studyUid]);
    const history = (await s.api.study({ studyUid: S1.studyUid })).reviews.map((r) => `${r.decision}:${r.reviewer}`);
    expect(history).toEqual(['in_review:Dr A', 'confirmed:Dr A', 'reopened:Dr B']);
    const audit = withDatabase(s.core.dataDir, (db) => db.prepare("SELECT action, actor FROM audit_log WHERE action LIKE 'review.%' ORDER BY id").all());
    expect(audit).toEqual([
      { action: 'review.in_review', actor: 'Dr A' },
      { action: 'review.confirmed', actor: 'Dr A' },
      { action: 'review.reopened', actor: 'Dr B' },
    ]);
    expect(() => withDatabase(s.core.dataDir, (db) => db.prepare('DELETE FROM audit_log').run())).toThrow(/append-only/);
    off();
    expect(events.filter((e) => e === 'review')).toHaveLength(3);
    await expect(s.api.review({ studyUid: '1.2.3.404', decision: 'confirmed' })).rejects.toThrow(/no study/);
  });

  it('flags by the manifest\'s operating thresholds of the measured family, the numbers evaluate uses', async () => {
    const before = await s.api.getSettings({});
    expect(before.rankingModel).toBe('ensemble');
    expect(before.rankingDefault).toBe('ensemble');
    expect(before.rankingReason).toContain('measured best');
    expect(Object.values(before.thresholds)).toEqual(familyThresholds(POLICY_MANIFEST, 'ensemble'));
    expect(Object.values(before.thresholdSources).every((v) => v === 'model')).toBe(true);
    const wl = await s.api.worklist({});
    expect(wl.rankingModel).toBe('ensemble');
    expect(wl.thresholds.any).toBe(0.4);
    // S1: any 0.7 ≥ 0.4 flags; S2: any 0.2 does not
    expect(wl.rows.filter((r) => r.flagged).map((r) => r.studyUid)).toEqual([S1.studyUid]);
  });

  it('filters by flag and arrival date; thresholds and ranking family are settings', async () => {
    expect((await s.api.worklist({ flaggedOnly: true })).rows.map((r) => r.studyUid)).toEqual([S1.studyUid]);
    const settings = await s.api.updateSettings({ thresholds: { any: 0.15 }, rankingModel: 'convlstm' });
    expect(settings.thresholds.any).toBe(0.15);
    expect(settings.thresholdSources.any).toBe('site');
    expect(settings.thresholds.subdural).toBe(0.5); // the Conv-LSTM's operating threshold from the manifest
    expect(settings.thresholdSources.subdural).toBe('model');
    expect(settings.rankingModel).toBe('convlstm');
    expect(settings.rankingReason).toContain('chosen in Settings');
    expect(s.core.store.settings.get('rankingModel')).toBe('convlstm');
    expect(settings.providers).toEqual([]); // no model loaded in this test
    expect((await s.api.worklist({ flaggedOnly: true })).rows).toHaveLength(2);
    const reset = await s.api.updateSettings({ thresholds: { any: null } });
    expect(reset.thresholds.any).toBe(0.6);
    expect(reset.thresholdSources.any).toBe('model');
    await s.api.updateSettings({ thresholds: { any: 0.15 } });
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const today = new Date().toISOString().slice(0, 10);
    expect((await s.api.worklist({ from: tomorrow })).rows).toHaveLength(0);
    expect((await s.api.worklist({ from: today, to: today })).rows).toHaveLength(2);
    expect((await s.api.worklist({ sort: 'arrival' })).rows).toHaveLength(2);
  });

  it('pushes change events over server-sent events', async () => {
    const got = new Promise<string>((ok, fail) => {
      const req = request({ host: '127.0.0.1', port, path: `/api/events?token=${s.token}` }, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (c: string) => {
          buf += c;
          const m = /data: (.*)\n\n/.exec(buf);
          if (m) {
            ok(m[1]!);
            req.destroy();
          }
        });
      });
      req.on('error', (e) => (e.message.includes('aborted') || e.message.includes('socket hang up') ? undefined : fail(e)));
      req.end();
      setTimeout(() => void s.api.review({ studyUid: S2.studyUid, decision: 'dismissed' }), 200);
    });
    expect(JSON.parse(await got)).toMatchObject({ type: 'changed', reason: 'review', studyUid: S2.studyUid });
  });

  it('refuses a decision made on what the reader saw when another came since: 409 with the other decision', async () => {
    await s.api.signIn({ name: 'Dr A' });
    const seen = (await s.api.study({ studyUid: S2.studyUid })).reviews.at(-1)?.id ?? null;
    const first = await post('review', { studyUid: S2.studyUid, decision: 'confirmed', subtypes: ['subdural'], after: seen });
    expect(first.status).toBe(200);
    const decided = (JSON.parse(first.body) as { review: { id: number; createdAt: string } }).review;
    // A second reader who saw the same history decides otherwise.
    const late = await post('review', { studyUid: S2.studyUid, decision: 'dismissed', after: seen });
    expect(late.status).toBe(409);
    expect(JSON.parse(late.body)).toEqual({
      error: `study ${S2.studyUid} was decided meanwhile: confirmed by Dr A at ${decided.createdAt}`,
      method: 'review',
      conflict: { studyUid: S2.studyUid, latest: expect.objectContaining({ id: decided.id, reviewer: 'Dr A', decision: 'confirmed', subtypes: ['subdural'] }) },
    });
    // The screen's HTTP client reads that reply into an ApiError carrying the other decision.
    const err = errorFromReply('review', JSON.parse(late.body), 'HTTP 409');
    expect(err.conflict).toEqual({ studyUid: S2.studyUid, latest: expect.objectContaining({ id: decided.id, reviewer: 'Dr A', createdAt: decided.createdAt }) });
    // Having seen it, the reader's decision is recorded; an id that is not a decision is a bad request.
    expect((await post('review', { studyUid: S2.studyUid, decision: 'reopened', after: decided.id })).status).toBe(200);
    expect((await post('review', { studyUid: S2.studyUid, decision: 'reopened', after: 0 })).status).toBe(400);
    expect((await s.api.study({ studyUid: S2.studyUid })).reviews.map((r) => r.decision).slice(-2)).toEqual(['confirmed', 'reopened']);
  });

  it('says which database the workstation uses, in status and in settings (read-only)', async () => {
    const status = JSON.parse((await post('status', {})).body) as { database: string };
    expect(status.database).toBe(`SQLite in ${s.core.dataDir}`);
    expect((await s.api.getSettings({})).database).toBe(`SQLite in ${s.core.dataDir}`);
    expect((await post('updateSettings', { database: 'postgres://elsewhere/db' })).status).toBe(400);
  });

  it("names this workstation and says whose each setting is (this PC's or the whole site's)", async () => {
    const settings = await s.api.getSettings({});
    expect(settings.workstation).toBe(s.core.workstation);
    expect(settings.scopes).toEqual({ importFolder: 'workstation', thresholds: 'site', rankingModel: 'site', providers: 'workstation' });
  });

  it('csvCell quotes and defuses', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell(-0.5)).toBe('-0.5');
    expect(csvCell(null)).toBe('');
  });
});
