/**
 * 0005: a study score made while a series was still arriving is provisional: it says so, and how
 * many slices it rests on, until the series settles and the final score replaces it.
 */
export const up = `
ALTER TABLE study_scores ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0;
ALTER TABLE study_scores ADD COLUMN slices_scored INTEGER;
`;
