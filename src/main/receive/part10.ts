/**
 * DICOM Part 10 file meta information (PS3.10 §7.1): the 128-byte preamble, "DICM", and group
 * 0002 in Explicit VR Little Endian whatever the data set's transfer syntax. The data set bytes
 * that follow are written exactly as they arrived on the wire (PS3.7 / PS3.8: already in the
 * negotiated transfer syntax), so nothing is transcoded or re-encoded.
 */

/** Our Implementation Class UID (PS3.7 D.3.3.2): a UUID-derived UID under 2.25 (PS3.5 B.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.17203447700693075528530391600033150511';
/** Implementation Version Name (SH, ≤ 16 characters). */
export const IMPLEMENTATION_VERSION_NAME = 'ICH_TRIAGE_1';

function element(group: number, elementNo: number, vr: string, value: Uint8Array): Buffer {
  // Explicit VR LE (PS3.5 §7.1.2): OB has a 2-byte reserved field and a 4-byte length; UI, SH,
  // AE and UL have a 2-byte length.
  const long = vr === 'OB';
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(elementNo, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/** UI values are padded with a NUL, text (SH, AE) with a space, to even length (PS3.5 §6.2). */
function text(value: string, pad: '\0' | ' '): Buffer {
  const v = value.length % 2 === 1 ? value + pad : value;
  return Buffer.from(v, 'latin1');
}

export interface FileMetaFields {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  sourceAeTitle: string;
}

export function fileMetaHeader(f: FileMetaFields): Buffer {
  const body = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Uint8Array.of(0x00, 0x01)),
    element(0x0002, 0x0002, 'UI', text(f.sopClassUid, '\0')),
    element(0x0002, 0x0003, 'UI', text(f.sopInstanceUid, '\0')),
    element(0x0002, 0x0010, 'UI', text(f.transferSyntaxUid, '\0')),
    element(0x0002, 0x0012, 'UI', text(IMPLEMENTATION_CLASS_UID, '\0')),
    element(0x0002, 0x0013, 'SH', text(IMPLEMENTATION_VERSION_NAME, ' ')),
    // Source AE Title (PS3.10 7.1): who sent it, for the audit trail.
    element(0x0002, 0x0016, 'AE', text(f.sourceAeTitle.slice(0, 16), ' ')),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), element(0x0002, 0x0000, 'UL', groupLength), body]);
}
