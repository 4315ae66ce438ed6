/**
 * The lesion-map repository on a real database: maps kept byte for byte (deflated), the newest
 * per slice for the viewer, a study's maps with each slice's geometry for the volume, and the
 * volume estimates the worklist and the viewer read.
 */
import { expect, it } from 'vitest';
import { recordSeries, eachBackend } from '../../fixtures/store.js';
import { studyVolume } from '../../../src/main/triage/volume.js';

const shape = { channels: 5, height: 128, width: 128 };

function map(seed: number): Uint8Array {
  const m = new Uint8Array(5 * 128 * 128);
  for (let k = seed; k < m.length; k += 97) m[k] = (k * 31 + seed) % 256;
  return m;
}

eachBackend('lesion maps', 'triage-lesion-maps-', (fresh) => {
  it('keeps each slice map byte for byte, and gives the viewer the newest', () => {
    const { store } = fresh();
    const ids = recordSeries(store, 3);
    store.lesionMaps.save('lesion_unet', 'sha-a', shape, ids.map((instanceId, k) => ({ instanceId, map: map(k) })));
    const got = store.lesionMaps.ofInstance(ids[1]!)!;
    expect(got).toMatchObject({ modelId: 'lesion_unet', channels: 5, height: 128, width: 128 });
    expect(Buffer.from(got.data).equals(Buffer.from(map(1)))).toBe(true);
    expect(store.lesionMaps.ofInstance(999)).toBeUndefined();
    expect(() => store.lesionMaps.save('lesion_unet', null, shape, [{ instanceId: ids[0]!, map: new Uint8Array(10) }])).toThrow(/10 bytes, expected 81920/);
  });

  it("gives a study's maps of its read, scored series with each slice's geometry, in slice order", () => {
    const { store } = fresh();
    const ids = recordSeries(store, 3);
    store.instances.writeOrder(ids.map((id, k) => ({ id, sliceIndex: 2 - k, slicePosition: 10 - 5 * k })));
    store.lesionMaps.save('lesion_unet', 'sha-a', shape, ids.map((instanceId, k) => ({ instanceId, map: map(k) })));
    const filter = { withReceiving: false };
    expect(store.lesionMaps.ofStudy('1.2.3.1', 'lesion_unet', filter)).toEqual([]); // still arriving
    expect(store.lesionMaps.ofStudy('1.2.3.1', 'lesion_unet', { withReceiving: true })).toHaveLength(3);
    store.series.setState('1.2.3.2', 'scored', null);
    const rows = store.lesionMaps.ofStudy('1.2.3.1', 'lesion_unet', filter);
    expect(rows.map((r) => r.instanceId)).toEqual([...ids].reverse());
    expect(rows[0]).toMatchObject({ seriesUid: '1.2.3.2', slicePosition: 0, pixelSpacing: [0.5, 0.5], originalRows: 512, originalColumns: 512, sliceThickness: 5 });
    expect(store.lesionMaps.ofStudy('1.2.3.1', 'other_model', filter)).toEqual([]);
  });

  it('keeps a stride-2 map (5×256×256) as it keeps a stride-4 one, and its volume counts 2×2 slice pixels a map pixel', () => {
    const { store } = fresh();
    const ids = recordSeries(store, 3);
    store.instances.writeOrder(ids.map((id, k) => ({ id, sliceIndex: 2 - k, slicePosition: 10 - 5 * k })));
    store.series.setState('1.2.3.2', 'scored', null);
    const fine = { channels: 5, height: 256, width: 256 };
    const plane = 256 * 256;
    const square = (k: number): Uint8Array => {
      const m = new Uint8Array(5 * plane);
      for (let y = 100; y < 120; y++) for (let x = 60; x < 80; x++) m[4 * plane + y * 256 + x] = 255; // 20×20 subdural pixels
      m[plane - 1] = k; // and each slice its own last epidural byte, to tell them apart
      return m;
    };
    store.lesionMaps.save('lesion_unet', 'sha-2', fine, ids.map((instanceId, k) => ({ instanceId, map: square(k + 1) })));
    const got = store.lesionMaps.ofInstance(ids[2]!)!;
    expect(got).toMatchObject({ modelId: 'lesion_unet', channels: 5, height: 256, width: 256 });
    expect(Buffer.from(got.data).equals(Buffer.from(square(3)))).toBe(true);
    expect(() => store.lesionMaps.save('lesion_unet', null, fine, [{ instanceId: ids[0]!, map: map(0) }])).toThrow(/81920 bytes, expected 327680/);
    const rows = store.lesionMaps.ofStudy('1.2.3.1', 'lesion_unet', { withReceiving: false });
    expect(rows.map((r) => [r.height, r.width])).toEqual([[256, 256], [256, 256], [256, 256]]);
    // 400 map pixels of 1 mm × 1 mm (0.5 mm slice pixels, two each way) × 5 mm apart: 2 mL a slice
    expect(studyVolume(rows, 0.5)).toMatchObject({ seriesUid: '1.2.3.2', totalMl: 6, slices: 3 });
    expect(studyVolume(rows, 0.5)!.subtypes.subdural).toBe(6);
  });

  it('stores one volume estimate per study and network, cleared with the scores', () => {
    const { store } = fresh();
    recordSeries(store, 1);
    const v = { modelId: 'lesion_unet', seriesUid: '1.2.3.2', totalMl: 12.5, subtypes: { subdural: 12.5 }, slices: 30, provisional: true };
    store.lesionMaps.saveVolume('1.2.3.1', v);
    expect(store.lesionMaps.volumeOf('1.2.3.1')).toMatchObject(v);
    expect(store.lesionMaps.totals(['1.2.3.1', 'nope'])).toEqual(new Map([['1.2.3.1', 12.5]]));
    store.lesionMaps.clearVolumes('1.2.3.1');
    expect(store.lesionMaps.volumeOf('1.2.3.1')).toBeNull();
    expect(store.lesionMaps.totals(['1.2.3.1']).size).toBe(0);
  });
});
