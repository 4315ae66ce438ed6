/**
 * 0011: whether a series was taken with contrast, as its first slice's DICOM says it
 * (ContrastBolusAgent: the agent's name, '' when the element is there but empty, NULL when absent).
 * The networks were trained on non-contrast head CT and read enhancing vessels as blood, so the
 * series choice prefers a non-contrast series and the viewer says so when it cannot. Series stored
 * before read as without contrast, and keep the choice they were given.
 */
export const up = `
ALTER TABLE series ADD COLUMN contrast_agent TEXT;
`;
