/**
 * Fuzzed ingest (issue 7): real DICOM files mutated — truncated, bytes flipped, element lengths
 * rewritten, absurd values in the tags the core reads, huge declared lengths. Never a crash, a
 * hang or unbounded memory: every mutant is read or refused with a one-line reason, and the
 * slices stored before and after stay intact.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compose } from '../../../src/main/core.js';
import { PooledFrameDecoder, QuarantineError, readSlice, TAG } from '../../../src/main/dicom/index.js';
import { readHuFile } from '../../../src/main/store/index.js';
import { corpus, CT1_UNC, CT_IMAGE, fixture, HAVE_CORPUS, tempDir, withDatabase } from '../../helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

const NATIVE_SEEDS = [
  CT1_UNC,
  'dicom-parser/CT1_UNC.implicit_little_endian.dcm',
  'dicom-parser/CT1_UNC.explicit_big_endian.dcm',
  'cornerstone-wado-image-loader/CTImage.dcm_DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99.dcm',
].filter(() => HAVE_CORPUS).map((rel) => new Uint8Array(readFileSync(corpus(rel))));
const COMPRESSED_SEEDS = [
  'cornerstone-wado-image-loader/CTImage.dcm_JPEGLSLosslessTransferSyntax_1.2.840.10008.1.2.4.80.dcm',
  'cornerstone-wado-image-loader/CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm',
  'cornerstone-wado-image-loader/CTImage.dcm_JPEG2000LosslessOnlyTransferSyntax_1.2.840.10008.1.2.4.90.dcm',
  'cornerstone-wado-image-loader/CTImage.dcm_JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70.dcm',
].filter(() => HAVE_CORPUS).map((rel) => new Uint8Array(readFileSync(corpus(rel))));

/** Where each element's value and length field sit, for targeted mutations. */
function elementsOf(bytes: Uint8Array): { tag: string; dataOffset: number; length: number }[] {
  const ds = dicomParser.parseDicom(bytes);
  return Object.values(ds.elements)
    .filter((e) => e.dataOffset + e.length <= bytes.length)
    .map((e) => ({ tag: e.tag, dataOffset: e.dataOffset, length: e.length }));
}

const ABSURD: Record<string, string[]> = {
  [TAG.rows]: ['\xff\xff', '\0\0'],
  [TAG.columns]: ['\xff\xff', '\0\0'],
  [TAG.bitsAllocated]: ['\x07\0', '\x20\0'],
  [TAG.bitsStored]: ['\x28\0', '\0\0'],
  [TAG.highBit]: ['\xff\0'],
  [TAG.rescaleSlope]: ['NaN ', '0   ', '1e308 '],
  [TAG.rescaleIntercept]: ['-1e308', 'abc '],
  [TAG.windowCenter]: ['abc ', '\\\\\\\\'],
  [TAG.imageOrientationPatient]: ['0\\0\\0\\0\\0\\0 '],
  [TAG.numberOfFrames]: ['99999999'],
};

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; positions: number[]; values: number[] }
  | { kind: 'length'; element: number; value: number }
  | { kind: 'absurd'; tag: string; choice: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('flip' as const),
    positions: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 16 }),
    values: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('length' as const),
    element: fc.nat(),
    value: fc.oneof(fc.constant(0xffffffff), fc.constant(0xfffffff0), fc.constant(0), fc.nat({ max: 0x7fffffff })),
  }),
  fc.record({ kind: fc.constant('absurd' as const), tag: fc.constantFrom(...Object.keys(ABSURD)), choice: fc.nat() }),
);

function mutate(seed: Uint8Array, m: Mutation): Uint8Array {
  const bytes = new Uint8Array(seed);
  switch (m.kind) {
    case 'truncate':
      return bytes.subarray(0, Math.floor(m.at * bytes.length));
    case 'flip':
      m.positions.forEach((p, i) => (bytes[Math.floor(p * (bytes.length - 1))] = m.values[i]!));
      return bytes;
    case 'length': {
      let elements: ReturnType<typeof elementsOf>;
      try {
        elements = elementsOf(seed);
      } catch {
        return bytes;
      }
      const e = elements[m.element % elements.length]!;
      // Explicit VR long form keeps a 4-byte length just before the value; short form 2 bytes.
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (e.dataOffset >= 4) view.setUint32(e.dataOffset - 4, m.value >>> 0, true);
      return bytes;
    }
    case 'absurd': {
      let elements: ReturnType<typeof elementsOf>;
      try {
        elements = elementsOf(seed);
      } catch {
        return bytes;
      }
      const e = elements.find((x) => x.tag === m.tag);
      if (!e) return bytes;
      const values = ABSURD[m.tag]!;
      const text = values[m.choice % values.length]!;
      for (let i = 0; i < e.length; i++) bytes[e.dataOffset + i] = i < text.length ? text.charCodeAt(i) & 0xff : 0x20;
      return bytes;
    }
  }
}

async function readOrRefuse(bytes: Uint8Array, decoder?: PooledFrameDecoder): Promise<'read' | 'refused'> {
  try {
    const slice = await readSlice(bytes, decoder);
    expect(slice.hu.length).toBe(512 * 512);
    return 'read';
  } catch (err) {
    if (!(err instanceof QuarantineError)) throw new Error(`not a QuarantineError: ${String(err)}`);
    expect(err.reason.length).toBeGreaterThan(0);
    expect(err.reason).not.toMatch(/\n/);
    return 'refused';
  }
}

describe.skipIf(!HAVE_CORPUS)('fuzzed ingest', () => {
  it('native files: thousands of mutants are each read or refused with a reason', async () => {
    const rssBefore = process.memoryUsage().rss;
    const seen = { read: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: NATIVE_SEEDS.length - 1 }), mutation, async (s, m) => {
        seen[await readOrRefuse(mutate(NATIVE_SEEDS[s]!, m))]++;
      }),
      { numRuns: 3000, seed: 20261122 },
    );
    expect(seen.read).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
    // Bounded memory: thousands of 0.5 MB mutants leave no lasting growth worth a file each.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(1024 * 1024 * 1024);
  });

  it('compressed files: mutants go through the isolated decoders without a crash or a hang', async () => {
    const decoder = new PooledFrameDecoder({ timeoutMs: 3000 });
    try {
      const seen = { read: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: COMPRESSED_SEEDS.length - 1 }), mutation, async (s, m) => {
          seen[await readOrRefuse(mutate(COMPRESSED_SEEDS[s]!, m), decoder)]++;
        }),
        { numRuns: 300, seed: 20261123 },
      );
      expect(seen.read + seen.refused).toBe(300);
    } finally {
      await decoder.close();
    }
  });

  it('through the ingest: every mutant is stored or quarantined; good slices before and after stay intact', async () => {
    const inbox = join(dir.path, 'inbox');
    mkdirSync(inbox);
    const core = compose({ dataDir: join(dir.path, 'data'), settleMs: 0 });
    try {
      fixture('variant', '--base', corpus(CT1_UNC), '--out', join(inbox, 'before.dcm'), '--set', 'SOPInstanceUID=1.2.826.0.1.3680043.10.1234.0');
      expect((await core.ingestFile(join(inbox, 'before.dcm'))).outcome).toBe('stored');
      const mutants = fc.sample(fc.tuple(fc.nat({ max: NATIVE_SEEDS.length - 1 }), mutation), { numRuns: 200, seed: 7 });
      for (const [i, [s, m]] of mutants.entries()) {
        const path = join(inbox, `mutant-${i}.dcm`);
        writeFileSync(path, mutate(NATIVE_SEEDS[s]!, m));
        const outcome = await core.ingestFile(path);
        expect(['stored', 'duplicate', 'conflict', 'quarantined'], `${path}: ${outcome.outcome}`).toContain(outcome.outcome);
        if (outcome.outcome === 'quarantined') expect(outcome.reason).toBeTruthy();
      }
      // A slice no mutant can share a SOPInstanceUID with.
      fixture('variant', '--base', corpus(CT_IMAGE), '--out', join(inbox, 'after.dcm'), '--set', 'SOPInstanceUID=1.2.826.0.1.3680043.10.1234.1');
      expect((await core.ingestFile(join(inbox, 'after.dcm'))).outcome).toBe('stored');

      const count = (table: string) => withDatabase(core.dataDir, (db) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n);
      expect(count('files') + count('quarantine')).toBeGreaterThanOrEqual(202);
      for (const name of ['before.dcm', 'after.dcm']) {
        const row = withDatabase(core.dataDir, (db) => db.prepare('SELECT hu_path FROM instances WHERE source_path = ?').get(join(inbox, name))) as {
          hu_path: string;
        };
        const expected = await readSlice(new Uint8Array(readFileSync(join(inbox, name))));
        const stored = readHuFile(core.dataDir, row.hu_path);
        expect(stored.every((v, i) => v === Math.round(expected.hu[i]!))).toBe(true);
      }
    } finally {
      await core.stop();
    }
  });
});
