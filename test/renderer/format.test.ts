import { describe, expect, it } from 'vitest';
import { SUBTYPE_ABOVE_ANY, subtypeTitle } from '../../src/renderer/format.js';

describe('a subtype above ICH', () => {
  it('says why wherever a subtype reads higher than "any"', () => {
    expect(subtypeTitle('subarachnoid', 0.65, 0.61)).toBe(`subarachnoid 65% — ${SUBTYPE_ABOVE_ANY}`);
    expect(subtypeTitle('subdural', 0.47, 0.89)).toBe('subdural 47%');
  });
});
