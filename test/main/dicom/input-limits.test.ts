/**
 * Inputs that must not be scored: an image too small to be a head CT slice (a 16×16 "CT" would be
 * upsampled ×32 and inferred) and a pixel spacing whose field of view no head fits. Real phantom
 * DICOM changed by pydicom (test/fixtures/dicom_fixtures.py).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuarantineError, readSlice } from '../../../src/main/dicom/index.js';
import { fixture, phantomSlices, tempDir } from '../../helpers.js';

const dir = tempDir('triage-limits-');
afterAll(() => dir.cleanup());
let base = '';

function variant(name: string, ...args: string[]): Uint8Array {
  const out = join(dir.path, name);
  fixture('variant', '--base', base, '--out', out, ...args);
  return new Uint8Array(readFileSync(out));
}

async function reason(bytes: Uint8Array): Promise<string | null> {
  try {
    await readSlice(bytes);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(QuarantineError);
    return (err as QuarantineError).reason;
  }
}

describe('images that are not head CT slices', () => {
  beforeAll(() => {
    base = phantomSlices(join(dir.path, 'ph'), 61, 4)[1]!;
  });

  it('scores a 256×256 slice (resampled) and refuses 128×128 and 16×16', async () => {
    expect(await reason(variant('256.dcm', '--downsample', '2'))).toBeNull();
    expect(await reason(variant('128.dcm', '--downsample', '4'))).toMatch(/128×128 is smaller than 256×256: too coarse/);
    expect(await reason(variant('16.dcm', '--downsample', '32'))).toMatch(/16×16 is smaller than 256×256/);
  });

  it('refuses a field of view no head fits, and a body-sized one', async () => {
    expect(await reason(variant('tiny-fov.dcm', '--set', 'PixelSpacing=0.1\\0.1'))).toMatch(/field of view of 51×51 mm, outside 100–500 mm/);
    expect(await reason(variant('body-fov.dcm', '--set', 'PixelSpacing=1.5\\1.5'))).toMatch(/field of view of 768×768 mm/);
    expect(await reason(variant('no-spacing.dcm', '--delete', 'PixelSpacing'))).toBeNull();
  });
});
