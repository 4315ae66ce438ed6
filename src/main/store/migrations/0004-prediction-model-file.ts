/**
 * 0004: which model file made each prediction (its sha256), so a slice already scored by the same
 * file is not run again when its series grows or is scored anew; rows stored before carry NULL and
 * are never reused.
 */
export const up = `
ALTER TABLE predictions ADD COLUMN model_sha256 TEXT;
`;
