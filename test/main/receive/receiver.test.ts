/**
 * The C-STORE SCP against a real, independent peer: Debian dcmtk's echoscu and storescu.
 * Instances are made at test time: a 64×64 copy of the corpus CT (dcmscale) sent many times with
 * storescu's own "invent a new SOP Instance UID per image" (+II --repeat), and a JPEG-LS copy
 * (dcmcjpls). Ports are random free ports on 127.0.0.1.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import dicomParser from 'dicom-parser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DicomReceiver, type ReceiverOptions } from '../../../src/main/receive/index.js';
import { CORPUS, HAVE_CORPUS } from '../../helpers.js';

const HAVE_DCMTK = ['storescu', 'echoscu', 'dcmscale', 'dcmcjpls', 'dcmconv'].every((t) => existsSync(`/usr/bin/${t}`));
const CT1 = join(CORPUS, 'dicom-parser/CT1_UNC.explicit_little_endian.dcm');
const AE = 'ICH_TRIAGE';
const MODALITY = 'CT_SCANNER';

interface Run {
  code: number | null;
  out: string;
}

/** Runs a dcmtk tool without blocking the event loop (the receiver runs in this process). */
function run(tool: string, args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(tool, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      // execFile's error carries the exit status in `code` (a number) or a spawn error code.
      const code: unknown = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : err ? 1 : 0, out: `${stdout}${stderr}` });
    });
  });
}

function storescu(port: number, files: string[], extra: string[] = [], calling = MODALITY, called = AE): Promise<Run> {
  return run('storescu', ['-aet', calling, '-aec', called, ...extra, '127.0.0.1', String(port), ...files]);
}

interface Received {
  path: string;
  callingAeTitle: string;
  sopInstanceUid: string;
}

function parseFile(path: string): dicomParser.DataSet {
  return dicomParser.parseDicom(new Uint8Array(readFileSync(path)));
}

function pixelBytes(ds: dicomParser.DataSet): Buffer {
  const el = ds.elements['x7fe00010']!;
  return Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + el.dataOffset, el.length);
}

function dicomFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.dcm'));
}

function tempFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.part'));
}

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!HAVE_DCMTK || !HAVE_CORPUS)('DicomReceiver with dcmtk peers', () => {
  let work = '';
  let small = '';
  let jpegLs = '';
  let receiver: DicomReceiver | undefined;
  let spool = '';
  let received: Received[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'receive-test-'));
    small = join(work, 'small.dcm');
    jpegLs = join(work, 'small-jls.dcm');
    expect((await run('dcmscale', ['+Sxv', '64', CT1, small])).code).toBe(0);
    expect((await run('dcmcjpls', [small, jpegLs])).code).toBe(0);
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });
  afterEach(async () => {
    await receiver?.stop();
    receiver = undefined;
  });

  async function startReceiver(over: Partial<ReceiverOptions> = {}): Promise<DicomReceiver> {
    spool = mkdtempSync(join(work, 'spool-'));
    received = [];
    logs.length = 0;
    receiver = new DicomReceiver({
      port: 0,
      aeTitle: AE,
      allowedCallingAeTitles: [MODALITY],
      spoolDir: spool,
      onInstance: async (path, info) => {
        received.push({ path, ...info });
      },
      log: (m) => logs.push(m),
      ...over,
    });
    await receiver.start();
    return receiver;
  }

  it('binds 127.0.0.1 by default and answers C-ECHO', async () => {
    const r = await startReceiver();
    expect(r.address.host).toBe('127.0.0.1');
    const echo = await run('echoscu', ['-aet', MODALITY, '-aec', AE, '127.0.0.1', String(r.port)]);
    expect(echo.code, echo.out).toBe(0);
    expect(r.stats.associations).toBe(1);
  });

  it('4 parallel storescu associations, 520 instances: each stored exactly once, durable, intact', async () => {
    const r = await startReceiver();
    const perPeer = 130;
    const runs = await Promise.all(
      [0, 1, 2, 3].map(() => storescu(r.port, [small], ['+II', '--repeat', String(perPeer)], MODALITY)),
    );
    for (const x of runs) expect(x.code, x.out).toBe(0);
    const total = 4 * perPeer;
    expect(received).toHaveLength(total);
    expect(r.stats).toEqual({ associations: 4, stored: total, rejected: 0, failed: 0 });

    const files = dicomFiles(spool);
    expect(files).toHaveLength(total);
    expect(tempFiles(spool)).toHaveLength(0);
    expect(new Set(received.map((x) => x.path)).size).toBe(total);
    const source = parseFile(small);
    const uids = new Set<string>();
    for (const name of files) {
      const ds = parseFile(join(spool, name));
      const uid = ds.string('x00080018')!;
      uids.add(uid);
      // File meta (PS3.10 7.1) agrees with the data set and with the name.
      expect(ds.string('x00020003')).toBe(uid);
      expect(ds.string('x00020002')).toBe('1.2.840.10008.5.1.4.1.1.2');
      expect(ds.string('x00020016')).toBe(MODALITY);
      expect(basename(name, '.dcm')).toBe(uid);
      expect(pixelBytes(ds).equals(pixelBytes(source))).toBe(true);
    }
    expect(uids.size).toBe(total);
    expect(received.every((x) => x.callingAeTitle === MODALITY && uids.has(x.sopInstanceUid))).toBe(true);
  });

  it('rejects a calling AE title outside the allow-list, and a wrong called AE title; nothing stored', async () => {
    const r = await startReceiver();
    const intruder = await storescu(r.port, [small], [], 'INTRUDER');
    expect(intruder.code).not.toBe(0);
    expect(intruder.out).toMatch(/Calling AE Title Not Recognized|rejected/i);
    const wrongCalled = await storescu(r.port, [small], [], MODALITY, 'SOMEONE_ELSE');
    expect(wrongCalled.code).not.toBe(0);
    expect(wrongCalled.out).toMatch(/Called AE Title Not Recognized|rejected/i);
    expect(r.stats.rejected).toBe(2);
    expect(r.stats.associations).toBe(0);
    expect(received).toHaveLength(0);
    expect(readdirSync(spool)).toHaveLength(0);
  });

  it('an empty allow-list admits any calling AE title', async () => {
    const r = await startReceiver({ allowedCallingAeTitles: [] });
    const x = await storescu(r.port, [small], [], 'ANYONE');
    expect(x.code, x.out).toBe(0);
    expect(received.map((v) => v.callingAeTitle)).toEqual(['ANYONE']);
  });

  it('keeps the compressed (JPEG-LS) instance as sent, and stores big endian and deflated as negotiated', async () => {
    const r = await startReceiver();
    // -xt: propose JPEG-LS lossless (with the uncompressed fallback); we must pick JPEG-LS.
    const x = await storescu(r.port, [jpegLs], ['-xt']);
    expect(x.code, x.out).toBe(0);
    expect(received).toHaveLength(1);
    const stored = parseFile(received[0]!.path);
    const sent = parseFile(jpegLs);
    expect(stored.string('x00020010')).toBe('1.2.840.10008.1.2.4.80');
    const storedFragments = stored.elements['x7fe00010']!.fragments!;
    const sentFragments = sent.elements['x7fe00010']!.fragments!;
    expect(storedFragments.map((f) => f.length)).toEqual(sentFragments.map((f) => f.length));
    const frag = (ds: dicomParser.DataSet, i: number): Buffer => {
      const f = ds.elements['x7fe00010']!.fragments![i]!;
      return Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + f.position, f.length);
    };
    expect(frag(stored, 0).equals(frag(sent, 0))).toBe(true);

    // Big endian and deflated copies (dcmconv): storescu offers each file's own syntax first.
    const bigEndian = join(work, 'small-be.dcm');
    const deflate = join(work, 'small-deflated.dcm');
    expect((await run('dcmconv', ['+tb', small, bigEndian])).code).toBe(0);
    expect((await run('dcmconv', ['+td', small, deflate])).code).toBe(0);
    const be = await storescu(r.port, [bigEndian], ['-xb', '+II']);
    expect(be.code, be.out).toBe(0);
    const storedBe = parseFile(received[1]!.path);
    expect(storedBe.string('x00020010')).toBe('1.2.840.10008.1.2.2');
    expect(pixelBytes(storedBe).equals(pixelBytes(parseFile(bigEndian)))).toBe(true);
    const deflated = await storescu(r.port, [deflate], ['-xd', '+II']);
    expect(deflated.code, deflated.out).toBe(0);
    // dicom-parser inflates with Node's zlib when handed a Buffer.
    const inflated = dicomParser.parseDicom(readFileSync(received[2]!.path));
    expect(inflated.string('x00020010')).toBe('1.2.840.10008.1.2.1.99');
    expect(pixelBytes(inflated).equals(pixelBytes(parseFile(small)))).toBe(true);
  });

  it('answers a failure status when onInstance throws, and carries on', async () => {
    let calls = 0;
    const r = await startReceiver({
      onInstance: async (path, info) => {
        calls++;
        if (calls === 1) throw new Error('database is locked');
        received.push({ path, ...info });
      },
    });
    const x = await storescu(r.port, [small, small], ['+II', '-nh', '-v']);
    expect(x.out).toMatch(/0xc000|Cannot ?understand/i);
    expect(r.stats.failed).toBe(1);
    expect(r.stats.stored).toBe(1);
    expect(received).toHaveLength(1);
  });

  it('a peer that sends half an A-ASSOCIATE-RQ and hangs up does not disturb the receiver', async () => {
    const r = await startReceiver();
    await new Promise<void>((resolve, reject) => {
      const s = connect(r.port, '127.0.0.1', () => {
        // PDU type 1 (A-ASSOCIATE-RQ), declared length 1000, then only a few bytes of it.
        s.write(Buffer.from([0x01, 0x00, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x01, 0x00, 0x00]));
        setTimeout(() => s.destroy(), 50);
      });
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    // Garbage that is not a PDU at all.
    await new Promise<void>((resolve) => {
      const s = connect(r.port, '127.0.0.1', () => s.end(Buffer.from('GET / HTTP/1.1\r\n\r\n')));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    const x = await storescu(r.port, [small]);
    expect(x.code, x.out).toBe(0);
    expect(received).toHaveLength(1);
  });

  it('a peer cut off in the middle of a data set leaves no file and no temp file; the next association works', async () => {
    const r = await startReceiver();
    // A proxy that forwards storescu's bytes but cuts the connection after 200 kB: the first
    // instance (CT1_UNC, 530 kB) is mid-P-DATA when the receiver sees the connection drop.
    const proxy = await cuttingProxy(r.port, 200_000);
    try {
      const x = await storescu(proxy.port, [CT1]);
      expect(x.code).not.toBe(0);
      await waitFor(() => proxy.cut);
      await waitFor(() => logs.some((m) => /partial instance .* discarded/.test(m)));
      expect(received).toHaveLength(0);
      expect(readdirSync(spool)).toHaveLength(0);
    } finally {
      await proxy.close();
    }
    const ok = await storescu(r.port, [CT1]);
    expect(ok.code, ok.out).toBe(0);
    expect(received).toHaveLength(1);
    expect(tempFiles(spool)).toHaveLength(0);
  });

  it('a storescu killed during a long batch leaves only complete files; the receiver carries on', async () => {
    const r = await startReceiver();
    const child: ChildProcess = spawn('storescu', ['-aet', MODALITY, '-aec', AE, '+II', '--repeat', '5000', '127.0.0.1', String(r.port), CT1], {
      stdio: 'ignore',
    });
    try {
      await waitFor(() => received.length >= 5);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((res) => child.once('exit', res));
    // An instance that was complete when the peer died is still made durable and handed on.
    await waitFor(() => tempFiles(spool).length === 0 && dicomFiles(spool).length === received.length);
    const n = received.length;
    expect(dicomFiles(spool)).toHaveLength(n);
    for (const name of dicomFiles(spool)) {
      const ds = parseFile(join(spool, name));
      expect(ds.elements['x7fe00010']!.length).toBe(512 * 512 * 2);
    }
    const ok = await storescu(r.port, [small]);
    expect(ok.code, ok.out).toBe(0);
    expect(received).toHaveLength(n + 1);
  });
});

/** A TCP proxy that closes both sides after `limit` bytes from the client. */
async function cuttingProxy(target: number, limit: number): Promise<{ port: number; cut: boolean; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { port: 0, cut: false, close: async () => undefined as void };
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    let sent = 0;
    client.on('data', (chunk: Buffer) => {
      if (state.cut) return;
      const room = limit - sent;
      upstream.write(room >= chunk.length ? chunk : chunk.subarray(0, room));
      sent += chunk.length;
      if (sent >= limit) {
        state.cut = true;
        upstream.destroy();
        client.destroy();
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  state.port = typeof address === 'object' && address ? address.port : 0;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}
