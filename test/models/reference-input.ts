/**
 * The fixed synthetic head of models/training/reference_input.py, built the same way (integer
 * arithmetic, so bit for bit alike): the input on which an int8 file's probabilities were recorded
 * at quantisation. Change both or neither.
 */
export const REFERENCE_INPUT_NAME = 'synthetic-head-v1';
const SIZE = 512;
const SLICES = 2;

function inside(a: number, b: number, cx: number, cy: number): boolean {
  return cx * cx * b * b + cy * cy * a * a <= a * a * b * b;
}

export function referenceInput(): { hu: Float32Array<ArrayBuffer>; window: Float32Array<ArrayBuffer>; count: number } {
  const hu = new Float32Array(SLICES * SIZE * SIZE);
  for (let k = 0; k < SLICES; k++) {
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const dx = x - 256;
        const dy = y - 256;
        let v = -1000;
        if (inside(190, 230, dx, dy)) v = 1000;
        if (inside(180, 220, dx, dy)) v = 38;
        if (inside(70, 95, dx, dy)) v = 27;
        if (k === 1 && inside(25, 25, x - 330, y - 220)) v = 70;
        hu[k * SIZE * SIZE + y * SIZE + x] = v;
      }
    }
  }
  const window = new Float32Array(SLICES * 2);
  for (let k = 0; k < SLICES; k++) window.set([40, 80], k * 2);
  return { hu, window, count: SLICES };
}
