/**
 * Idle connections cannot lock the receiver: 40 sockets that never send an A-ASSOCIATE-RQ, from
 * one address or from 40 loopback addresses, and dcmtk's echoscu still gets its C-ECHO answered
 * at once; an idle connection is closed after the ARTIM timeout (PS3.8 9.1.5).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DicomReceiver } from '../../../src/main/receive/index.js';

const HAVE_ECHOSCU = existsSync('/usr/bin/echoscu');
const spool = mkdtempSync(join(tmpdir(), 'triage-lockout-'));
afterAll(() => rmSync(spool, { recursive: true, force: true }));

function echo(port: number): Promise<{ code: number; ms: number }> {
  const t0 = Date.now();
  return new Promise((ok) => {
    execFile('echoscu', ['-to', '5', '-aet', 'CT_SCANNER', '-aec', 'ICH_TRIAGE', '127.0.0.1', String(port)], { timeout: 20_000 }, (err) =>
      ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, ms: Date.now() - t0 }),
    );
  });
}

function idle(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((ok, fail) => {
    const s = connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) }, () => ok(s));
    s.on('error', () => undefined);
    s.once('error', fail);
  });
}

describe.skipIf(!HAVE_ECHOSCU)('receiver lock-out', () => {
  let receiver: DicomReceiver | undefined;
  const held: Socket[] = [];
  afterEach(async () => {
    for (const s of held.splice(0)) s.destroy();
    await receiver?.stop();
  });

  async function start(): Promise<DicomReceiver> {
    receiver = new DicomReceiver({ port: 0, aeTitle: 'ICH_TRIAGE', allowedCallingAeTitles: [], spoolDir: spool, onInstance: async () => undefined });
    await receiver.start();
    return receiver;
  }

  it('40 idle sockets from the sender\'s own address do not keep its C-ECHO out', async () => {
    const r = await start();
    for (let i = 0; i < 40; i++) held.push(await idle(r.port));
    const res = await echo(r.port);
    expect(res.code).toBe(0);
    expect(res.ms).toBeLessThan(5_000);
  });

  it('40 idle sockets from 40 addresses do not either', async () => {
    const r = await start();
    for (let i = 0; i < 40; i++) held.push(await idle(r.port, `127.0.0.${i + 2}`));
    const res = await echo(r.port);
    expect(res.code).toBe(0);
    expect(res.ms).toBeLessThan(5_000);
  });

  it('closes a connection that never associates after the ARTIM timeout', async () => {
    const r = await start();
    const s = await idle(r.port);
    held.push(s);
    const t0 = Date.now();
    await new Promise<void>((ok) => s.once('close', () => ok()));
    expect(Date.now() - t0).toBeGreaterThan(8_000);
    expect(Date.now() - t0).toBeLessThan(16_000);
  }, 20_000);
});
