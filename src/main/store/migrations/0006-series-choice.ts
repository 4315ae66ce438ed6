/**
 * 0006: what the DICOM says about each series (ImageType, ConvolutionKernel, SliceThickness, from
 * its first slice) and, when the networks do not read it, why (assemble/select.ts): a study reads
 * one series, the others are kept and shown with their reason. Series stored before read as chosen.
 */
export const up = `
ALTER TABLE series ADD COLUMN image_type TEXT;
ALTER TABLE series ADD COLUMN kernel TEXT;
ALTER TABLE series ADD COLUMN slice_thickness REAL;
ALTER TABLE series ADD COLUMN skipped_reason TEXT;
`;

/** The same in PostgreSQL's words: DOUBLE PRECISION for SQLite's 8-byte REAL. */
export const upPostgres = `
ALTER TABLE series ADD COLUMN image_type TEXT;
ALTER TABLE series ADD COLUMN kernel TEXT;
ALTER TABLE series ADD COLUMN slice_thickness DOUBLE PRECISION;
ALTER TABLE series ADD COLUMN skipped_reason TEXT;
`;
