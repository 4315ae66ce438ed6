/**
 * 0003: the patient's sex and age as the DICOM gives them (PatientSex, PatientAge), which a reader
 * checks against the requisition before trusting an image: shown in the viewer's header. Studies
 * stored before keep NULL until a slice of theirs arrives again.
 */
export const up = `
ALTER TABLE studies ADD COLUMN patient_sex TEXT;
ALTER TABLE studies ADD COLUMN patient_age TEXT;
`;
