/**
 * Slice geometry: is a slice axial, and where does it sit along the series' normal.
 *
 * Head CT is often acquired with a gantry tilt of up to about 30°; the image plane then leans
 * but the series is still axial. We call a slice axial when its normal (row × column direction
 * cosines, PS3.3 C.7.6.2.1.1) lies within MAX_AXIAL_TILT_DEGREES of the patient's z axis.
 */
export const MAX_AXIAL_TILT_DEGREES = 35;

export type Orientation = readonly [number, number, number, number, number, number];
export type Vec3 = readonly [number, number, number];

export function sliceNormal(orientation: Orientation): Vec3 {
  const [rx, ry, rz, cx, cy, cz] = orientation;
  const n: [number, number, number] = [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx];
  const len = Math.hypot(n[0], n[1], n[2]);
  return len > 0 ? [n[0] / len, n[1] / len, n[2] / len] : [0, 0, 0];
}

/** Angle in degrees between the slice normal and the z axis (0 = purely axial). */
export function tiltFromAxialDegrees(orientation: Orientation): number {
  const n = sliceNormal(orientation);
  const cos = Math.min(1, Math.abs(n[2]));
  return (Math.acos(cos) * 180) / Math.PI;
}

/** Position of a slice along a normal: ImagePositionPatient projected on it. */
export function positionAlongNormal(position: Vec3, normal: Vec3): number {
  return position[0] * normal[0] + position[1] * normal[1] + position[2] * normal[2];
}
