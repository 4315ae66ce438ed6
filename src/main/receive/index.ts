/**
 * DICOM receiver (C-STORE SCP, PS3.4 Annex B; C-ECHO, Annex A), off by default.
 *
 * Input: associations from modalities/PACS on `host:port` (127.0.0.1 unless configured) whose
 * calling AE title is allowed and whose called AE title is ours; CT Image Storage and Enhanced CT
 * Image Storage in native or supported compressed transfer syntaxes, accepted as sent.
 * Output: for each instance, a durable Part 10 file `<spoolDir>/<SOP Instance UID>.dcm` (written
 * to a temp name, fsynced, renamed, directory fsynced), then `await onInstance(path, info)` — the
 * same ingest as the import folder — and only then the C-STORE response: 0x0000 when the slice
 * was stored (or was already, or is held durably for a database that cannot be reached now: the
 * core reads it again once it answers), 0xA900 when it is kept but is not a single-frame CT image
 * (Modality, multi-frame), 0xC000 when it is kept but cannot be used (unreadable HU, damaged, a
 * conflicting SOP Instance UID) or onInstance failed, 0xA700 if the file could not be written (or
 * could not be noted as held while the database is away),
 * 0x0122 for a SOP class not accepted on the context. Every failure carries its reason in the
 * response's Error Comment (0000,0902), which storescu and PACS log.
 */
export { DicomReceiver } from './receiver.js';
export { STATUS as STORE_STATUS, StoreRefusedError } from './scp.js';
export type { ReceiverOptions, ReceiverStats } from './receiver.js';
export type { AssociationEnd, InstanceInfo } from './scp.js';
