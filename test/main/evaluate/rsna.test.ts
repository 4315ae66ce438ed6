import { describe, expect, it } from 'vitest';
import { parseLabelsCsv, rsnaId, submissionCsv } from '../../../src/main/evaluate/index.js';

describe('RSNA formats', () => {
  it('parses stage_2_train.csv rows into six labels in project order', () => {
    const csv = [
      'ID,Label',
      'ID_0fe31b044_epidural,0',
      'ID_0fe31b044_intraparenchymal,1',
      'ID_0fe31b044_intraventricular,0',
      'ID_0fe31b044_subarachnoid,0',
      'ID_0fe31b044_subdural,0',
      'ID_0fe31b044_any,1',
      '',
    ].join('\n');
    expect(parseLabelsCsv(csv).get('ID_0fe31b044')).toEqual([1, 0, 1, 0, 0, 0]);
  });

  it('names the line of a malformed row and refuses incomplete ids', () => {
    expect(() => parseLabelsCsv('ID,Label\nID_1_any,2\n')).toThrow(/:2: not an RSNA label row/);
    expect(() => parseLabelsCsv('ID,Label\nID_1_any,1\n')).toThrow(/lacks some of the six labels/);
    expect(() => parseLabelsCsv('id;label\n')).toThrow(/first line/);
  });

  it('an instance id is its SOPInstanceUID when RSNA-style, else its file name', () => {
    expect(rsnaId('ID_0fe31b044', '/x/whatever.dcm')).toBe('ID_0fe31b044');
    expect(rsnaId('1.2.3.4', '/x/ID_abc.dcm')).toBe('ID_abc');
  });

  it('writes the submission format', () => {
    expect(submissionCsv([{ id: 'ID_a', probabilities: [0.5, 0, 0, 0, 0, 1] }])).toBe(
      'ID,Label\nID_a_any,0.500000\nID_a_epidural,0.00000\nID_a_intraparenchymal,0.00000\nID_a_intraventricular,0.00000\nID_a_subarachnoid,0.00000\nID_a_subdural,1.00000\n',
    );
  });
});
