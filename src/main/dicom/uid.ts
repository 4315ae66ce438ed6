/**
 * Which SOP Instance UIDs the workstation accepts — one rule for both doors (the import folder and
 * the DICOM receiver), so a file is never taken by one and refused by the other.
 *
 * A UID proper is digits and dots with no leading zeros, at most 64 characters (PS3.5 §9.1). Real
 * archives also hold identifiers that break that rule (the RSNA 2019 challenge's `ID_<hex>`, a
 * leading zero in a component); refusing them would lose studies, so the rule is looser: 1–64
 * characters of letters, digits, '.', '_' and '-', starting with a letter or digit. That set is
 * also what makes the identifier safe as a file name (no separator, no hidden or temp-file name).
 */
export function isStrictUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= 64 && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(uid);
}

export function isAcceptableInstanceUid(uid: string): boolean {
  return /^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/.test(uid);
}

export const INSTANCE_UID_RULE = "1–64 letters, digits, '.', '_' or '-', starting with a letter or digit";
