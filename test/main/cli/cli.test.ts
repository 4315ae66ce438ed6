import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { corpus, CT1_UNC, CT_IMAGE, HAVE_CORPUS, REPO_ROOT, tempDir } from '../../helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());
const dataDir = join(dir.path, 'data');
// No model in this test: the CLI's own behaviour, not inference (test/main/inference covers that).
const noModels = join(dir.path, 'no-models');

function triage(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'triage.mjs'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, TRIAGE_MODELS_DIR: noModels },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!HAVE_CORPUS)('the triage CLI', () => {
  it('import exits 0 when every file is stored, 3 when some were refused', () => {
    const good = join(dir.path, 'good');
    mkdirSync(good);
    copyFileSync(corpus(CT1_UNC), join(good, 'a.dcm'));
    expect(triage('--data-dir', dataDir, '--init', 'import', '--no-models', good).code).toBe(0);

    const mixed = join(dir.path, 'mixed');
    mkdirSync(mixed);
    copyFileSync(corpus(CT_IMAGE), join(mixed, 'b.dcm'));
    copyFileSync(corpus('pydicom-data/MR2_UNCR.dcm'), join(mixed, 'mr.dcm'));
    const r = triage('--data-dir', dataDir, 'import', '--no-models', mixed);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/1 stored.*1 quarantined/s);
    expect(r.stdout).toMatch(/mr\.dcm: Modality is MR, not CT/);
  });

  it('worklist --json carries the study UID, score, per-label probabilities and status', () => {
    const r = triage('--data-dir', dataDir, 'worklist', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { studyUid: string; score: unknown; state: string; reviewStatus: string }[];
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.studyUid).toMatch(/^[\d.]+$/);
      expect(row.score).toBeNull();
      expect(row.state).toBe('awaiting_model');
      expect(row.reviewStatus).toBe('new');
    }
    expect(triage('--data-dir', dataDir, 'worklist').stdout).toMatch(/awaiting model/);
  });

  it('quarantine --json lists path and reason', () => {
    const rows = JSON.parse(triage('--data-dir', dataDir, 'quarantine', '--json').stdout) as { path: string; reason: string }[];
    expect(rows).toEqual([expect.objectContaining({ path: join(dir.path, 'mixed', 'mr.dcm'), reason: 'Modality is MR, not CT' })]);
  });

  it('status --json reports counts and the model state', () => {
    const s = JSON.parse(triage('--data-dir', dataDir, 'status', '--json').stdout) as { counts: Record<string, number>; models: string };
    expect(s.counts.instances).toBe(2);
    expect(s.counts.quarantined).toBe(1);
    expect(typeof s.models).toBe('string');
  });

  it('exits 2 on a usage error and 1 on a missing folder', () => {
    expect(triage('frobnicate').code).toBe(2);
    const missing = triage('--data-dir', dataDir, 'import', '--no-models', join(dir.path, 'no-such-folder'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no-such-folder/);
  });
  it('escapes control characters in file names: a newline cannot forge a line of output', () => {
    const evil = join(dir.path, 'evil');
    mkdirSync(evil);
    const name = 'x.dcm\n2026-01-01 00:00:00  fake-path.dcm  stored fine';
    writeFileSync(join(evil, name), 'not dicom');
    const imp = triage('--data-dir', join(dir.path, 'evil-data'), '--init', 'import', '--no-models', evil);
    expect(imp.stdout).toContain('x.dcm\\n2026-01-01');
    const q = triage('--data-dir', join(dir.path, 'evil-data'), 'quarantine');
    const lines = q.stdout.trim().split('\n');
    expect(lines).toHaveLength(3); // header, rule, one entry
    expect(lines[2]).toContain('x.dcm\\n2026-01-01 00:00:00  fake-path.dcm  stored fine');
    expect(JSON.parse(triage('--data-dir', join(dir.path, 'evil-data'), 'quarantine', '--json').stdout)[0].path).toContain('x.dcm\n');
  });

  it('a re-import names the files an earlier import refused and still exits 3; side files are skipped, not refused', () => {
    const r = triage('--data-dir', dataDir, 'import', '--no-models', join(dir.path, 'mixed'));
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/2 already imported \(1 of them still refused\), 0 quarantined/);
    expect(r.stdout).toMatch(/still refused .*mr\.dcm: Modality is MR, not CT/);

    const side = join(dir.path, 'side');
    mkdirSync(side);
    copyFileSync(corpus(CT1_UNC), join(side, 'slice.dcm'));
    writeFileSync(join(side, 'studies.csv'), 'study,any\n1,0\n');
    writeFileSync(join(side, 'phantom.json'), '{"seed": 1}');
    writeFileSync(join(side, 'masks.npz'), 'PK\u0003\u0004 the lesion masks `generate --masks` and `inserted` write');
    writeFileSync(join(side, 'notes.dcm'), 'not dicom, but it says it is');
    const s = triage('--data-dir', join(dir.path, 'side-data'), '--init', 'import', '--no-models', side);
    expect(s.code).toBe(3); // the .dcm that is not DICOM is still a refusal
    expect(s.stdout).toMatch(/1 quarantined, 0 conflict\(s\), 3 skipped \(not DICOM\)/);
    expect(s.stdout).toMatch(/skipped .*studies\.csv: not DICOM: a \.csv file/);
    const q = JSON.parse(triage('--data-dir', join(dir.path, 'side-data'), 'quarantine', '--json').stdout) as { path: string }[];
    expect(q.map((x) => x.path)).toEqual([join(side, 'notes.dcm')]);
  });
});

describe('the triage CLI without the shared corpus', () => {
  it('import with no model loaded says so and exits 4, unless --no-models', () => {
    const empty = join(dir.path, 'empty-inbox');
    mkdirSync(empty);
    const r = triage('--data-dir', join(dir.path, 'nomodel-data'), '--init', 'import', empty);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/NO MODEL LOADED/);
    expect(triage('--data-dir', join(dir.path, 'nomodel-data'), 'import', '--no-models', empty).code).toBe(0);
  });

  it('never makes a mistyped data folder: import asks for --init, readers refuse, nothing is created', () => {
    const typo = join(dir.path, 'dta');
    const empty = join(dir.path, 'empty-inbox-2');
    mkdirSync(empty);
    const imp = triage('--data-dir', typo, 'import', '--no-models', empty);
    expect(imp.code).toBe(2);
    expect(imp.stderr).toMatch(/data folder .*dta does not exist: check the path, or pass --init/);
    const st = triage('--data-dir', typo, 'status');
    expect(st.code).toBe(2);
    expect(st.stderr).toMatch(/does not exist/);
    expect(existsSync(typo)).toBe(false);
    expect(triage('--data-dir', typo, '--init', 'import', '--no-models', empty).code).toBe(0);
    expect(existsSync(join(typo, 'triage.sqlite'))).toBe(true);
  });
});
