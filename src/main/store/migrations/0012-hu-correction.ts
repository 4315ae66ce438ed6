/**
 * 0012: how a slice's stored values were read when not as its header describes them, in one
 * sentence (NULL when they were): 12-bit two's complement values labelled unsigned, read as what
 * they are (src/main/dicom/read.ts). The viewer shows it with the slice, so a reader knows the HU
 * on the screen rest on a correction. Slices stored before read as the header said.
 */
export const up = `
ALTER TABLE instances ADD COLUMN hu_correction TEXT;
`;
