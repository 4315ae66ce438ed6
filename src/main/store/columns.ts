/**
 * Reading the store's JSON columns back: one rule for every repository that keeps a short list of
 * numbers as TEXT (orientation, pixel spacing).
 */

/** A JSON array of `n` finite numbers from a TEXT column, else null (absent or unreadable). */
export function numberList(text: unknown, n: number): number[] | null {
  if (typeof text !== 'string') return null;
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (v as number[]) : null;
  } catch {
    return null;
  }
}
