/**
 * Bilinear resampling of a slice to the model contract's 512×512 (ARCHITECTURE.md). Pixel
 * centres are aligned (the "half-pixel" convention of PyTorch's align_corners=False), so a
 * slice resampled here matches one resampled by the training code's F.interpolate.
 */
export function resampleBilinear(
  src: Float32Array,
  srcRows: number,
  srcCols: number,
  dstRows: number,
  dstCols: number,
): Float32Array {
  const dst = new Float32Array(dstRows * dstCols);
  const scaleY = srcRows / dstRows;
  const scaleX = srcCols / dstCols;
  for (let y = 0; y < dstRows; y++) {
    const sy = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), srcRows - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, srcRows - 1);
    const fy = sy - y0;
    for (let x = 0; x < dstCols; x++) {
      const sx = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), srcCols - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, srcCols - 1);
      const fx = sx - x0;
      const a = src[y0 * srcCols + x0]!;
      const b = src[y0 * srcCols + x1]!;
      const c = src[y1 * srcCols + x0]!;
      const d = src[y1 * srcCols + x1]!;
      dst[y * dstCols + x] = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
    }
  }
  return dst;
}
