import { describe, expect, it } from 'vitest';
import { SUBTYPE_ABOVE_ANY, subtypeTitle } from '../../src/renderer/format.js';

describe('a subtype above ICH', () => {
  it('says why wherever a subtype reads higher than "any"', () => {
    expect(subtypeTitle('subarachnoid', 0.65, 0.61)).toBe(`subarachnoid 65% — ${SUBTYPE_ABOVE_ANY}`);
    expect(subtypeTitle('subdural', 0.47, 0.89)).toBe('subdural 47%');
  });
});

describe('patient and study in the viewer header', () => {
  it('reads DICOM age strings as a reader would say them', async () => {
    const { ageText } = await import('../../src/renderer/format.js');
    expect(ageText('067Y')).toBe('67 y');
    expect(ageText('018M')).toBe('18 mo');
    expect(ageText('003W')).toBe('3 wk');
    expect(ageText('005D')).toBe('5 d');
    expect(ageText('about 60')).toBe('about 60'); // not a DICOM age string: shown as written
    expect(ageText(null)).toBeNull();
  });

  it('writes StudyDate and StudyTime as one local reading', async () => {
    const { studyWhen } = await import('../../src/renderer/format.js');
    expect(studyWhen('20261126', '140215.123')).toBe('2026-11-26 14:02');
    expect(studyWhen('20261126', null)).toBe('2026-11-26');
    expect(studyWhen(null, '1402')).toBeNull();
    expect(studyWhen('2026-11-26', null)).toBeNull();
  });
});

describe('a series read although it was taken with contrast', () => {
  it('cautions that enhancing vessels can score as blood; nothing for a series without contrast or one not read', async () => {
    const { contrastCaution } = await import('../../src/renderer/format.js');
    expect(contrastCaution({ contrastAgent: 'OMNIPAQUE 350', skippedReason: null })).toMatch(
      /^This series is contrast-enhanced \(OMNIPAQUE 350\), and no series of the study without contrast was received\. .*enhancing vessels/,
    );
    expect(contrastCaution({ contrastAgent: '', skippedReason: null })).toMatch(/contrast-enhanced \(agent not named\)/);
    expect(contrastCaution({ contrastAgent: null, skippedReason: null })).toBeNull();
    expect(contrastCaution({ contrastAgent: 'X', skippedReason: 'contrast-enhanced (X); …' })).toBeNull(); // its reason says it
  });
});

describe('a slice whose HU were corrected on reading', () => {
  it("says what was corrected and that the header is wrong; nothing for a slice read as its header says", async () => {
    const { huCorrectionNote } = await import('../../src/renderer/format.js');
    expect(huCorrectionNote({ huCorrection: "stored values read as 12-bit two's complement: …" })).toBe(
      "HU of this slice corrected on reading: stored values read as 12-bit two's complement: …. Its header is wrong; the scanner or PACS that sent it should be told.",
    );
    expect(huCorrectionNote({ huCorrection: null })).toBeNull();
  });
});
