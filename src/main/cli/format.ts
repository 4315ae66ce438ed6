/** Plain-text tables for the terminal; --json output bypasses all of this. */
import { SUBTYPES } from '../../shared/labels.js';
import type { QuarantineEntry, WorklistRow } from '../../shared/api.js';

/**
 * A cell as one printable line: control characters (a newline in a file name, an escape sequence
 * in a patient name) are shown escaped, so a hostile value cannot forge lines of the output or
 * drive the terminal.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

export function table(headers: string[], rawRows: string[][]): string {
  const rows = rawRows.map((r) => r.map((c) => printable(c ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function waitingSince(iso: string, now = Date.now()): string {
  const minutes = Math.max(0, Math.round((now - Date.parse(iso)) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.floor(hours / 24)} d`;
}

const STATE_TEXT: Record<WorklistRow['state'], string> = {
  receiving: 'receiving',
  ready: 'queued',
  awaiting_model: 'awaiting model',
  scored: 'scored',
  failed: 'failed',
};

export function formatWorklist(rows: WorklistRow[]): string {
  if (!rows.length) return 'The worklist is empty.';
  const body = rows.map((r, i) => {
    const top = r.score
      ? SUBTYPES.map((s) => [s, r.score![s]] as const)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 2)
          .map(([s, p]) => `${s} ${p.toFixed(2)}`)
          .join(', ')
      : '';
    return [
      String(i + 1),
      r.score ? r.score.any.toFixed(3) : '—',
      top,
      r.patientName ?? '',
      r.patientId ?? '',
      r.accession ?? '',
      r.description ?? '',
      waitingSince(r.firstArrivalAt),
      `${r.sliceCount}`,
      r.provisionalSlices !== null ? `${STATE_TEXT[r.state]} (provisional, ${r.provisionalSlices} slices)` : STATE_TEXT[r.state],
      r.reviewStatus,
    ];
  });
  return table(
    ['#', 'any', 'top subtypes', 'patient', 'patient id', 'accession', 'study', 'waiting', 'slices', 'state', 'review'],
    body,
  );
}

export function formatQuarantine(rows: QuarantineEntry[]): string {
  if (!rows.length) return 'No file is in quarantine.';
  return table(
    ['when', 'file', 'reason'],
    rows.map((q) => [q.createdAt.replace('T', ' ').slice(0, 19), q.path, q.reason]),
  );
}
