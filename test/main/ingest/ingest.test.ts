import { copyFileSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compose, type TriageCore } from '../../../src/main/core.js';
import { readHuFile } from '../../../src/main/store/index.js';
import { corpus, CT1_UNC, CT_IMAGE, fixture, HAVE_CORPUS, tempDir, withDatabase } from '../../helpers.js';

let dir: ReturnType<typeof tempDir>;
let core: TriageCore;
let inbox: string;

beforeEach(() => {
  dir = tempDir();
  inbox = join(dir.path, 'inbox');
  mkdirSync(inbox);
  core = compose({ dataDir: join(dir.path, 'data'), settleMs: 300, stableMs: 300 });
});
afterEach(async () => {
  await core.stop();
  dir.cleanup();
});

const count = (sql: string) => withDatabase(core.dataDir, (db) => (db.prepare(sql).get() as { n: number }).n);
const oneRow = <T>(sql: string) => withDatabase(core.dataDir, (db) => db.prepare(sql).get() as T);

describe.skipIf(!HAVE_CORPUS)('ingest', () => {
  it('stores good slices, quarantines bad ones with a reason, and goes on', async () => {
    copyFileSync(corpus(CT1_UNC), join(inbox, 'good.dcm'));
    copyFileSync(corpus('pydicom-data/MR2_UNCR.dcm'), join(inbox, 'mr.dcm'));
    writeFileSync(join(inbox, 'readme.txt'), 'not an image'); // a side file: skipped, not refused
    writeFileSync(join(inbox, 'slice-7.dcm'), 'not an image either'); // says it is a slice: refused
    copyFileSync(corpus(CT_IMAGE), join(inbox, 'good2.dcm'));
    const outcomes = await core.importFolder(inbox);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['quarantined', 'quarantined', 'skipped', 'stored', 'stored']);
    const q = core.quarantine();
    expect(q.map((e) => [e.path.split('/').pop(), e.reason]).sort()).toEqual([
      ['mr.dcm', 'Modality is MR, not CT'],
      ['slice-7.dcm', 'not a DICOM Part 10 file (no DICM prefix at byte 128)'],
    ]);
    expect(count('SELECT COUNT(*) AS n FROM instances')).toBe(2);
    // The core keeps its own HU copy: the source may be moved away.
    const inst = oneRow<{ hu_path: string }>('SELECT hu_path FROM instances LIMIT 1');
    expect(readHuFile(core.dataDir, inst.hu_path).length).toBe(512 * 512);
  });

  it('stores the same SOPInstanceUID with the same content once, and records different content as a conflict', async () => {
    copyFileSync(corpus(CT1_UNC), join(inbox, 'a.dcm'));
    copyFileSync(corpus(CT1_UNC), join(inbox, 'b.dcm'));
    // Same SOPInstanceUID and pixels in another transfer syntax: still the same instance.
    copyFileSync(corpus('dicom-parser/CT1_UNC.implicit_little_endian.dcm'), join(inbox, 'c.dcm'));
    const first = await core.importFolder(inbox);
    expect(first.map((o) => o.outcome).sort()).toEqual(['duplicate', 'duplicate', 'stored']);

    // Same SOPInstanceUID, different pixels.
    const other = join(dir.path, 'other');
    mkdirSync(other);
    fixture('variant', '--base', corpus(CT1_UNC), '--out', join(other, 'changed.dcm'), '--twelve-bit', 'clean');
    const second = await core.importFolder(other);
    expect(second[0]!.outcome).toBe('conflict');
    expect(count('SELECT COUNT(*) AS n FROM instances')).toBe(1);
    expect(count('SELECT COUNT(*) AS n FROM conflicts')).toBe(1);
    const kept = oneRow<{ source_path: string }>('SELECT source_path FROM instances');
    // The first stored copy stays (a or b: identical files, read in parallel); never the conflict.
    expect(kept.source_path).toMatch(/[ab]\.dcm$/);

    // Importing again changes nothing: every file is recognised by path and content.
    const third = await core.importFolder(inbox);
    expect(third.every((o) => o.outcome === 'unchanged')).toBe(true);
  });

  it('reads compressed files through the codec workers: lossless ones are the same instance as the uncompressed file', async () => {
    const family = [
      'CTImage.dcm',
      'CTImage.dcm_JPEGProcess14TransferSyntax_1.2.840.10008.1.2.4.57.dcm',
      'CTImage.dcm_JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70.dcm',
      'CTImage.dcm_JPEGLSLosslessTransferSyntax_1.2.840.10008.1.2.4.80.dcm',
      'CTImage.dcm_JPEG2000LosslessOnlyTransferSyntax_1.2.840.10008.1.2.4.90.dcm',
      'CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm',
    ];
    for (const f of family) copyFileSync(corpus(`cornerstone-wado-image-loader/${f}`), join(inbox, f));
    copyFileSync(corpus('cornerstone-wado-image-loader/CTImage.dcm_JPEGProcess2_4TransferSyntax_1.2.840.10008.1.2.4.51.dcm'), join(inbox, 'x.51.dcm'));
    const outcomes = await core.importFolder(inbox);
    const by = Object.fromEntries(outcomes.map((o) => [o.path.split('/').pop(), o]));
    // Identical decoded pixels: one stored instance, the rest duplicates (not conflicts).
    expect(outcomes.filter((o) => o.outcome === 'stored')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(family.length - 1);
    expect(by['x.51.dcm']!.reason).toBe('transfer syntax JPEG Extended (Process 2 and 4) not supported yet');
  });

  it('orders slices by position along the normal, not by InstanceNumber or file name, also when tilted', async () => {
    fixture('series', '--base', corpus(CT1_UNC), '--out', inbox, '--count', '12', '--shuffle-instance-numbers', '--tilt', '20', '--seed', '7');
    await core.importFolder(inbox);
    const rows = withDatabase(core.dataDir, (db) => db.prepare('SELECT source_path, slice_index, slice_position FROM instances ORDER BY slice_index').all()) as {
      source_path: string;
      slice_index: number;
      slice_position: number;
    }[];
    expect(rows.map((r) => r.source_path.split('/').pop())).toEqual(
      Array.from({ length: 12 }, (_, i) => `slice_${String(i).padStart(4, '0')}.dcm`),
    );
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.slice_position - rows[i - 1]!.slice_position).toBeCloseTo(5, 5);
    // No model is installed in this test: the series waits, with no made-up score.
    const [row] = core.worklist();
    expect(row!.state).toBe('awaiting_model');
    expect(row!.score).toBeNull();
    expect(row!.sliceCount).toBe(12);
  });

  it('watch: takes files already there and new ones, never reads a half-written file, settles the series', async () => {
    // A generous stability period: the pause below must be shorter even on a loaded CI machine.
    await core.stop();
    core = compose({ dataDir: join(dir.path, 'data2'), settleMs: 300, stableMs: 1500 });
    copyFileSync(corpus(CT1_UNC), join(inbox, 'already-there.dcm'));
    const seen: string[] = [];
    core.on((e) => {
      if (e.type === 'file') seen.push(`${e.outcome.outcome}:${e.outcome.path.split('/').pop()}`);
    });
    core.watch(inbox);
    // A copy in progress: half the bytes, a pause shorter than the stability period, the rest.
    const bytes = readFileSync(corpus(CT_IMAGE));
    const growing = join(inbox, 'sub', 'growing.dcm');
    mkdirSync(join(inbox, 'sub'));
    writeFileSync(growing, bytes.subarray(0, 200_000));
    await new Promise((r) => setTimeout(r, 200));
    appendFileSync(growing, bytes.subarray(200_000));
    await waitFor(() => seen.length >= 2, 10_000);
    await waitFor(() => count("SELECT COUNT(*) AS n FROM series WHERE state = 'awaiting_model'") === 2, 10_000);
    expect(seen.sort()).toEqual(['stored:already-there.dcm', 'stored:growing.dcm']);
    expect(core.quarantine()).toEqual([]);
  });
});

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

