/**
 * Our own compressed files, made at test time by an independent encoder (Debian's dcmtk:
 * dcmcjpeg, dcmcjpls, dcmcrle) from the corpus's uncompressed CT, must decode back to the same
 * stored values (and so the same HU, the rescale being unchanged): exactly for lossless, within
 * NEAR for JPEG-LS near-lossless. No dcmcjp2k in Debian's dcmtk, so JPEG 2000 is covered by the
 * corpus files in corpus.test.ts. JPEG baseline needs 8-bit input and CT is 16-bit: also corpus.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecoderPool, encapsulatedFrameBytes } from '../../../src/main/dicom/codecs/index.js';
import { corpusPath, HAVE_CORPUS, decodeFrame, jpegLsNear, maxAbsDiff, mismatches, nativeFrame, parse } from './support.js';

const HAVE_DCMTK = existsSync('/usr/bin/dcmcjpls') && existsSync('/usr/bin/dcmcjpeg') && existsSync('/usr/bin/dcmcrle');

const SOURCES = {
  ctImage: 'cornerstone-wado-image-loader/CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm',
  ct1: 'dicom-parser/CT1_UNC.explicit_little_endian.dcm',
  // Unsigned, two frames: dcmcjpls will not make near-lossless JPEG-LS from signed data.
  ct0012: 'dicom-parser/encapsulated/multi-frame/CT0012.explicit_little_endian.dcm',
} as const;

interface Variant {
  name: string;
  tool: string;
  args: string[];
  source: keyof typeof SOURCES;
  ts: string;
  /** Bits Stored to set on the source first (dcmodify), to exercise masking and sign extension. */
  bitsStored?: number;
}

const VARIANTS: Variant[] = [];
for (const source of ['ctImage', 'ct1', 'ct0012'] as const) {
  VARIANTS.push(
    { name: `${source} JPEG lossless SV1`, tool: 'dcmcjpeg', args: ['+e1'], source, ts: '1.2.840.10008.1.2.4.70' },
    { name: `${source} JPEG lossless p14 predictor 6`, tool: 'dcmcjpeg', args: ['+el', '+sv', '6'], source, ts: '1.2.840.10008.1.2.4.57' },
    { name: `${source} JPEG lossless p14 predictor 7, 16 kB fragments`, tool: 'dcmcjpeg', args: ['+el', '+sv', '7', '+fs', '16'], source, ts: '1.2.840.10008.1.2.4.57' },
    { name: `${source} JPEG-LS lossless`, tool: 'dcmcjpls', args: [], source, ts: '1.2.840.10008.1.2.4.80' },
    { name: `${source} JPEG-LS lossless, 8 kB fragments`, tool: 'dcmcjpls', args: ['+fs', '8'], source, ts: '1.2.840.10008.1.2.4.80' },
    { name: `${source} RLE`, tool: 'dcmcrle', args: [], source, ts: '1.2.840.10008.1.2.5' },
  );
}
// Every predictor of T.81 Table H.1 on signed CT (negative values wrap modulo 2^16).
for (const sv of [1, 2, 3, 4, 5, 7]) {
  VARIANTS.push({ name: `ct1 JPEG lossless p14 predictor ${sv}`, tool: 'dcmcjpeg', args: ['+el', '+sv', String(sv)], source: 'ct1', ts: '1.2.840.10008.1.2.4.57' });
}
VARIANTS.push(
  { name: 'ct1 as signed 12 of 16 bits, JPEG-LS lossless', tool: 'dcmcjpls', args: [], source: 'ct1', ts: '1.2.840.10008.1.2.4.80', bitsStored: 12 },
  { name: 'ct1 as signed 12 of 16 bits, RLE', tool: 'dcmcrle', args: [], source: 'ct1', ts: '1.2.840.10008.1.2.5', bitsStored: 12 },
);

const NEAR_LOSSLESS: Variant[] = [2, 5].map((near) => ({
  name: `ct0012 JPEG-LS near-lossless NEAR=${near}`,
  tool: 'dcmcjpls',
  args: ['+en', '+md', String(near)],
  source: 'ct0012' as const,
  ts: '1.2.840.10008.1.2.4.81',
}));

describe.skipIf(!HAVE_DCMTK || !HAVE_CORPUS)('dcmtk-compressed CT decodes to the original stored values', () => {
  let dir = '';
  const pool = new DecoderPool({ size: 2 });
  const made = new Map<string, { file: string; ref: string }>();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'codecs-dcmtk-'));
    [...VARIANTS, ...NEAR_LOSSLESS].forEach((v, i) => {
      let ref = corpusPath(SOURCES[v.source]);
      if (v.bitsStored) {
        const modified = join(dir, `src-${i}.dcm`);
        copyFileSync(ref, modified);
        const high = String(v.bitsStored - 1);
        execFileSync('dcmodify', ['-nb', '-m', `(0028,0101)=${v.bitsStored}`, '-m', `(0028,0102)=${high}`, modified]);
        ref = modified;
      }
      const out = join(dir, `v-${i}.dcm`);
      execFileSync(v.tool, [...v.args, ref, out], { stdio: 'pipe' });
      made.set(v.name, { file: out, ref });
    });
  });
  afterAll(async () => {
    await pool.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(VARIANTS.map((v) => [v.name, v] as const))('%s: every frame equal', async (_name, v) => {
    const { file, ref } = made.get(v.name)!;
    const p = parse(file);
    const r = parse(ref);
    expect(p.transferSyntax).toBe(v.ts);
    expect(p.slope).toBe(r.slope);
    expect(p.intercept).toBe(r.intercept);
    for (let i = 0; i < p.frames; i++) {
      const got = await decodeFrame(pool, p, i);
      // Equal stored values with the same rescale are equal HU.
      expect(mismatches(got, nativeFrame(r, i))).toBe(0);
    }
  });

  it.each(NEAR_LOSSLESS.map((v) => [v.name, v] as const))('%s: every sample within NEAR', async (_name, v) => {
    const { file, ref } = made.get(v.name)!;
    const p = parse(file);
    const r = parse(ref);
    expect(p.transferSyntax).toBe(v.ts);
    for (let i = 0; i < p.frames; i++) {
      const near = jpegLsNear(encapsulatedFrameBytes(p.bytes, p.dataSet, i));
      expect(near).toBe(Number(v.args[2]));
      const got = await decodeFrame(pool, p, i);
      const diff = maxAbsDiff(got, nativeFrame(r, i));
      expect(diff).toBeLessThanOrEqual(near);
      expect(diff).toBeGreaterThan(0);
    }
  });
});
