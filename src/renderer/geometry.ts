/**
 * Patient geometry of a displayed slice: the orientation letters at the image edges (from
 * ImageOrientationPatient) and distances in millimetres (from PixelSpacing, scaled to the grid the
 * HU copy is stored on). Pure functions, so the viewer's markers and ruler are tested without a
 * browser.
 */

/** The patient direction a DICOM (LPS) direction cosine vector points to, strongest axis first. */
export function directionLetters(v: readonly number[], tolerance = 0.3): string {
  const letters: [number, string][] = [
    [v[0] ?? 0, (v[0] ?? 0) > 0 ? 'L' : 'R'],
    [v[1] ?? 0, (v[1] ?? 0) > 0 ? 'P' : 'A'],
    [v[2] ?? 0, (v[2] ?? 0) > 0 ? 'H' : 'F'],
  ];
  return letters
    .filter(([c]) => Math.abs(c) > tolerance)
    .sort((a, b) => Math.abs(b[0]) - Math.abs(a[0]))
    .map(([, l]) => l)
    .join('');
}

export interface EdgeMarkers {
  left: string;
  right: string;
  top: string;
  bottom: string;
}

/**
 * Letters for the four edges: the row cosines point from the left edge to the right edge, the
 * column cosines from the top edge to the bottom. An axial head CT in the usual orientation reads
 * R on the left of the screen (the patient's right), L on the right, A at the top, P at the bottom.
 */
export function edgeMarkers(orientation: readonly number[] | null): EdgeMarkers | null {
  if (!orientation || orientation.length !== 6 || orientation.some((x) => !Number.isFinite(x))) return null;
  const row = orientation.slice(0, 3);
  const col = orientation.slice(3, 6);
  const neg = (v: number[]) => v.map((x) => -x);
  return { right: directionLetters(row), left: directionLetters(neg(row)), bottom: directionLetters(col), top: directionLetters(neg(col)) };
}

/**
 * Millimetres per pixel of the stored grid (rows × columns) for a slice whose DICOM pixel spacing
 * [row spacing, column spacing] was given for originalRows × originalColumns.
 */
export function gridSpacing(
  pixelSpacing: readonly number[] | null,
  original: { rows: number; columns: number },
  stored: { rows: number; columns: number },
): { row: number; column: number } | null {
  if (!pixelSpacing || pixelSpacing.length !== 2 || !(pixelSpacing[0]! > 0) || !(pixelSpacing[1]! > 0)) return null;
  return { row: (pixelSpacing[0]! * original.rows) / stored.rows, column: (pixelSpacing[1]! * original.columns) / stored.columns };
}

/** Length in mm of a line between two pixel positions (x = column, y = row). */
export function distanceMm(a: { x: number; y: number }, b: { x: number; y: number }, spacing: { row: number; column: number }): number {
  return Math.hypot((b.x - a.x) * spacing.column, (b.y - a.y) * spacing.row);
}
