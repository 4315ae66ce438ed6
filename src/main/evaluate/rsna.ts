/**
 * The RSNA 2019 challenge's file formats. Labels: `stage_2_train.csv`, header `ID,Label`, rows
 * `ID_<id>_<label>,<0|1>`. Submissions: the same shape with probabilities.
 *
 * An instance's RSNA id is its SOPInstanceUID when that starts with `ID_` (as in the RSNA files),
 * otherwise its source file's name without `.dcm`.
 */
import { basename } from 'node:path';
import { LABELS, type Label } from '../../shared/labels.js';

export function rsnaId(sopUid: string, sourcePath: string): string {
  if (sopUid.startsWith('ID_')) return sopUid;
  return basename(sourcePath).replace(/\.dcm$/i, '');
}

/** Parses labels; throws with the line number on a malformed row. */
export function parseLabelsCsv(text: string, source = 'labels'): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const lines = text.split(/\r?\n/);
  if (!/^ID,Label$/i.test((lines[0] ?? '').trim())) throw new Error(`${source}: first line must be "ID,Label"`);
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (!line) continue;
    const [key, value] = line.split(',');
    const cut = key?.lastIndexOf('_') ?? -1;
    const label = key?.slice(cut + 1) as Label;
    const id = key?.slice(0, cut);
    const index = LABELS.indexOf(label);
    const v = Number(value);
    if (!id || index < 0 || !(v === 0 || v === 1)) throw new Error(`${source}:${n + 1}: not an RSNA label row: "${line}"`);
    const row = out.get(id) ?? new Array<number>(LABELS.length).fill(Number.NaN);
    row[index] = v;
    out.set(id, row);
  }
  for (const [id, row] of out) {
    if (row.some((v) => Number.isNaN(v))) throw new Error(`${source}: ${id} lacks some of the six labels`);
  }
  return out;
}

export function submissionCsv(rows: Iterable<{ id: string; probabilities: ArrayLike<number> }>): string {
  const lines = ['ID,Label'];
  for (const r of rows) LABELS.forEach((l, i) => lines.push(`${r.id}_${l},${(r.probabilities[i] as number).toPrecision(6)}`));
  return `${lines.join('\n')}\n`;
}
