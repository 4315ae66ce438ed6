/**
 * The fault campaign: one command that attacks the ingest the way a hostile scanner export, a
 * careless user and a power cut would, and counts what happened.
 *
 *   npm run faults                      # 1000 mutants, 10 kill -9s, a 40-slice phantom study
 *   npm run faults -- --mutants 3000 --kills 30 --json out.json
 *
 * Input: a phantom head-CT study (real DICOM, models/phantom) as the good slices; mutants of them
 * (truncated, bytes flipped, element lengths rewritten, absurd values in the tags the reader uses,
 * each with its own SOP Instance UID so it can never pass for a good slice); hostile entries (a
 * FIFO, a looping link, a link out of the folder, a link to a directory, a 300 MB sparse file).
 * `triage import` of all of it is killed with SIGKILL at random moments `--kills` times, then run
 * to the end.
 * Output: files tried, faults injected, and the three numbers that must be zero — good slices lost,
 * slices stored twice, good slices whose stored Hounsfield units differ from a clean reading — plus
 * SQLite's integrity check and the audit chain. Exit 1 when any of them fails.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import dicomParser from 'dicom-parser';
import { rng } from '../../bench/worklist.js';
import { readSlice, TAG } from '../../src/main/dicom/index.js';
import { huToInt16, pixelSha256, readHuFile, Store } from '../../src/main/store/index.js';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const MUTANTS = arg('mutants', 1000);
const KILLS = arg('kills', 10);
const SLICES = arg('slices', 40);
const SEED = arg('seed', 20261126);
const JSON_OUT = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;

// Seeded (mulberry32, the benchmark's), so a campaign can be rerun exactly.
const rand = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const ABSURD: Record<string, string[]> = {
  [TAG.rows]: ['\xff\xff', '\0\0', '\x10\0'],
  [TAG.columns]: ['\xff\xff', '\0\0', '\x10\0'],
  [TAG.bitsAllocated]: ['\x07\0', '\x20\0'],
  [TAG.bitsStored]: ['\x28\0', '\0\0'],
  [TAG.rescaleSlope]: ['NaN ', '0   ', '1e309 ', '-1  '],
  [TAG.rescaleIntercept]: ['1e309 ', 'abc ', 'NaN '],
  [TAG.pixelSpacing]: ['0.01\\0.01 ', '9\\9 '],
  [TAG.imageOrientationPatient]: ['0\\0\\0\\0\\0\\0 '],
  [TAG.numberOfFrames]: ['99999999'],
};

function elementsOf(bytes: Uint8Array): { tag: string; dataOffset: number; length: number }[] {
  const ds = dicomParser.parseDicom(bytes);
  return Object.values(ds.elements).filter((e) => e.dataOffset + e.length <= bytes.length);
}

/** One random mutation of `seed`, and what kind it was. */
function mutate(seed: Uint8Array): { bytes: Uint8Array; kind: string } {
  const bytes = new Uint8Array(seed);
  const elements = elementsOf(seed);
  const r = rand();
  if (r < 0.2) return { bytes: bytes.subarray(0, Math.floor(rand() * bytes.length)), kind: 'truncated' };
  if (r < 0.45) {
    for (let i = 0, n = 1 + Math.floor(rand() * 16); i < n; i++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
    return { bytes, kind: 'bytes flipped' };
  }
  if (r < 0.65) {
    const e = pick(elements);
    if (e.dataOffset >= 4) new DataView(bytes.buffer).setUint32(e.dataOffset - 4, pick([0xffffffff, 0xfffffff0, 0, Math.floor(rand() * 2 ** 31)]) >>> 0, true);
    return { bytes, kind: 'length rewritten' };
  }
  const tag = pick(Object.keys(ABSURD).filter((t) => elements.some((e) => e.tag === t)));
  const e = elements.find((x) => x.tag === tag)!;
  const text = pick(ABSURD[tag]!);
  for (let i = 0; i < e.length; i++) bytes[e.dataOffset + i] = i < text.length ? text.charCodeAt(i) & 0xff : 0x20;
  return { bytes, kind: 'absurd tag value' };
}

/** A copy of a good slice with its own SOP Instance UID (same length), so no mutant can pass for it. */
function withOwnUid(good: Uint8Array, k: number): Uint8Array {
  const bytes = new Uint8Array(good);
  const e = elementsOf(good).find((x) => x.tag === TAG.sopInstanceUid)!;
  const uid = `ID_m${k.toString(16).padStart(e.length - 4, '0')}`.slice(0, e.length);
  for (let i = 0; i < e.length; i++) bytes[e.dataOffset + i] = uid.charCodeAt(i);
  return bytes;
}

function sopOf(bytes: Uint8Array): string {
  return dicomParser.parseDicom(bytes).string(TAG.sopInstanceUid)!.trim();
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'triage-faults-'));
  const inbox = join(work, 'inbox');
  const dataDir = join(work, 'data');
  try {
    // ---- the good slices and their clean reading
    execFileSync('/usr/bin/python3', ['-m', 'models.phantom', 'generate', '--studies', '1', '--seed', String(SEED % 100000),
      '--slices-min', String(SLICES), '--slices-max', String(SLICES), '--out', join(work, 'ph')], { cwd: REPO_ROOT, stdio: 'pipe' });
    const src = join(work, 'ph', 'study_00000');
    mkdirSync(join(inbox, 'good'), { recursive: true });
    const reference = new Map<string, string>();
    const goods: Uint8Array[] = [];
    for (const f of readdirSync(src).filter((n) => n.endsWith('.dcm'))) {
      copyFileSync(join(src, f), join(inbox, 'good', f));
      const bytes = new Uint8Array(readFileSync(join(src, f)));
      goods.push(bytes);
      reference.set(sopOf(bytes), pixelSha256(huToInt16((await readSlice(bytes)).hu)));
    }
    // ---- mutants and hostile entries
    const kinds: Record<string, number> = {};
    mkdirSync(join(inbox, 'mutants'));
    for (let k = 0; k < MUTANTS; k++) {
      const m = mutate(withOwnUid(pick(goods), k));
      kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
      writeFileSync(join(inbox, 'mutants', `m${String(k).padStart(5, '0')}.dcm`), m.bytes);
    }
    const hostile = join(inbox, 'hostile');
    mkdirSync(hostile);
    execFileSync('mkfifo', [join(hostile, 'pipe.dcm')]);
    symlinkSync(join(hostile, 'loop-b'), join(hostile, 'loop-a'));
    symlinkSync(join(hostile, 'loop-a'), join(hostile, 'loop-b'));
    symlinkSync('/etc/hostname', join(hostile, 'outside.dcm'));
    symlinkSync(inbox, join(hostile, 'up'));
    const fd = openSync(join(hostile, 'sparse.dcm'), 'w');
    ftruncateSync(fd, 300 * 1024 * 1024);
    closeSync(fd);
    kinds['hostile entries'] = 6;

    // ---- kill -9 at random moments, then run to the end
    const env = { ...process.env, TRIAGE_MODELS_DIR: join(work, 'no-models') };
    const cli = [join(REPO_ROOT, 'bin', 'triage.mjs'), '--data-dir', dataDir, '--init', 'import', '--no-models', inbox];
    const t0 = Date.now();
    const full = spawnSync(process.execPath, [...cli, '--json'], { encoding: 'utf8', env, cwd: REPO_ROOT });
    const fullMs = Date.now() - t0;
    if (full.status !== 0 && full.status !== 3) throw new Error(`the first import failed (${full.status}): ${full.stderr}`);
    rmSync(dataDir, { recursive: true, force: true });
    for (let k = 0; k < KILLS; k++) {
      const child = spawn(process.execPath, cli, { stdio: 'ignore', env, cwd: REPO_ROOT });
      const exited = new Promise((r) => child.once('exit', r)); // listened to before it can happen
      await new Promise((r) => setTimeout(r, 150 + rand() * Math.max(200, fullMs - 150)));
      child.kill('SIGKILL');
      await exited;
    }
    const last = spawnSync(process.execPath, [...cli, '--json'], { encoding: 'utf8', env, cwd: REPO_ROOT });
    if (last.status !== 0 && last.status !== 3) throw new Error(`the final import failed (${last.status}): ${last.stderr}`);
    const summary = JSON.parse(last.stdout) as Record<string, number>;

    // ---- what is in the store now
    const db = new Database(join(dataDir, 'triage.sqlite'), { readonly: true });
    const rows = db.prepare('SELECT sop_uid, hu_path, pixel_sha256 FROM instances').all() as { sop_uid: string; hu_path: string; pixel_sha256: string }[];
    const bySop = new Map<string, number>();
    for (const r of rows) bySop.set(r.sop_uid, (bySop.get(r.sop_uid) ?? 0) + 1);
    const lost = [...reference.keys()].filter((s) => !bySop.has(s)).length;
    const duplicated = [...bySop.values()].reduce((a, n) => a + (n - 1), 0);
    let wrong = 0;
    for (const r of rows) {
      const ref = reference.get(r.sop_uid);
      if (ref && pixelSha256(readHuFile(dataDir, r.hu_path)) !== ref) wrong++;
    }
    const integrity = db.pragma('integrity_check', { simple: true });
    const quarantined = (db.prepare('SELECT COUNT(DISTINCT path) AS n FROM quarantine WHERE resolved_at IS NULL').get() as { n: number }).n;
    const quarantineRows = (db.prepare('SELECT COUNT(*) AS n FROM quarantine WHERE resolved_at IS NULL').get() as { n: number }).n;
    const audit = new Store(db).audit.verify();
    db.close();
    const result = {
      seed: SEED,
      filesTried: goods.length + MUTANTS + 6,
      goodSlices: goods.length,
      faultsInjected: { ...kinds, 'kill -9 during import': KILLS },
      faultsTotal: MUTANTS + 6 + KILLS,
      mutantsRead: rows.length - (goods.length - lost),
      refused: quarantined,
      quarantineEntriesPerRefusedFile: Number((quarantineRows / Math.max(quarantined, 1)).toFixed(3)),
      lost,
      duplicated,
      wrong,
      sqliteIntegrity: integrity,
      auditChain: audit.ok ? `intact (${audit.rows} rows)` : `BROKEN at row ${audit.firstBreak!.id}: ${audit.firstBreak!.problem}`,
      finalImport: summary,
      machine: `${process.platform} ${process.arch}, node ${process.version}`,
    };
    process.stdout.write(
      [
        `files tried ${result.filesTried} (${goods.length} good slices, ${MUTANTS} mutants, 6 hostile entries)`,
        `faults injected ${result.faultsTotal}: ${Object.entries(result.faultsInjected).map(([k, v]) => `${k} ${v}`).join(', ')}`,
        `mutants read as slices ${result.mutantsRead}, files refused with a reason ${result.refused} (${quarantineRows} quarantine entries after ${KILLS + 1} runs)`,
        `lost ${lost}, duplicated ${duplicated}, wrong HU ${wrong}; SQLite integrity ${integrity}; audit chain ${result.auditChain}`,
      ].join('\n') + '\n',
    );
    if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify(result, null, 2)}\n`);
    if (lost || duplicated || wrong || integrity !== 'ok' || !audit.ok) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
